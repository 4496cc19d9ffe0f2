/**
 * A fake cgroupfs in a temp dir, for unit tests of the real drivers. New directories get the
 * files (and default contents) the kernel would create, and writes to the files whose kernel
 * semantics are more than "replace the content" behave as the kernel's do: devices.allow/deny
 * edit devices.list, per-device files merge by device, cgroup.subtree_control adds controllers
 * to children, cgroup.freeze and freezer.state settle after a delay. Every write is logged, and
 * a test can make the "kernel" refuse a value.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import path from 'node:path';
import { SyscallError } from '../../../source/runtime/errors.js';
import { hostCgroupFs, type CgroupFs } from '../../../source/runtime/cgroups/fs.js';

const UNLIMITED = '9223372036854771712';

type Files = Record<string, string>;

const V1_FILES: Record<string, (root: boolean) => Files> = {
  cpu: () => ({
    'cpu.shares': '1024\n',
    'cpu.cfs_period_us': '100000\n',
    'cpu.cfs_quota_us': '-1\n',
    'cpu.stat': 'nr_periods 0\nnr_throttled 0\nthrottled_time 0\n',
  }),
  cpuacct: () => ({ 'cpuacct.usage': '0\n', 'cpuacct.stat': 'user 0\nsystem 0\n' }),
  cpuset: (root) => ({
    'cpuset.cpus': root ? '0-3\n' : '\n',
    'cpuset.mems': root ? '0\n' : '\n',
    'cpuset.effective_cpus': root ? '0-3\n' : '\n',
    'cpuset.effective_mems': root ? '0\n' : '\n',
  }),
  memory: () => ({
    'memory.limit_in_bytes': `${UNLIMITED}\n`,
    'memory.soft_limit_in_bytes': `${UNLIMITED}\n`,
    'memory.memsw.limit_in_bytes': `${UNLIMITED}\n`,
    'memory.kmem.limit_in_bytes': `${UNLIMITED}\n`,
    'memory.usage_in_bytes': '0\n',
    'memory.max_usage_in_bytes': '0\n',
    'memory.memsw.usage_in_bytes': '0\n',
    'memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 0\n',
    'memory.stat': `cache 0\nrss 0\ntotal_cache 0\ntotal_rss 0\ntotal_inactive_file 0\nhierarchical_memory_limit ${UNLIMITED}\n`,
  }),
  devices: () => ({ 'devices.allow': '', 'devices.deny': '', 'devices.list': 'a *:* rwm\n' }),
  freezer: (root): Files =>
    root
      ? {}
      : { 'freezer.state': 'THAWED\n', 'freezer.self_freezing': '0\n', 'freezer.parent_freezing': '0\n' },
  blkio: () => ({
    'blkio.weight': '500\n',
    'blkio.weight_device': '',
    'blkio.throttle.read_bps_device': '',
    'blkio.throttle.write_bps_device': '',
    'blkio.throttle.read_iops_device': '',
    'blkio.throttle.write_iops_device': '',
    'blkio.throttle.io_service_bytes': 'Total 0\n',
    'blkio.throttle.io_serviced': 'Total 0\n',
  }),
  pids: (root): Files => (root ? {} : { 'pids.max': 'max\n', 'pids.current': '0\n' }),
  net_cls: () => ({ 'net_cls.classid': '0\n' }),
  net_prio: () => ({ 'net_prio.ifpriomap': 'lo 0\neth0 0\n', 'net_prio.prioidx': '1\n' }),
  hugetlb: () => ({
    'hugetlb.2MB.limit_in_bytes': `${UNLIMITED}\n`,
    'hugetlb.1GB.limit_in_bytes': `${UNLIMITED}\n`,
  }),
  'name=systemd': () => ({}),
};

const V2_FILES: Record<string, Files> = {
  memory: {
    'memory.max': 'max\n',
    'memory.low': '0\n',
    'memory.high': 'max\n',
    'memory.swap.max': 'max\n',
    'memory.current': '0\n',
    'memory.swap.current': '0\n',
    'memory.peak': '0\n',
    'memory.stat': 'anon 0\nfile 0\ninactive_file 0\n',
    'memory.events': 'low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n',
  },
  cpu: { 'cpu.weight': '100\n', 'cpu.max': 'max 100000\n' },
  cpuset: {
    'cpuset.cpus': '\n',
    'cpuset.mems': '\n',
    'cpuset.cpus.effective': '0-3\n',
    'cpuset.mems.effective': '0\n',
  },
  io: { 'io.max': '', 'io.weight': 'default 100\n', 'io.stat': '' },
  pids: { 'pids.max': 'max\n', 'pids.current': '0\n' },
  hugetlb: { 'hugetlb.2MB.max': 'max\n', 'hugetlb.1GB.max': 'max\n' },
};

const V2_CORE: Files = {
  'cgroup.procs': '',
  'cgroup.subtree_control': '\n',
  'cgroup.events': 'populated 0\nfrozen 0\n',
  'cgroup.freeze': '0\n',
  'cgroup.type': 'domain\n',
  'cpu.stat': 'usage_usec 0\nuser_usec 0\nsystem_usec 0\n',
  'cpu.pressure':
    'some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n',
  'memory.pressure':
    'some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n',
  'io.pressure':
    'some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n',
};

/** Replaces a file by rename, so a reader racing a settle timer sees old or new, never a mix. */
function replaceFile(file: string, content: string): void {
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, content);
  fs.renameSync(temporary, file);
}

async function writeFiles(dir: string, files: Files): Promise<void> {
  for (const [name, content] of Object.entries(files)) await fsp.writeFile(path.join(dir, name), content);
}

export interface FakeV1Options {
  /** Hierarchies as mounted, e.g. [["cpu","cpuacct"], ["memory"]]; default: this machine's. */
  hierarchies?: string[][];
  /** Files the "kernel" lacks (removed from every new dir), e.g. "memory.kmem.limit_in_bytes". */
  missing?: string[];
  /** A cgroup2 "unified" dir beside the v1 hierarchies (hybrid). */
  unified?: boolean;
}

export const MACHINE_V1_HIERARCHIES = [
  ['cpu'],
  ['cpuacct'],
  ['cpuset'],
  ['memory'],
  ['devices'],
  ['freezer'],
  ['blkio'],
  ['pids'],
  ['name=systemd'],
];

export interface Refusal {
  file: RegExp;
  code: string;
  when?: (value: string) => boolean;
}

export class FakeCgroupFs implements CgroupFs {
  /** Every write, with the path relative to the tree root. */
  readonly writes: Array<{ file: string; data: string }> = [];
  private readonly refusals: Refusal[] = [];
  private readonly ignored: RegExp[] = [];
  private readonly marked = new Set<string>();
  /** How long a freeze takes to settle (cgroup.events / freezer.state). */
  freezeDelayMs = 20;
  /** Whether the v1 freezer ever leaves FREEZING (to test the timeout). */
  freezerSticks = false;

  private constructor(
    readonly root: string,
    readonly version: 1 | 2,
    private readonly v1Controllers: Map<string, string[]>,
    private readonly missing: Set<string>,
  ) {}

  static async v1(root: string, options: FakeV1Options = {}): Promise<FakeCgroupFs> {
    const hierarchies = options.hierarchies ?? MACHINE_V1_HIERARCHIES;
    const byDir = new Map<string, string[]>();
    for (const controllers of hierarchies) {
      const name = controllers[0] === 'name=systemd' ? 'systemd' : controllers.join(',');
      const dir = path.join(root, name);
      await fsp.mkdir(dir, { recursive: true });
      byDir.set(name, controllers);
      await writeFiles(dir, { 'cgroup.procs': '', tasks: '', 'cgroup.clone_children': '0\n' });
      for (const controller of controllers) await writeFiles(dir, V1_FILES[controller]?.(true) ?? {});
    }
    if (options.unified) {
      await fsp.mkdir(path.join(root, 'unified'), { recursive: true });
      await writeFiles(path.join(root, 'unified'), { ...V2_CORE, 'cgroup.controllers': '\n' });
    }
    const fake = new FakeCgroupFs(root, 1, byDir, new Set(options.missing ?? []));
    for (const name of fake.missing) {
      for (const dir of byDir.keys()) await fsp.rm(path.join(root, dir, name), { force: true });
    }
    return fake;
  }

  static async v2(
    root: string,
    controllers = ['cpuset', 'cpu', 'io', 'memory', 'hugetlb', 'pids'],
    missing: string[] = [],
  ): Promise<FakeCgroupFs> {
    await fsp.mkdir(root, { recursive: true });
    await writeFiles(root, { ...V2_CORE, 'cgroup.controllers': `${controllers.join(' ')}\n` });
    // The root has no cgroup.freeze/events or type of its own, and no per-controller interface
    // files.
    await fsp.rm(path.join(root, 'cgroup.freeze'));
    await fsp.rm(path.join(root, 'cgroup.type'));
    return new FakeCgroupFs(root, 2, new Map(), new Set(missing));
  }

  relative(file: string): string {
    return path.relative(this.root, file);
  }

  /** Makes the "kernel" refuse writes to matching files (optionally only some values). */
  refuse(file: RegExp, code: string, when?: (value: string) => boolean): void {
    this.refusals.push(when ? { file, code, when } : { file, code });
  }

  /** Makes the "kernel" accept writes to matching files but keep the old content. */
  ignore(file: RegExp): void {
    this.ignored.push(file);
  }

  clearRefusals(): void {
    this.refusals.length = 0;
  }

  async readText(relativePath: string): Promise<string> {
    return fsp.readFile(path.join(this.root, relativePath), 'utf8');
  }

  async setText(relativePath: string, content: string): Promise<void> {
    await fsp.writeFile(path.join(this.root, relativePath), content);
  }

  writesTo(pattern: RegExp): string[] {
    return this.writes.filter((w) => pattern.test(w.file)).map((w) => w.data);
  }

  private fail(code: string, file: string): never {
    throw new SyscallError(
      'write',
      osConstants.errno[code as keyof typeof osConstants.errno] ?? 22,
      code,
      file,
    );
  }

  async readFile(file: string): Promise<string> {
    return hostCgroupFs.readFile(file);
  }

  async writeFile(file: string, data: string): Promise<void> {
    const relativePath = this.relative(file);
    this.writes.push({ file: relativePath, data });
    for (const refusal of this.refusals) {
      if (refusal.file.test(relativePath) && (!refusal.when || refusal.when(data)))
        this.fail(refusal.code, file);
    }
    if (!fs.existsSync(file)) this.fail('ENOENT', file);
    if (this.ignored.some((pattern) => pattern.test(relativePath))) return;
    const name = path.basename(file);
    const dir = path.dirname(file);
    if (name === 'devices.allow' || name === 'devices.deny')
      return this.writeDevices(dir, name === 'devices.allow', data.trim());
    if (name === 'cgroup.procs') return this.moveProcess(dir, data.trim());
    if (name === 'cgroup.subtree_control') return this.writeSubtreeControl(file, data.trim());
    if (name === 'cgroup.freeze') return this.writeFreeze(dir, data.trim());
    if (name === 'freezer.state') return this.writeFreezerState(file, data.trim());
    if (name === 'io.max') return this.mergeIoMax(file, data.trim());
    // BFQ resets every per-device weight when the default one changes.
    if (name === 'io.bfq.weight' && data.trim().startsWith('default '))
      return hostCgroupFs.writeFile(file, `${data.trim()}\n`);
    if (/_device$|ifpriomap$|^io\.(bfq\.)?weight$|weight_device$/.test(name))
      return this.mergeKeyed(file, data.trim());
    if (name === 'memory.limit_in_bytes' || name === 'memory.memsw.limit_in_bytes') {
      return hostCgroupFs.writeFile(file, `${data.trim() === '-1' ? UNLIMITED : data.trim()}\n`);
    }
    return hostCgroupFs.writeFile(file, data.endsWith('\n') ? data : `${data}\n`);
  }

  private async writeDevices(dir: string, allow: boolean, rule: string): Promise<void> {
    const listFile = path.join(dir, 'devices.list');
    const list = (await fsp.readFile(listFile, 'utf8')).split('\n').filter(Boolean);
    let next: string[];
    if (rule === 'a' || rule.startsWith('a ')) next = allow ? ['a *:* rwm'] : [];
    else if (allow) next = list.includes(rule) ? list : [...list.filter((l) => l !== 'a *:* rwm'), rule];
    else next = list.filter((line) => line !== rule);
    await fsp.writeFile(listFile, next.map((line) => `${line}\n`).join(''));
  }

  /** Whether `dir` is a non-root v2 cgroup (the root alone has no cgroup.type). */
  private isV2NonRoot(dir: string): boolean {
    return this.version === 2 && fs.existsSync(path.join(dir, 'cgroup.type'));
  }

  private procsOf(dir: string): string[] {
    return fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean);
  }

  /**
   * A pid written to cgroup.procs leaves the cgroup it was in (v2: one cgroup per process). As
   * the kernel, v2 refuses a process in a cgroup (not the root) that gives controllers to children.
   */
  private async moveProcess(dir: string, pid: string): Promise<void> {
    if (this.version === 2) {
      const subtree = fs.readFileSync(path.join(dir, 'cgroup.subtree_control'), 'utf8').trim();
      if (this.isV2NonRoot(dir) && subtree !== '') this.fail('EBUSY', path.join(dir, 'cgroup.procs'));
      const walk = (where: string): void => {
        const procs = path.join(where, 'cgroup.procs');
        if (fs.existsSync(procs) && this.procsOf(where).includes(pid))
          fs.writeFileSync(
            procs,
            this.procsOf(where)
              .filter((p) => p !== pid)
              .map((p) => `${p}\n`)
              .join(''),
          );
        for (const entry of fs.readdirSync(where, { withFileTypes: true }))
          if (entry.isDirectory()) walk(path.join(where, entry.name));
      };
      walk(this.root);
    }
    await fsp.appendFile(path.join(dir, 'cgroup.procs'), `${pid}\n`);
  }

  private async writeSubtreeControl(file: string, data: string): Promise<void> {
    const dir = path.dirname(file);
    if (this.isV2NonRoot(dir) && data.includes('+') && this.procsOf(dir).length > 0) this.fail('EBUSY', file);
    const available = (await fsp.readFile(path.join(dir, 'cgroup.controllers'), 'utf8')).trim().split(/\s+/);
    const enabled = new Set((await fsp.readFile(file, 'utf8')).trim().split(/\s+/).filter(Boolean));
    for (const token of data.split(/\s+/)) {
      const controller = token.slice(1);
      if (!available.includes(controller)) this.fail('ENOENT', file);
      if (token.startsWith('+')) enabled.add(controller);
      else enabled.delete(controller);
    }
    await fsp.writeFile(file, `${[...enabled].join(' ')}\n`);
  }

  private async writeFreeze(dir: string, value: string): Promise<void> {
    replaceFile(path.join(dir, 'cgroup.freeze'), `${value}\n`);
    setTimeout(() => {
      if (fs.existsSync(dir))
        replaceFile(path.join(dir, 'cgroup.events'), `populated 1\nfrozen ${value === '1' ? 1 : 0}\n`);
    }, this.freezeDelayMs);
  }

  private async writeFreezerState(file: string, value: string): Promise<void> {
    const dir = path.dirname(file);
    if (value === 'THAWED') {
      replaceFile(file, 'THAWED\n');
      replaceFile(path.join(dir, 'freezer.self_freezing'), '0\n');
      return;
    }
    if (fs.readFileSync(file, 'utf8').trim() === 'FROZEN') return;
    replaceFile(file, 'FREEZING\n');
    replaceFile(path.join(dir, 'freezer.self_freezing'), '1\n');
    if (this.freezerSticks) return;
    setTimeout(() => {
      if (fs.existsSync(file) && fs.readFileSync(file, 'utf8').trim() === 'FREEZING')
        replaceFile(file, 'FROZEN\n');
    }, this.freezeDelayMs);
  }

  /** "MAJ:MIN value" / "iface prio" lines: replace the key's line; value 0 removes a throttle. */
  private async mergeKeyed(file: string, data: string): Promise<void> {
    const [key, value] = data.split(/\s+/);
    const lines = (await fsp.readFile(file, 'utf8')).split('\n').filter(Boolean);
    const rest = lines.filter((line) => line.split(/\s+/)[0] !== key);
    const removes = /_device$/.test(file) && value === '0' && !file.endsWith('weight_device');
    const next = removes ? rest : [...rest, `${key} ${value}`];
    await fsp.writeFile(file, next.map((line) => `${line}\n`).join(''));
  }

  /** io.max: keys of a device merge; a device whose limits are all "max" disappears. */
  private async mergeIoMax(file: string, data: string): Promise<void> {
    const [device, ...pairs] = data.split(/\s+/);
    const lines = (await fsp.readFile(file, 'utf8')).split('\n').filter(Boolean);
    const limits = new Map<string, string>([
      ['rbps', 'max'],
      ['wbps', 'max'],
      ['riops', 'max'],
      ['wiops', 'max'],
    ]);
    const existing = lines.find((line) => line.startsWith(`${device} `));
    for (const pair of existing?.split(/\s+/).slice(1) ?? []) {
      const [key, value] = pair.split('=') as [string, string];
      limits.set(key, value);
    }
    for (const pair of pairs) {
      const [key, value] = pair.split('=') as [string, string];
      if (!limits.has(key)) this.fail('EINVAL', file);
      limits.set(key, value);
    }
    const rest = lines.filter((line) => !line.startsWith(`${device} `));
    const allMax = [...limits.values()].every((value) => value === 'max');
    const line = `${device} ${[...limits].map(([key, value]) => `${key}=${value}`).join(' ')}`;
    await fsp.writeFile(file, [...rest, ...(allMax ? [] : [line])].map((l) => `${l}\n`).join(''));
  }

  async mkdir(dir: string): Promise<boolean> {
    const created = await hostCgroupFs.mkdir(dir);
    if (!created) return false;
    if (this.version === 2 || this.relative(dir).startsWith('unified')) {
      const parentEnabled = (
        await fsp.readFile(path.join(path.dirname(dir), 'cgroup.subtree_control'), 'utf8')
      )
        .trim()
        .split(/\s+/)
        .filter(Boolean);
      await writeFiles(dir, { ...V2_CORE, 'cgroup.controllers': `${parentEnabled.join(' ')}\n` });
      for (const controller of parentEnabled) await writeFiles(dir, V2_FILES[controller] ?? {});
    } else {
      const hierarchy = this.relative(dir).split(path.sep)[0] ?? '';
      await writeFiles(dir, { 'cgroup.procs': '', tasks: '' });
      for (const controller of this.v1Controllers.get(hierarchy) ?? [])
        await writeFiles(dir, V1_FILES[controller]?.(false) ?? {});
    }
    for (const name of this.missing) await fsp.rm(path.join(dir, name), { force: true });
    return true;
  }

  async rmdir(dir: string): Promise<void> {
    if (!fs.existsSync(dir)) {
      throw new SyscallError('rmdir', osConstants.errno.ENOENT, 'ENOENT', dir);
    }
    const entries = await fsp.readdir(dir, { withFileTypes: true });
    const procs = await fsp.readFile(path.join(dir, 'cgroup.procs'), 'utf8').catch(() => '');
    if (entries.some((entry) => entry.isDirectory()) || procs.trim() !== '') {
      throw new SyscallError('rmdir', osConstants.errno.EBUSY, 'EBUSY', dir);
    }
    await fsp.rm(dir, { recursive: true });
    this.marked.delete(dir);
  }

  readdir(dir: string): Promise<string[]> {
    return hostCgroupFs.readdir(dir);
  }

  exists(file: string): Promise<boolean> {
    return hostCgroupFs.exists(file);
  }

  /** Runs before a directory is marked as Gantry's: a test pauses a create there. */
  beforeMark: ((dir: string) => Promise<void>) | undefined;
  /** Every hierarchy lock asked for, in order. */
  readonly lockCalls: string[] = [];

  async markCreated(dir: string): Promise<void> {
    await this.beforeMark?.(dir);
    this.marked.add(dir);
  }

  /** The host's flock(2), on the fake tree's real directory. */
  lock(dir: string): Promise<() => void> {
    this.lockCalls.push(dir);
    return hostCgroupFs.lock!(dir);
  }

  async createdByGantry(dir: string): Promise<boolean> {
    return this.marked.has(dir);
  }
}

export async function tempTree(prefix: string): Promise<string> {
  return fsp.mkdtemp(path.join(process.env.TMPDIR ?? '/tmp', `gantry-cgtest-${prefix}-`));
}
