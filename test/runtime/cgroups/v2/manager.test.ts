import fsp from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createCgroupManager } from '../../../../source/runtime/cgroups/create-manager.js';
import type { CgroupLayout } from '../../../../source/runtime/cgroups/detect.js';
import { defaultDeviceRules } from '../../../../source/runtime/cgroups/parse.js';
import type { CgroupManager } from '../../../../source/runtime/cgroups/types.js';
import { ConflictError, InvalidArgumentError, UnsupportedError } from '../../../../source/runtime/errors.js';
import { FakeCgroupFs, tempTree } from '../fake-cgroupfs.js';
import { RecordingDeviceFilter } from '../fake-device-filter.js';

const MiB = 1024 * 1024;
const roots: string[] = [];

afterEach(async () => {
  for (const root of roots.splice(0)) await fsp.rm(root, { recursive: true, force: true });
});

async function setup(
  controllers?: string[],
  missing: string[] = [],
): Promise<{
  fake: FakeCgroupFs;
  filter: RecordingDeviceFilter;
  manager: CgroupManager;
  root: string;
  warnings: string[];
}> {
  const root = await tempTree('v2');
  roots.push(root);
  const fake = await FakeCgroupFs.v2(root, controllers, missing);
  const filter = new RecordingDeviceFilter();
  const warnings: string[] = [];
  const manager = createCgroupManager({
    cgroupRoot: root,
    parent: 'gantry',
    name: 'c1',
    fs: fake,
    deviceFilter: filter,
    onWarning: (message) => warnings.push(message),
    freezeTimeoutMs: 1000,
    destroyTimeoutMs: 50,
  });
  return { fake, filter, manager, root, warnings };
}

async function read(fake: FakeCgroupFs, file: string): Promise<string> {
  return (await fake.readText(`gantry/c1/${file}`)).trim();
}

describe('v2 manager: create and update', () => {
  it('enables controllers down the parent chain and writes each limit', async () => {
    const { fake, manager } = await setup();
    expect(manager.version).toBe(2);
    await manager.create({
      memory: 32 * MiB,
      memorySwap: 96 * MiB,
      memoryReservation: 16 * MiB,
      memoryHigh: 24 * MiB,
      cpuShares: 512,
      cpuQuota: 50000,
      cpusetCpus: '0-1',
      cpusetMems: '0',
      pidsLimit: -1,
      blkioWeight: 500,
      blkioDeviceReadBps: [{ path: '/dev/vda', major: 254, minor: 0, rate: MiB }],
      blkioDeviceWriteBps: [{ path: '/dev/vda', major: 254, minor: 0, rate: 2 * MiB }],
      blkioDeviceWriteIOps: [{ path: '/dev/vdb', major: 254, minor: 16, rate: 100 }],
      hugepageLimits: { '2MB': 4 * MiB },
      devices: defaultDeviceRules(),
    });
    expect((await fake.readText('cgroup.subtree_control')).trim().split(' ').sort()).toEqual([
      'cpu',
      'cpuset',
      'hugetlb',
      'io',
      'memory',
      'pids',
    ]);
    expect((await fake.readText('gantry/cgroup.subtree_control')).trim().split(' ').sort()).toEqual([
      'cpu',
      'cpuset',
      'hugetlb',
      'io',
      'memory',
      'pids',
    ]);
    // The leaf holds processes, so it enables nothing for children.
    expect(await read(fake, 'cgroup.subtree_control')).toBe('');
    expect(await read(fake, 'memory.max')).toBe(String(32 * MiB));
    expect(await read(fake, 'memory.swap.max')).toBe(String(64 * MiB));
    expect(await read(fake, 'memory.low')).toBe(String(16 * MiB));
    expect(await read(fake, 'memory.high')).toBe(String(24 * MiB));
    expect(await read(fake, 'cpu.weight')).toBe(String(1 + Math.floor((510 * 9999) / 262142)));
    expect(await read(fake, 'cpu.max')).toBe('50000 100000');
    expect(await read(fake, 'cpuset.cpus')).toBe('0-1');
    expect(await read(fake, 'pids.max')).toBe('max');
    expect(await read(fake, 'io.weight')).toBe(`default ${1 + Math.floor((490 * 9999) / 990)}`);
    expect((await read(fake, 'io.max')).split('\n')).toEqual([
      '254:0 rbps=1048576 wbps=2097152 riops=max wiops=max',
      '254:16 rbps=max wbps=max riops=max wiops=100',
    ]);
    expect(fake.writesTo(/io\.max$/)).toEqual(['254:0 rbps=1048576 wbps=2097152', '254:16 wiops=100']);
    expect(await read(fake, 'hugetlb.2MB.max')).toBe(String(4 * MiB));
    expect(manager.deviceEnforcement).toBe('ebpf');
    expect(manager.deviceRules()).toEqual(defaultDeviceRules());
  });

  it('formats cpu.max as "max period" and keeps the part not given', async () => {
    const { fake, manager } = await setup();
    await manager.create({ cpuQuota: 20000, cpuPeriod: 50000 });
    expect(await read(fake, 'cpu.max')).toBe('20000 50000');
    await manager.update({ cpuQuota: -1 });
    expect(await read(fake, 'cpu.max')).toBe('max 50000');
    await manager.update({ cpuPeriod: 100000 });
    expect(await read(fake, 'cpu.max')).toBe('max 100000');
  });

  it('turns -1 into max and --memory-swap alone into swap over the current limit', async () => {
    const { fake, manager } = await setup();
    await manager.create({ memory: 64 * MiB });
    await manager.update({ memorySwap: 96 * MiB });
    expect(await read(fake, 'memory.swap.max')).toBe(String(32 * MiB));
    await manager.update({ memory: -1 });
    expect(await read(fake, 'memory.max')).toBe('max');
    expect(await read(fake, 'memory.swap.max')).toBe('max');
    await expect(manager.update({ memorySwap: 128 * MiB })).rejects.toThrow(/needs a memory limit/);
  });

  it('clears a throttle with rate 0 (io.max "max")', async () => {
    const { fake, manager } = await setup();
    const vda = { path: '/dev/vda', major: 254, minor: 0 };
    await manager.create({ blkioDeviceReadBps: [{ ...vda, rate: 1000 }] });
    await manager.update({ blkioDeviceReadBps: [{ ...vda, rate: 0 }] });
    expect(await read(fake, 'io.max')).toBe('');
  });

  it('restores earlier fields when a later one is refused', async () => {
    const { fake, manager } = await setup();
    const vda = { path: '/dev/vda', major: 254, minor: 0 };
    await manager.create({
      memory: 64 * MiB,
      cpuQuota: 50000,
      pidsLimit: 10,
      blkioDeviceReadBps: [{ ...vda, rate: 1000 }],
    });
    fake.refuse(/hugetlb\.2MB\.max$/, 'EINVAL');
    const attempt = manager.update({
      memory: 32 * MiB,
      cpuQuota: 10000,
      pidsLimit: 20,
      blkioDeviceReadBps: [{ ...vda, rate: 5 }],
      hugepageLimits: { '2MB': MiB },
    });
    await expect(attempt).rejects.toThrow(InvalidArgumentError);
    expect(await read(fake, 'memory.max')).toBe(String(64 * MiB));
    expect(await read(fake, 'cpu.max')).toBe('50000 100000');
    expect(await read(fake, 'pids.max')).toBe('10');
    expect(await read(fake, 'io.max')).toBe('254:0 rbps=1000 wbps=max riops=max wiops=max');
  });

  it("undoes a cpuset over an empty one with the parent's CPUs, which the kernel cannot refuse", async () => {
    const { fake, manager } = await setup();
    await manager.create({});
    await fake.setText('gantry/cpuset.cpus.effective', '0-3\n');
    // As the kernel: a cgroup with processes may not go back to an empty set.
    fake.refuse(/c1\/cpuset\.cpus$/, 'ENOSPC', (value) => value.trim() === '');
    fake.refuse(/hugetlb\.2MB\.max$/, 'EINVAL');
    await expect(manager.update({ cpusetCpus: '1', hugepageLimits: { '2MB': MiB } })).rejects.toThrow(
      InvalidArgumentError,
    );
    expect(await read(fake, 'cpuset.cpus')).toBe('0-3');
  });

  it('explains a refused cpuset', async () => {
    const { fake, manager } = await setup();
    await manager.create({});
    fake.refuse(/cpuset\.cpus$/, 'EINVAL');
    await fake.setText('gantry/cpuset.cpus.effective', '0-3\n');
    await expect(manager.update({ cpusetCpus: '9' })).rejects.toThrow(
      'cpuset-cpus 9 names CPUs the host (or the parent cgroup) does not have; available: 0-3',
    );
  });
});

describe('v2 manager: device rules', () => {
  const kmsg = { type: 'c', major: 1, minor: 11, access: 'rw' } as const;
  const devNull = { type: 'c', major: 1, minor: 3, access: 'rw' } as const;
  const fuse = { type: 'c', major: 10, minor: 229, access: 'rw' } as const;

  it('attaches the program built from the rules to the container cgroup', async () => {
    const { filter, manager, root } = await setup();
    const dir = path.join(root, 'gantry/c1');
    await manager.create({ memory: 64 * MiB, devices: defaultDeviceRules() });
    expect(filter.calls.map(({ call, dir: where }) => [call, where])).toEqual([['replace', dir]]);
    expect(filter.allows(dir, devNull)).toBe(true);
    expect(filter.allows(dir, kmsg)).toBe(false);
    expect(filter.allows(dir, { ...kmsg, access: 'm' })).toBe(true);
  });

  it('replaces the program on update, and keeps it when the update names no devices', async () => {
    const { filter, manager, root } = await setup();
    const dir = path.join(root, 'gantry/c1');
    await manager.create({ devices: defaultDeviceRules() });
    expect(filter.allows(dir, fuse)).toBe(false);
    const withFuse = [
      ...defaultDeviceRules(),
      { allow: true, type: 'c', major: 10, minor: 229, access: 'rwm' } as const,
    ];
    await manager.update({ devices: withFuse });
    expect(filter.allows(dir, fuse)).toBe(true);
    expect(manager.deviceRules()).toEqual(withFuse);
    await manager.update({ memory: 32 * MiB });
    expect(filter.calls.filter(({ call }) => call === 'replace')).toHaveLength(2);
    expect(filter.allows(dir, fuse)).toBe(true);
  });

  it('attaches nothing without device rules', async () => {
    const { filter, manager } = await setup();
    await manager.create({ memory: 64 * MiB });
    await manager.checkSupport({ memory: 64 * MiB });
    expect(filter.calls).toEqual([]);
    expect(manager.deviceRules()).toBeUndefined();
  });

  it('undoes the other limits of an update when the program is refused', async () => {
    const { fake, filter, manager, root } = await setup();
    const dir = path.join(root, 'gantry/c1');
    await manager.create({ memory: 64 * MiB, pidsLimit: 10, devices: defaultDeviceRules() });
    const before = filter.attached.get(dir);
    filter.refuse(new UnsupportedError('loading the device filter: EPERM; the kernel refuses BPF programs'));
    const attempt = manager.update({
      memory: 32 * MiB,
      pidsLimit: 20,
      devices: [...defaultDeviceRules(), { allow: true, type: 'a', major: -1, minor: -1, access: 'rwm' }],
    });
    await expect(attempt).rejects.toThrow(/the kernel refuses BPF programs/);
    expect(await read(fake, 'memory.max')).toBe(String(64 * MiB));
    expect(await read(fake, 'pids.max')).toBe('10');
    expect(filter.attached.get(dir)).toBe(before);
    expect(manager.deviceRules()).toEqual(defaultDeviceRules());
  });

  it('removes the cgroup it made when the program is refused at create', async () => {
    const { filter, manager } = await setup();
    filter.refuse(new UnsupportedError('loading the device filter: EPERM; the kernel refuses BPF programs'));
    await expect(manager.create({ devices: defaultDeviceRules() })).rejects.toThrow(UnsupportedError);
    expect(await manager.exists()).toBe(false);
  });

  it('checkSupport loads the same program without attaching it', async () => {
    const { fake, filter, manager } = await setup();
    await manager.checkSupport({ devices: defaultDeviceRules() });
    expect(filter.calls.map(({ call }) => call)).toEqual(['check']);
    expect(fake.writes).toEqual([]);
    await manager.create({ devices: defaultDeviceRules() });
    expect(filter.calls[1]?.program).toEqual(filter.calls[0]?.program);
    filter.refuse(new UnsupportedError('no BPF here'));
    await expect(manager.checkSupport({ devices: defaultDeviceRules() }, { update: true })).rejects.toThrow(
      'no BPF here',
    );
  });
});

describe('v2 manager: what v2 cannot do', () => {
  it('refuses net_cls/net_prio, kernel memory and oom-kill-disable before writing anything', async () => {
    const { manager, fake } = await setup();
    await expect(manager.create({ netClsClassid: 1 })).rejects.toThrow(
      /the host's cgroup v2 has no net_cls\/net_prio controller; /,
    );
    await expect(manager.create({ netPrioIfpriomap: { eth0: 1 } })).rejects.toThrow(UnsupportedError);
    await expect(manager.create({ kernelMemory: 64 * MiB })).rejects.toThrow(/kernel-memory/);
    await expect(manager.create({ memorySwappiness: 10 })).rejects.toThrow(/no per-cgroup swappiness/);
    await expect(manager.create({ oomKillDisable: true })).rejects.toThrow(/OOM killer/);
    expect(fake.writes).toEqual([]);
    expect(await manager.exists()).toBe(false);
  });

  it('says which controller the host lacks', async () => {
    const { manager } = await setup(['cpu', 'memory']);
    await expect(manager.create({ blkioWeight: 100 })).rejects.toThrow(/no io controller/);
    await manager.create({ memory: 64 * MiB });
  });
});

describe('v2 manager: freezer', () => {
  it('writes cgroup.freeze and waits until cgroup.events says frozen', async () => {
    const { fake, manager } = await setup();
    await manager.create({});
    fake.freezeDelayMs = 80;
    const started = Date.now();
    await manager.freeze();
    expect(Date.now() - started).toBeGreaterThanOrEqual(70);
    expect(await read(fake, 'cgroup.freeze')).toBe('1');
    expect(await read(fake, 'cgroup.events')).toContain('frozen 1');
    expect(await manager.freezerState()).toBe('frozen');
    await manager.thaw();
    expect(await manager.freezerState()).toBe('thawed');
  });

  it('reports freezing while the kernel has not finished', async () => {
    const { fake, manager } = await setup();
    await manager.create({});
    await fake.setText('gantry/c1/cgroup.freeze', '1\n');
    expect(await manager.freezerState()).toBe('freezing');
  });
});

describe('v2 manager: stats and the rest', () => {
  it('reads memory, cpu, io, pids and pressure', async () => {
    const { fake, manager } = await setup();
    await manager.create({ memory: 64 * MiB, cpuQuota: 25000, pidsLimit: 50 });
    const set = (file: string, text: string): Promise<void> => fake.setText(`gantry/c1/${file}`, text);
    await set('memory.current', `${10 * MiB}\n`);
    await set('memory.stat', `anon ${6 * MiB}\nfile ${4 * MiB}\ninactive_file ${MiB}\n`);
    await set('memory.events', 'low 0\nhigh 0\nmax 3\noom 2\noom_kill 1\n');
    await set('memory.swap.current', '4096\n');
    await set('memory.peak', `${20 * MiB}\n`);
    await set(
      'cpu.stat',
      'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 7\nnr_throttled 3\nthrottled_usec 40\n',
    );
    await set(
      'io.stat',
      '254:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n254:16 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0\n',
    );
    await set('pids.current', '4\n');
    await set(
      'cpu.pressure',
      'some avg10=12.50 avg60=1.00 avg300=0.10 total=999\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n',
    );
    const stats = await manager.stats();
    expect(stats.memory).toEqual({
      usage: 10 * MiB,
      workingSet: 9 * MiB,
      limit: 64 * MiB,
      maxUsage: 20 * MiB,
      swapUsage: 4096,
      cache: 4 * MiB,
      anon: 6 * MiB,
      oomKills: 1,
      oomEvents: 2,
    });
    expect(stats.cpu).toEqual({
      usageNanos: 1_500_000,
      userNanos: 1_000_000,
      systemNanos: 500_000,
      periods: 7,
      throttledPeriods: 3,
      throttledNanos: 40_000,
      quotaCpus: 0.25,
    });
    expect(stats.io).toEqual({ readBytes: 101, writeBytes: 202, readOps: 4, writeOps: 6 });
    expect(stats.pids).toEqual({ current: 4, limit: 50 });
    expect(stats.pressure?.cpu?.some).toEqual({ avg10: 12.5, avg60: 1, avg300: 0.1, total: 999 });
    expect(stats.pressure?.memory?.full?.total).toBe(0);
  });

  it('gives one cgroup2 mount, the procs file and memory.events for OOM kills', async () => {
    const { manager, root } = await setup();
    expect(manager.containerMounts()).toEqual([
      { destination: '/sys/fs/cgroup', type: 'cgroup2', source: 'cgroup2', options: [] },
    ]);
    expect(manager.procsFiles()).toEqual([path.join(root, 'gantry/c1/cgroup.procs')]);
    expect(manager.oomCounter()).toEqual({
      file: path.join(root, 'gantry/c1/memory.events'),
      key: 'oom_kill',
    });
  });

  it('destroys idempotently and removes the parent it made', async () => {
    const { manager, fake, root } = await setup();
    await manager.create({});
    await fake.writeFile(path.join(root, 'gantry/c1/cgroup.procs'), '77');
    expect(await manager.pids()).toEqual([77]);
    await expect(manager.destroy()).rejects.toThrow(/still in use by processes 77/);
    await fake.setText('gantry/c1/cgroup.procs', '');
    await manager.destroy();
    await manager.destroy();
    await manager.removeParentIfEmpty();
    expect(await fake.exists(path.join(root, 'gantry'))).toBe(false);
  });
});

describe('v2 manager: what cgroup v2 does differently', () => {
  it('keeps memory+swap when only the memory limit changes, since memory.swap.max is swap alone', async () => {
    const { fake, manager } = await setup();
    await manager.create({ memory: 32 * MiB, memorySwap: 64 * MiB });
    expect(await read(fake, 'memory.swap.max')).toBe(String(32 * MiB));
    await manager.update({ memory: 64 * MiB });
    expect(await read(fake, 'memory.max')).toBe(String(64 * MiB));
    expect(await read(fake, 'memory.swap.max')).toBe('0');
    await expect(manager.update({ memory: 96 * MiB })).rejects.toThrow(
      /memory\+swap limit 64MiB is below the memory limit 96MiB/,
    );
    expect(await read(fake, 'memory.max')).toBe(String(64 * MiB));
    // Unlimited swap stays unlimited.
    await manager.update({ memory: 96 * MiB, memorySwap: -1 });
    await manager.update({ memory: 128 * MiB });
    expect(await read(fake, 'memory.swap.max')).toBe('max');
  });

  it('refuses a per-device weight for a disk BFQ does not schedule, before writing anything', async () => {
    const root = await tempTree('v2');
    roots.push(root);
    const fake = await FakeCgroupFs.v2(root);
    const schedulers: Record<string, string> = {
      '254:0': 'mq-deadline [bfq] none',
      '254:16': '[mq-deadline] none',
    };
    const manager = createCgroupManager({
      cgroupRoot: root,
      parent: 'gantry',
      name: 'c1',
      fs: fake,
      schedulerOf: (major, minor) => schedulers[`${major}:${minor}`],
    });
    const weight = (minor: number) => ({
      blkioWeightDevice: [{ path: `/dev/vd${minor ? 'b' : 'a'}`, major: 254, minor, weight: 700 }],
    });
    await expect(manager.checkSupport(weight(16))).rejects.toThrow(
      'per-device I/O weight for /dev/vdb: the disk 254:16 uses the mq-deadline I/O scheduler, and cgroup v2 takes a per-device weight only from BFQ',
    );
    await expect(manager.create(weight(16))).rejects.toThrow(InvalidArgumentError);
    const partition = { blkioWeightDevice: [{ path: '/dev/vda1', major: 254, minor: 1, weight: 700 }] };
    await expect(manager.create(partition)).rejects.toThrow(/254:1 is not a whole disk/);
    expect(fake.writes).toEqual([]);
    await manager.create({});
    await fake.setText('gantry/c1/io.bfq.weight', 'default 100\n');
    await manager.update({ blkioWeight: 300, ...weight(0) });
    expect((await read(fake, 'io.bfq.weight')).split('\n')).toEqual(['default 300', '254:0 700']);
    // BFQ forgets device weights when the default changes; the driver writes them again.
    await manager.update({ blkioWeight: 400 });
    expect((await read(fake, 'io.bfq.weight')).split('\n')).toEqual(['default 400', '254:0 700']);
    // Undone too, when a later limit (hugetlb comes after io) is refused.
    fake.refuse(/hugetlb\.2MB\.max$/, 'EINVAL');
    const attempt = manager.update({ blkioWeight: 500, hugepageLimits: { '2MB': MiB } });
    await expect(attempt).rejects.toThrow(InvalidArgumentError);
    expect(fake.writesTo(/io\.bfq\.weight$/)).toContain('default 500');
    expect((await read(fake, 'io.bfq.weight')).split('\n')).toEqual(['default 400', '254:0 700']);
  });

  it('writes linux.resources.unified files after the named limits, and refuses what is not a limit', async () => {
    const { fake, manager } = await setup();
    await manager.create({ memoryHigh: 64 * MiB, unified: { 'memory.high': '33554432', 'pids.max': '7' } });
    expect(await read(fake, 'memory.high')).toBe('33554432');
    expect(await read(fake, 'pids.max')).toBe('7');
    // pids was enabled for the container although no named limit needed it.
    expect((await fake.readText('gantry/cgroup.subtree_control')).trim().split(' ')).toContain('pids');
    for (const name of ['cgroup.procs', '../memory.max', 'memory', 'cgroup.subtree_control'])
      await expect(manager.checkSupport({ unified: { [name]: '1' } })).rejects.toThrow(InvalidArgumentError);
    await expect(manager.update({ unified: { 'memory.nope': '1' } })).rejects.toThrow(
      /this kernel has no cgroup file "memory.nope"/,
    );
  });

  it('refuses a parent that holds processes, and changes nothing in it', async () => {
    const { fake, root } = await setup();
    await fake.writeFile(path.join(root, 'cgroup.subtree_control'), '+memory +pids');
    await fake.mkdir(path.join(root, 'session.scope'));
    await fake.writeFile(path.join(root, 'session.scope/cgroup.procs'), '4242');
    const manager = createCgroupManager({ cgroupRoot: root, parent: 'session.scope', name: 'c1', fs: fake });
    const writes = fake.writes.length;
    const error = await manager.create({ memory: 64 * MiB }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as Error).message).toMatch(
      /session\.scope a cgroup parent: it has processes of its own \(4242\).*no-internal-processes rule/,
    );
    expect(fake.writes.slice(writes).filter((w) => w.file.startsWith('session.scope'))).toEqual([]);
    expect(await fake.exists(path.join(root, 'session.scope/c1'))).toBe(false);
  });

  it("moves the processes of its cgroup namespace's root into init, as podman does, so the root can delegate", async () => {
    const { fake, root } = await setup();
    const nsRoot = path.join(root, 'container');
    await fake.writeFile(path.join(root, 'cgroup.subtree_control'), '+memory +pids');
    await fake.mkdir(nsRoot);
    await fake.writeFile(path.join(nsRoot, 'cgroup.procs'), '100');
    await fake.writeFile(path.join(nsRoot, 'cgroup.procs'), '101');
    const layout: CgroupLayout = {
      kind: 'v2',
      driver: 2,
      hierarchies: [],
      unified: { mountPoint: nsRoot, controllers: [] },
    };
    const inside = (own: string) =>
      createCgroupManager({ layout, parent: 'gantry', name: 'c1', fs: fake, ownCgroup: () => own });
    await expect(inside('/elsewhere').create({ pidsLimit: 5 })).rejects.toThrow(ConflictError);
    await inside('/').create({ pidsLimit: 5 });
    expect((await fake.readText('container/init/cgroup.procs')).split('\n').filter(Boolean)).toEqual([
      '100',
      '101',
    ]);
    expect((await fake.readText('container/cgroup.procs')).trim()).toBe('');
    expect((await fake.readText('container/cgroup.subtree_control')).trim().split(' ')).toContain('pids');
    expect((await fake.readText('container/gantry/c1/pids.max')).trim()).toBe('5');
  });

  it('takes back the controllers it enabled in cgroups it did not make when the create fails', async () => {
    const { fake, root } = await setup();
    // A cgroup someone made while memory was enabled at the root; it is not any longer.
    await fake.writeFile(path.join(root, 'cgroup.subtree_control'), '+memory');
    await fake.mkdir(path.join(root, 'shared'));
    await fake.writeFile(path.join(root, 'cgroup.subtree_control'), '-memory');
    const writes = fake.writes.length;
    const manager = createCgroupManager({ cgroupRoot: root, parent: 'shared', name: 'c1', fs: fake });
    fake.refuse(/c1\/memory\.max$/, 'EINVAL');
    await expect(manager.create({ memory: 64 * MiB })).rejects.toThrow(InvalidArgumentError);
    expect((await fake.readText('shared/cgroup.subtree_control')).trim()).toBe('');
    expect((await fake.readText('cgroup.subtree_control')).trim()).toBe('');
    // It had enabled memory in both, then took it back.
    const subtreeWrites = fake.writes
      .slice(writes)
      .filter((w) => w.file.endsWith('cgroup.subtree_control'))
      .map((w) => `${w.file} ${w.data}`);
    expect(subtreeWrites).toEqual(
      expect.arrayContaining([
        'cgroup.subtree_control +memory',
        'shared/cgroup.subtree_control +memory',
        'shared/cgroup.subtree_control -memory',
        'cgroup.subtree_control -memory',
      ]),
    );
    expect(await fake.exists(path.join(root, 'shared/c1'))).toBe(false);
  });
});
