/**
 * Turns a validated OCI spec into the helper's plan: mount options to flags, the cgroup mount to
 * one mount per hierarchy, capability names to masks, rlimit names to numbers, and the monitor
 * settings the caller chose.
 */
import path from 'node:path';
import type { CgroupManager } from '../cgroups/types.js';
import { capabilityMask } from '../spec/capabilities.js';
import { DEFAULT_DEV_SYMLINKS, DEFAULT_DEVICES, RLIMIT_NUMBERS } from '../spec/defaults.js';
import { MS, parseMountOptions, propagationFlags } from '../spec/mount-options.js';
import { compileSeccomp } from '../spec/seccomp.js';
import type { OciMount, OciSpec } from '../spec/types.js';
import type { HelperPlan, PlanDevice, PlanMount, PlanNamespace, PlanProcess } from './plan.js';

export interface MonitorSettings {
  logPath?: string;
  /** Rotation of the log: no file above `size` bytes (0: no limit), `files` files kept. */
  logMax?: { size: number; files: number };
  attachPath?: string;
  fifoPath?: string;
  exitFile?: string;
  /** Where the monitor appends OOM events (needs the cgroup's oomCounter). */
  eventsFile?: string;
  exitCommand?: string[];
  restart?: HelperPlan['restart'];
  health?: HelperPlan['health'];
  pidFile?: string;
  consoleSocket?: string;
  openStdin?: boolean;
  stdinOnce?: boolean;
  /** The container uses the helper's own stdio (gantry-oci without a terminal). */
  passthrough?: boolean;
  foreground?: boolean;
  /** No monitor: the container's init goes to the caller's subreaper (see HelperPlan.handoff). */
  handoff?: boolean;
  hookSync?: boolean;
}

export interface PlanContext {
  /** Directory relative root.path and mount sources resolve against. */
  bundle: string;
  stateDir: string;
  cgroup?: CgroupManager;
  /** When set, the root is an overlay mounted by the helper at root.path with this data. */
  rootOverlay?: { data: string; cwd: string };
  monitor: MonitorSettings;
  stateJson?: string;
  /** The container's process joins a new session keyring of this name (never the caller's). */
  sessionKeyring?: string;
}

const NAMESPACE_NAMES: Record<string, PlanNamespace> = {
  pid: 'pid',
  network: 'net',
  mount: 'mnt',
  ipc: 'ipc',
  uts: 'uts',
  user: 'user',
  cgroup: 'cgroup',
  time: 'time',
};

function newNamespace(spec: OciSpec, type: string): boolean {
  const entry = spec.linux?.namespaces?.find((ns) => ns.type === type);
  return entry !== undefined && (entry.path === undefined || entry.path === '');
}

/** A namespace of that type, new or joined by path. */
function hasNamespace(spec: OciSpec, type: string): boolean {
  return (spec.linux?.namespaces ?? []).some((ns) => ns.type === type);
}

/** Any user namespace, new or joined: the container's root is not the host's. */
function inUserNamespace(spec: OciSpec): boolean {
  return (spec.linux?.namespaces ?? []).some((ns) => ns.type === 'user');
}

/**
 * Whether sysfs can be mounted: only by the owner of the network namespace, so the network
 * namespace must be new. Under a user namespace, new or joined by path, the helper makes the new
 * namespaces inside it (init.c's intermediate process), so that one owns it.
 */
function canMountSysfs(spec: OciSpec): boolean {
  return newNamespace(spec, 'network');
}

function isBind(mount: OciMount): boolean {
  return mount.type === 'bind' || (mount.options ?? []).some((o) => o === 'bind' || o === 'rbind');
}

/**
 * linux.mountLabel as runc applies it (go-selinux's FormatMountLabel): a `context="LABEL"` option
 * on the filesystems the helper mounts anew (tmpfs for /dev, /dev/shm, /run and masked
 * directories, devpts, ...), so everything on them carries the label; never on proc, sysfs or
 * cgroup, which the kernel labels itself, nor on binds, which take no options. mqueue's
 * superblock is its ipc namespace's, labelled already: the helper relabels its root instead.
 */
function labelMount(spec: OciSpec): (mount: PlanMount) => PlanMount {
  const label = spec.linux?.mountLabel;
  const unlabelled = new Set(['bind', 'remount', 'proc', 'sysfs', 'cgroup', 'cgroup2', 'mqueue']);
  return (mount) =>
    !label || unlabelled.has(mount.type) || mount.flags & MS.BIND
      ? mount
      : { ...mount, data: [mount.data, `context="${label}"`].filter(Boolean).join(',') };
}

function expandMount(mount: OciMount, spec: OciSpec, context: PlanContext): PlanMount[] {
  const options = parseMountOptions(mount.options);
  if (mount.type === 'cgroup' || mount.type === 'cgroup2') {
    if (!context.cgroup) return [];
    const base = options.flags & ~MS.RDONLY;
    const readonly = options.flags & MS.RDONLY;
    const mounts = context.cgroup.containerMounts();
    if (mounts.length === 1 && mounts[0]?.type === 'cgroup2' && !newNamespace(spec, 'network')) {
      // Without a network namespace /sys is a bind of the host's, which already has cgroup2 at
      // /sys/fs/cgroup, and a second mount of the same tree there fails (EBUSY). As runc does,
      // bind the container's own cgroup instead: what a cgroup namespace would show.
      const own = path.dirname(context.cgroup.procsFiles()[0] as string);
      return [
        {
          source: own,
          destination: mount.destination,
          type: 'bind',
          flags: options.flags | MS.BIND,
          propagation: 0,
          data: '',
        },
      ];
    }
    if (mounts.length === 1 && mounts[0]?.type === 'cgroup2') {
      return [
        {
          source: 'cgroup',
          destination: mount.destination,
          type: 'cgroup2',
          flags: options.flags,
          propagation: 0,
          data: '',
        },
      ];
    }
    // v1: a tmpfs holding one mount per hierarchy, then the tmpfs itself made read-only. In a
    // new user namespace the kernel refuses to mount a v1 hierarchy (EPERM): as runc, each is the
    // container's own cgroup directory bound from the host's hierarchy instead.
    const ownDirs = inUserNamespace(spec) ? context.cgroup.procsFiles().map((f) => path.dirname(f)) : [];
    const planned: PlanMount[] = [
      {
        source: 'tmpfs',
        destination: mount.destination,
        type: 'tmpfs',
        flags: base,
        propagation: 0,
        data: 'mode=755',
      },
    ];
    for (const [index, hierarchy] of mounts.entries()) {
      const destination = path.posix.join(mount.destination, path.posix.basename(hierarchy.destination));
      const own = ownDirs.length === mounts.length ? ownDirs[index] : undefined;
      planned.push(
        own !== undefined || hierarchy.type === 'bind'
          ? {
              source: own ?? hierarchy.source,
              destination,
              type: 'bind',
              flags: options.flags | MS.BIND | MS.REC,
              propagation: 0,
              data: '',
            }
          : {
              source: hierarchy.type,
              destination,
              type: hierarchy.type,
              flags: options.flags,
              propagation: 0,
              data: hierarchy.options.join(','),
            },
      );
    }
    if (readonly)
      planned.push({
        source: 'none',
        destination: mount.destination,
        type: 'remount',
        flags: options.flags,
        propagation: 0,
        data: '',
      });
    return planned;
  }
  if (mount.type === 'sysfs' && !canMountSysfs(spec)) {
    // sysfs can only be mounted by the owner of the network namespace; runc binds the host's.
    return [
      {
        source: '/sys',
        destination: mount.destination,
        type: 'bind',
        flags: options.flags | MS.BIND | MS.REC,
        propagation: 0,
        data: '',
      },
    ];
  }
  if (isBind(mount)) {
    const source = path.resolve(context.bundle, mount.source ?? '');
    return [
      {
        source,
        destination: mount.destination,
        type: 'bind',
        flags: options.flags,
        propagation: options.propagation,
        data: '',
        ...(options.recursive ? { recursive: options.recursive } : {}),
      },
    ];
  }
  return [
    {
      source: mount.source ?? mount.type ?? 'none',
      destination: mount.destination,
      type: mount.type ?? 'none',
      flags: options.flags,
      propagation: options.propagation,
      data: options.data.join(','),
      ...(options.recursive ? { recursive: options.recursive } : {}),
      ...(options.copyUp ? { copyUp: true } : {}),
    },
  ];
}

/**
 * The device nodes of the container's /dev. In a user namespace mknod is refused (EPERM): as
 * runc, each is the host's node of the same path bound onto an empty file instead (the helper
 * checks that it is the node the spec names).
 */
function devices(spec: OciSpec): PlanDevice[] {
  const nodes = deviceNodes(spec);
  return inUserNamespace(spec) ? nodes.map((node) => ({ ...node, bindFrom: node.path })) : nodes;
}

function deviceNodes(spec: OciSpec): PlanDevice[] {
  const given = (spec.linux?.devices ?? []).map((d): PlanDevice => ({
    path: d.path,
    type: d.type === 'u' ? 'c' : d.type,
    major: d.major ?? 0,
    minor: d.minor ?? 0,
    mode: d.fileMode ?? 0o666,
    uid: d.uid ?? 0,
    gid: d.gid ?? 0,
  }));
  const paths = new Set(given.map((d) => d.path));
  const defaults = DEFAULT_DEVICES.filter((d) => !paths.has(d.path)).map((d): PlanDevice => ({
    path: d.path,
    type: d.type === 'u' ? 'c' : d.type,
    major: d.major,
    minor: d.minor,
    mode: d.fileMode,
    uid: d.uid,
    gid: d.gid,
  }));
  return [...defaults, ...given];
}

export function planFromSpec(spec: OciSpec, context: PlanContext): HelperPlan {
  const proc = spec.process!;
  const rootfs = path.resolve(context.bundle, spec.root!.path);
  const namespaces = (spec.linux?.namespaces ?? []).map((ns) => {
    const type = NAMESPACE_NAMES[ns.type]!;
    return ns.path ? { type, path: ns.path } : { type };
  });
  // Without a mount namespace the process inherits ours, root filesystem included, as runc's:
  // no root change and no mounts (they would be the host's).
  const ownMounts = hasNamespace(spec, 'mount');
  const mounts = ownMounts
    ? (spec.mounts ?? []).flatMap((mount) => expandMount(mount, spec, context)).map(labelMount(spec))
    : [];
  const isDev = (m: OciMount) => path.posix.resolve('/', m.destination) === '/dev';
  // As runc: devices and /dev symlinks go into a /dev of our own tmpfs, never into a /dev that
  // is bind-mounted (a shared volume another container may be rewriting meanwhile).
  const devTmpfs =
    ownMounts &&
    (spec.mounts ?? []).some((m) => isDev(m) && m.type === 'tmpfs') &&
    !(spec.mounts ?? []).some((m) => isDev(m) && isBind(m));
  const rootPropagation = propagationFlags(spec.linux?.rootfsPropagation);
  const terminal = proc.terminal === true;
  return {
    mode: 'init',
    stateDir: context.stateDir,
    ...context.monitor,
    terminal,
    ...(terminal && proc.consoleSize
      ? { consoleSize: { rows: proc.consoleSize.height, cols: proc.consoleSize.width } }
      : {}),
    ...(context.cgroup?.oomCounter() ? { oomCounter: context.cgroup.oomCounter()! } : {}),
    namespaces,
    ...(context.sessionKeyring ? { sessionKeyring: context.sessionKeyring } : {}),
    uidMappings: spec.linux?.uidMappings ?? [],
    gidMappings: spec.linux?.gidMappings ?? [],
    setgroupsDeny: false,
    cgroupProcs: context.cgroup?.procsFiles() ?? [],
    ...(ownMounts ? { rootfs } : {}),
    ...(context.rootOverlay ? { rootOverlay: context.rootOverlay } : {}),
    // Only what the spec asks for: the helper makes the new mount namespace rslave before the
    // mounts by itself, and applies an asked-for propagation to "/" again after pivot_root, as
    // runc does; a default applied there too (recursively) undid a bind's rshared.
    ...(rootPropagation === undefined ? {} : { rootPropagation }),
    rootReadonly: spec.root?.readonly === true,
    mounts,
    devices: devTmpfs ? devices(spec) : [],
    symlinks: devTmpfs ? [...DEFAULT_DEV_SYMLINKS] : [],
    mkdirs: [],
    maskedPaths: spec.linux?.maskedPaths ?? [],
    readonlyPaths: spec.linux?.readonlyPaths ?? [],
    ...(ownMounts && spec.linux?.mountLabel ? { mountLabel: spec.linux.mountLabel } : {}),
    sysctl: spec.linux?.sysctl ?? {},
    ...(spec.hostname && hasNamespace(spec, 'uts') ? { hostname: spec.hostname } : {}),
    ...(spec.domainname && hasNamespace(spec, 'uts') ? { domainname: spec.domainname } : {}),
    loopback: newNamespace(spec, 'network'),
    hooks: [
      ...(spec.hooks?.createContainer ?? []).map((h) => ({
        stage: 'createContainer' as const,
        path: h.path,
        args: h.args ?? [],
        env: h.env ?? [],
        timeout: h.timeout ?? 0,
      })),
      ...(spec.hooks?.startContainer ?? []).map((h) => ({
        stage: 'startContainer' as const,
        path: h.path,
        args: h.args ?? [],
        env: h.env ?? [],
        timeout: h.timeout ?? 0,
      })),
    ],
    ...(context.stateJson !== undefined ? { stateJson: context.stateJson } : {}),
    process: processFromSpec(spec),
  };
}

/** The process part of a plan: identity, limits, capabilities, seccomp, and what to exec. */
export function processFromSpec(spec: OciSpec): PlanProcess {
  const proc = spec.process!;
  const caps = proc.capabilities;
  const program = spec.linux?.seccomp ? compileSeccomp(spec.linux.seccomp) : undefined;
  return {
    args: proc.args,
    env: proc.env ?? [],
    cwd: proc.cwd,
    uid: proc.user.uid,
    gid: proc.user.gid,
    additionalGids: proc.user.additionalGids ?? [],
    ...(proc.user.umask !== undefined ? { umask: proc.user.umask } : {}),
    rlimits: (proc.rlimits ?? []).map((r) => ({
      resource: RLIMIT_NUMBERS[r.type]!,
      soft: r.soft >= Number.MAX_SAFE_INTEGER ? undefined : r.soft,
      hard: r.hard >= Number.MAX_SAFE_INTEGER ? undefined : r.hard,
    })),
    ...(caps
      ? {
          capabilities: {
            bounding: capabilityMask(caps.bounding),
            effective: capabilityMask(caps.effective),
            permitted: capabilityMask(caps.permitted),
            inheritable: capabilityMask(caps.inheritable),
            ambient: capabilityMask(caps.ambient),
          },
        }
      : {}),
    noNewPrivileges: proc.noNewPrivileges === true,
    ...(proc.oomScoreAdj !== undefined ? { oomScoreAdj: proc.oomScoreAdj } : {}),
    ...(program ? { seccomp: program } : {}),
    ...(proc.apparmorProfile ? { apparmorProfile: proc.apparmorProfile } : {}),
    ...(proc.selinuxLabel ? { selinuxLabel: proc.selinuxLabel } : {}),
  };
}

/** The session keyring of a container, as runc names it: its init joins it, and so does every exec. */
export function sessionKeyringName(containerId: string): string {
  return `_ses.${containerId}`;
}

export interface ExecContext {
  /** Paths of the namespaces to join (/proc/PID/ns/...), in the order to join them. */
  namespaces: { type: PlanNamespace; path: string }[];
  /** The container's session keyring, joined by name; none: the caller's is kept (--no-new-keyring). */
  sessionKeyring?: string;
  cgroupProcs: string[];
  detach: boolean;
  /** Relay the caller's stdin to the process (exec -i); without, the process reads EOF. */
  interactive?: boolean;
}

/** A plan for `exec`: join a running container and run the spec's process with its settings. */
export function execPlanFromSpec(spec: OciSpec, context: ExecContext): HelperPlan {
  return {
    mode: 'exec',
    namespaces: context.namespaces,
    ...(context.sessionKeyring ? { sessionKeyring: context.sessionKeyring } : {}),
    cgroupProcs: context.cgroupProcs,
    terminal: spec.process?.terminal === true,
    // The pty's first size (the caller's terminal is not the helper's to read with pipes).
    ...(spec.process?.terminal === true && spec.process.consoleSize
      ? { consoleSize: { rows: spec.process.consoleSize.height, cols: spec.process.consoleSize.width } }
      : {}),
    detach: context.detach,
    openStdin: context.interactive === true && !context.detach,
    mounts: [],
    devices: [],
    symlinks: [],
    mkdirs: [],
    maskedPaths: [],
    readonlyPaths: [],
    sysctl: {},
    hooks: [],
    process: processFromSpec(spec),
  };
}
