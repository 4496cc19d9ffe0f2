/**
 * Finds how the host mounts cgroups: per-controller v1 hierarchies, one v2 unified tree, or both
 * (hybrid). Read from mountinfo once per root and cached; tests pass their own mountinfo text or
 * a fake tree, never the host's.
 */
import fs from 'node:fs';
import path from 'node:path';
import { UnsupportedError } from '../errors.js';

export const DEFAULT_CGROUP_ROOT = '/sys/fs/cgroup';

/** v1 controllers the kernel can bind to a hierarchy (mount options that are not controllers are ignored). */
export const V1_CONTROLLERS = [
  'cpuset',
  'cpu',
  'cpuacct',
  'blkio',
  'memory',
  'devices',
  'freezer',
  'net_cls',
  'perf_event',
  'net_prio',
  'hugetlb',
  'pids',
  'rdma',
  'misc',
  'debug',
] as const;

export type V1Controller = (typeof V1_CONTROLLERS)[number];

export interface V1Hierarchy {
  /** Where the hierarchy is mounted, e.g. "/sys/fs/cgroup/cpu,cpuacct". */
  mountPoint: string;
  /** Controllers bound to it, as in the mount options: ["cpu", "cpuacct"] or ["name=systemd"]. */
  controllers: string[];
}

export interface UnifiedHierarchy {
  mountPoint: string;
  /** Controllers the root offers (its cgroup.controllers). */
  controllers: string[];
}

export interface CgroupLayout {
  /** What is mounted: only v1, only v2, or v1 plus a cgroup2 tree (systemd's hybrid). */
  kind: 'v1' | 'v2' | 'hybrid';
  /** Which driver Gantry uses on this layout. */
  driver: 1 | 2;
  hierarchies: V1Hierarchy[];
  unified?: UnifiedHierarchy;
}

export interface MountinfoEntry {
  root: string;
  mountPoint: string;
  fsType: string;
  superOptions: string[];
}

/** mountinfo escapes space, tab, newline and backslash as octal. */
function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_match, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

export function parseMountinfo(text: string): MountinfoEntry[] {
  const entries: MountinfoEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const fields = line.split(' ');
    const separator = fields.indexOf('-', 6);
    if (separator < 0 || fields.length < separator + 4) continue;
    entries.push({
      root: unescapeMountField(fields[3] ?? ''),
      mountPoint: unescapeMountField(fields[4] ?? ''),
      fsType: fields[separator + 1] ?? '',
      superOptions: (fields[separator + 3] ?? '').split(','),
    });
  }
  return entries;
}

function isUnder(child: string, parent: string): boolean {
  const relative = path.relative(parent, child);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

function v1ControllersOf(options: string[]): string[] {
  const known = new Set<string>(V1_CONTROLLERS);
  return options.filter((option) => known.has(option) || option.startsWith('name='));
}

function readControllersFile(file: string): string[] {
  try {
    return fs.readFileSync(file, 'utf8').trim().split(/\s+/).filter(Boolean);
  } catch {
    return [];
  }
}

function chooseLayout(hierarchies: V1Hierarchy[], unified: UnifiedHierarchy | undefined): CgroupLayout {
  const hasV1Controllers = hierarchies.some((h) => h.controllers.some((c) => !c.startsWith('name=')));
  if (hierarchies.length === 0 && unified) return { kind: 'v2', driver: 2, hierarchies, unified };
  if (hierarchies.length > 0 && !unified) return { kind: 'v1', driver: 1, hierarchies };
  if (hierarchies.length > 0 && unified) {
    // A controller is bound to one version at a time. When v1 holds the controllers (systemd's
    // hybrid: the cgroup2 tree offers little or nothing), limits can only be set through v1.
    const driver = hasV1Controllers || unified.controllers.length === 0 ? 1 : 2;
    return { kind: 'hybrid', driver, hierarchies, unified };
  }
  throw new UnsupportedError('no cgroup filesystem is mounted', {
    hint: 'mount cgroup2 at /sys/fs/cgroup (or the v1 hierarchies) before running containers',
  });
}

export interface DetectOptions {
  /** Mount point of the cgroup filesystems; only mounts under it count. */
  cgroupRoot?: string;
  /** mountinfo text to read instead of /proc/self/mountinfo. */
  mountinfo?: string;
}

/**
 * Layout from mountinfo: the hierarchies mounted under `cgroupRoot`, plus (for the v1 driver)
 * v1 hierarchies mounted anywhere else. When nothing in mountinfo lies under `cgroupRoot` (a
 * fake tree in a temp dir), the tree itself is read instead: a cgroup.controllers file at the root means v2;
 * each subdirectory with a cgroup.procs file is a v1 hierarchy named after its controllers
 * ("cpu,cpuacct"); a "unified" subdirectory with cgroup.controllers makes it hybrid.
 */
export function detectCgroupLayout(options: DetectOptions = {}): CgroupLayout {
  const cgroupRoot = path.resolve(options.cgroupRoot ?? DEFAULT_CGROUP_ROOT);
  const mountinfo = options.mountinfo ?? fs.readFileSync('/proc/self/mountinfo', 'utf8');
  const hierarchies: V1Hierarchy[] = [];
  let unified: UnifiedHierarchy | undefined;
  const seen = new Set<string>();
  const entries = parseMountinfo(mountinfo);
  const elsewhere: V1Hierarchy[] = [];
  for (const entry of entries) {
    if (entry.fsType === 'cgroup') {
      const controllers = v1ControllersOf(entry.superOptions);
      const key = controllers.join(',');
      // A hierarchy bind-mounted twice is one hierarchy; keep the first mount of its root
      // (under cgroupRoot before any other place).
      if (controllers.length === 0 || entry.root !== '/') continue;
      if (!isUnder(entry.mountPoint, cgroupRoot)) {
        elsewhere.push({ mountPoint: entry.mountPoint, controllers });
        continue;
      }
      if (seen.has(key)) continue;
      seen.add(key);
      hierarchies.push({ mountPoint: entry.mountPoint, controllers });
    } else if (
      entry.fsType === 'cgroup2' &&
      !unified &&
      entry.root === '/' &&
      isUnder(entry.mountPoint, cgroupRoot)
    ) {
      unified = {
        mountPoint: entry.mountPoint,
        controllers: readControllersFile(path.join(entry.mountPoint, 'cgroup.controllers')),
      };
    }
  }
  if (hierarchies.length === 0 && !unified && options.mountinfo === undefined) {
    return detectFromTree(cgroupRoot);
  }
  const layout = chooseLayout(hierarchies, unified);
  if (layout.driver === 1) {
    // A v1 hierarchy mounted outside cgroupRoot (net_cls,net_prio mounted by hand, perhaps in a
    // private mount namespace) is used where mountinfo says it is, unless it is one already found.
    for (const hierarchy of elsewhere) {
      const key = hierarchy.controllers.join(',');
      if (seen.has(key)) continue;
      seen.add(key);
      layout.hierarchies.push(hierarchy);
    }
  }
  return layout;
}

/** Layout of a fake tree that is not a mount (see detectCgroupLayout). */
export function detectFromTree(cgroupRoot: string): CgroupLayout {
  if (fs.existsSync(path.join(cgroupRoot, 'cgroup.controllers'))) {
    return chooseLayout([], {
      mountPoint: cgroupRoot,
      controllers: readControllersFile(path.join(cgroupRoot, 'cgroup.controllers')),
    });
  }
  const hierarchies: V1Hierarchy[] = [];
  let unified: UnifiedHierarchy | undefined;
  let names: string[] = [];
  try {
    names = fs.readdirSync(cgroupRoot).sort();
  } catch {
    // no such tree: chooseLayout reports that nothing is mounted
  }
  for (const name of names) {
    const mountPoint = path.join(cgroupRoot, name);
    if (fs.existsSync(path.join(mountPoint, 'cgroup.controllers'))) {
      unified = { mountPoint, controllers: readControllersFile(path.join(mountPoint, 'cgroup.controllers')) };
    } else if (
      fs.existsSync(path.join(mountPoint, 'cgroup.procs')) &&
      !fs.lstatSync(mountPoint).isSymbolicLink()
    ) {
      const controllers = name === 'systemd' ? ['name=systemd'] : v1ControllersOf(name.split(','));
      if (controllers.length > 0) hierarchies.push({ mountPoint, controllers });
    }
  }
  return chooseLayout(hierarchies, unified);
}

const layoutCache = new Map<string, CgroupLayout>();

/** detectCgroupLayout for the host, read once per root per process. */
export function hostCgroupLayout(cgroupRoot = DEFAULT_CGROUP_ROOT): CgroupLayout {
  const key = path.resolve(cgroupRoot);
  let layout = layoutCache.get(key);
  if (!layout) {
    layout = detectCgroupLayout({ cgroupRoot: key });
    layoutCache.set(key, layout);
  }
  return layout;
}

/** The hierarchy a v1 controller is bound to, if mounted. */
export function hierarchyOf(layout: CgroupLayout, controller: string): V1Hierarchy | undefined {
  return layout.hierarchies.find((h) => h.controllers.includes(controller));
}
