import fsp from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createCgroupManager } from '../../../../source/runtime/cgroups/create-manager.js';
import { detectFromTree } from '../../../../source/runtime/cgroups/detect.js';
import { defaultDeviceRules } from '../../../../source/runtime/cgroups/parse.js';
import type { CgroupManager } from '../../../../source/runtime/cgroups/types.js';
import {
  ConflictError,
  InvalidArgumentError,
  NotFoundError,
  UnsupportedError,
} from '../../../../source/runtime/errors.js';
import { FakeCgroupFs, tempTree, type FakeV1Options } from '../fake-cgroupfs.js';

const MiB = 1024 * 1024;
const roots: string[] = [];

afterEach(async () => {
  for (const root of roots.splice(0)) await fsp.rm(root, { recursive: true, force: true });
});

async function setup(
  options: FakeV1Options = { unified: true },
  name = 'c1',
): Promise<{ fake: FakeCgroupFs; manager: CgroupManager; warnings: string[]; root: string }> {
  const root = await tempTree('v1');
  roots.push(root);
  const fake = await FakeCgroupFs.v1(root, options);
  const warnings: string[] = [];
  const manager = createCgroupManager({
    cgroupRoot: root,
    parent: 'gantry',
    name,
    fs: fake,
    onWarning: (message) => warnings.push(message),
    destroyTimeoutMs: 50,
    freezeTimeoutMs: 500,
  });
  return { fake, manager, warnings, root };
}

async function failure(action: Promise<unknown>): Promise<Error> {
  try {
    await action;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}

describe('v1 manager: create', () => {
  it('creates the directory in every hierarchy and writes each limit', async () => {
    const { fake, manager } = await setup();
    expect(manager.version).toBe(1);
    expect(manager.path).toBe('/gantry/c1');
    await manager.create({
      memory: 32 * MiB,
      memorySwap: 64 * MiB,
      memoryReservation: 16 * MiB,
      oomKillDisable: true,
      cpuShares: 512,
      cpuQuota: 50000,
      cpuPeriod: 100000,
      cpusetCpus: '1',
      pidsLimit: 100,
      blkioDeviceWriteBps: [{ path: '/dev/vda', major: 254, minor: 0, rate: MiB }],
      blkioDeviceReadIOps: [{ path: '/dev/vda', major: 254, minor: 0, rate: 500 }],
      devices: defaultDeviceRules(),
    });
    for (const hierarchy of [
      'cpu',
      'cpuacct',
      'cpuset',
      'memory',
      'devices',
      'freezer',
      'blkio',
      'pids',
      'systemd',
      'unified',
    ]) {
      expect(await fake.exists(path.join(fake.root, hierarchy, 'gantry', 'c1'))).toBe(true);
    }
    const read = (file: string): Promise<string> => fake.readText(file).then((text) => text.trim());
    expect(await read('memory/gantry/c1/memory.limit_in_bytes')).toBe(String(32 * MiB));
    expect(await read('memory/gantry/c1/memory.memsw.limit_in_bytes')).toBe(String(64 * MiB));
    expect(await read('memory/gantry/c1/memory.soft_limit_in_bytes')).toBe(String(16 * MiB));
    expect(fake.writesTo(/memory\.oom_control$/)).toEqual(['1']);
    // Lowering from unlimited: memory first, so memory <= memory+swap holds after each write.
    expect(fake.writesTo(/memory\.(memsw\.)?limit_in_bytes$/)).toEqual([String(32 * MiB), String(64 * MiB)]);
    expect(await read('cpu/gantry/c1/cpu.shares')).toBe('512');
    expect(await read('cpu/gantry/c1/cpu.cfs_quota_us')).toBe('50000');
    expect(await read('cpu/gantry/c1/cpu.cfs_period_us')).toBe('100000');
    expect(await read('pids/gantry/c1/pids.max')).toBe('100');
    expect(await read('blkio/gantry/c1/blkio.throttle.write_bps_device')).toBe('254:0 1048576');
    expect(await read('blkio/gantry/c1/blkio.throttle.read_iops_device')).toBe('254:0 500');
    // A new parent gets its parent's cpus/mems before the container's dir is made below it.
    expect(await read('cpuset/gantry/cpuset.cpus')).toBe('0-3');
    expect(await read('cpuset/gantry/cpuset.mems')).toBe('0');
    expect(await read('cpuset/gantry/c1/cpuset.cpus')).toBe('1');
    expect(await read('cpuset/gantry/c1/cpuset.mems')).toBe('0');
    // Devices: everything denied first, then the rules in order.
    expect(fake.writesTo(/devices\.(allow|deny)$/).slice(0, 3)).toEqual(['a', 'a', 'c *:* m']);
    expect((await read('devices/gantry/c1/devices.list')).split('\n')).toEqual([
      'c *:* m',
      'b *:* m',
      'c 1:3 rwm',
      'c 1:8 rwm',
      'c 1:7 rwm',
      'c 5:0 rwm',
      'c 1:5 rwm',
      'c 1:9 rwm',
      'c 136:* rwm',
      'c 5:2 rwm',
      'c 10:200 rwm',
    ]);
    expect(manager.deviceEnforcement).toBe('cgroup');
    expect(manager.deviceRules()).toEqual(defaultDeviceRules());
  });

  it('handles co-mounted cpu,cpuacct as one hierarchy', async () => {
    const { fake, manager } = await setup({ hierarchies: [['cpu', 'cpuacct'], ['memory']] });
    await manager.create({ cpuShares: 256 });
    expect((await fake.readText('cpu,cpuacct/gantry/c1/cpu.shares')).trim()).toBe('256');
    expect(manager.procsFiles()).toEqual([
      path.join(fake.root, 'cpu,cpuacct/gantry/c1/cgroup.procs'),
      path.join(fake.root, 'memory/gantry/c1/cgroup.procs'),
    ]);
    expect(manager.containerMounts()).toEqual([
      {
        destination: '/sys/fs/cgroup/cpu,cpuacct',
        type: 'cgroup',
        source: 'cgroup',
        options: ['cpu', 'cpuacct'],
      },
      { destination: '/sys/fs/cgroup/memory', type: 'cgroup', source: 'cgroup', options: ['memory'] },
    ]);
  });

  it('describes the mounts, procs files and OOM counter of this machine', async () => {
    const { fake, manager } = await setup();
    expect(manager.containerMounts().map((m) => [m.destination, m.type, m.options.join(',')])).toEqual([
      ['/sys/fs/cgroup/blkio', 'cgroup', 'blkio'],
      ['/sys/fs/cgroup/cpu', 'cgroup', 'cpu'],
      ['/sys/fs/cgroup/cpuacct', 'cgroup', 'cpuacct'],
      ['/sys/fs/cgroup/cpuset', 'cgroup', 'cpuset'],
      ['/sys/fs/cgroup/devices', 'cgroup', 'devices'],
      ['/sys/fs/cgroup/freezer', 'cgroup', 'freezer'],
      ['/sys/fs/cgroup/memory', 'cgroup', 'memory'],
      ['/sys/fs/cgroup/pids', 'cgroup', 'pids'],
      ['/sys/fs/cgroup/systemd', 'cgroup', 'name=systemd'],
      ['/sys/fs/cgroup/unified', 'cgroup2', ''],
    ]);
    expect(manager.procsFiles()).toHaveLength(10);
    expect(manager.oomCounter()).toEqual({
      file: path.join(fake.root, 'memory/gantry/c1/memory.oom_control'),
      key: 'oom_kill',
      eventControl: path.join(fake.root, 'memory/gantry/c1/cgroup.event_control'),
    });
  });

  it('writes -1 as the kernel spells unlimited and lifts memory+swap with memory', async () => {
    const { fake, manager } = await setup();
    await manager.create({ memory: 32 * MiB, memorySwap: 32 * MiB, pidsLimit: 10 });
    await manager.update({ memory: -1, pidsLimit: -1 });
    expect((await fake.readText('pids/gantry/c1/pids.max')).trim()).toBe('max');
    expect(fake.writesTo(/memory\.(memsw\.)?limit_in_bytes$/).slice(2)).toEqual(['-1', '-1']);
    expect((await fake.readText('memory/gantry/c1/memory.limit_in_bytes')).trim()).toBe(
      '9223372036854771712',
    );
  });

  it('raises memory+swap before memory when raising both', async () => {
    const { fake, manager } = await setup();
    await manager.create({ memory: 32 * MiB, memorySwap: 32 * MiB });
    await manager.update({ memory: 128 * MiB, memorySwap: 256 * MiB });
    expect(fake.writesTo(/memory\.(memsw\.)?limit_in_bytes$/).slice(2)).toEqual([
      String(256 * MiB),
      String(128 * MiB),
    ]);
  });

  it('cleans up what it made when a value is refused', async () => {
    const { fake, manager } = await setup();
    fake.refuse(/pids\.max$/, 'EINVAL');
    const error = await failure(manager.create({ memory: 32 * MiB, pidsLimit: 5 }));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.message).toMatch(/pids limit 5/);
    expect(await manager.exists()).toBe(false);
    expect(await fake.exists(path.join(fake.root, 'memory/gantry'))).toBe(false);
  });

  it('refuses to use a foreign parent whose cpuset is empty', async () => {
    const { fake, manager } = await setup();
    await fsp.mkdir(path.join(fake.root, 'cpuset/gantry'));
    await fake.setText('cpuset/gantry/cpuset.cpus', '\n');
    await fake.setText('cpuset/gantry/cpuset.mems', '\n');
    const error = await failure(manager.create({}));
    expect(error).toBeInstanceOf(ConflictError);
    expect(error.message).toMatch(/empty cpuset.cpus/);
    expect(await fake.exists(path.join(fake.root, 'cpuset/gantry'))).toBe(true);
  });

  it('waits while another create is half-way through making the shared parent', async () => {
    // The first create stops between mkdir of the parent and marking it as Gantry's (its cpuset
    // still empty); a second create meeting the parent then must wait, not call it foreign.
    const { fake, manager, root } = await setup();
    const second = createCgroupManager({ cgroupRoot: root, parent: 'gantry', name: 'c2', fs: fake });
    const parent = path.join(root, 'cpuset', 'gantry');
    let resume!: () => void;
    const paused = new Promise<void>((resolve) => (resume = resolve));
    let reached!: () => void;
    const atMark = new Promise<void>((resolve) => (reached = resolve));
    fake.beforeMark = async (dir) => {
      if (dir !== parent) return;
      fake.beforeMark = undefined;
      reached();
      await paused;
    };
    const first = manager.create({});
    await atMark;
    const secondCreate = second.create({});
    const cpusetRoot = path.join(root, 'cpuset');
    await vi.waitFor(() => expect(fake.lockCalls.filter((dir) => dir === cpusetRoot)).toHaveLength(2), {
      timeout: 10_000,
      interval: 5,
    });
    resume();
    await first;
    await secondCreate;
    expect((await fake.readText('cpuset/gantry/c2/cpuset.cpus')).trim()).toBe('0-3');
  });
});

describe('v1 manager: what the host lacks', () => {
  it('says the host has no net_cls controller', async () => {
    const { manager } = await setup();
    const error = await failure(manager.create({ netClsClassid: 0x100001 }));
    expect(error).toBeInstanceOf(UnsupportedError);
    expect(error.message).toMatch(/the host has no net_cls cgroup controller/);
    expect(await manager.exists()).toBe(false);
    await expect(manager.create({ netPrioIfpriomap: { eth0: 5 } })).rejects.toThrow(
      /no net_prio cgroup controller/,
    );
    await expect(manager.create({ memoryHigh: 64 * MiB })).rejects.toThrow(/needs cgroup v2/);
    await expect(manager.checkSupport({ unified: { 'pids.max': '5' } })).rejects.toThrow(
      /linux.resources.unified sets cgroup v2 files, and this host uses cgroup v1/,
    );
  });

  it('writes net_cls and net_prio where mounted', async () => {
    const { fake, manager } = await setup({ hierarchies: [['net_cls', 'net_prio'], ['memory']] });
    await manager.create({ netClsClassid: 0x100001, netPrioIfpriomap: { eth0: 5 } });
    expect((await fake.readText('net_cls,net_prio/gantry/c1/net_cls.classid')).trim()).toBe(String(0x100001));
    expect(await fake.readText('net_cls,net_prio/gantry/c1/net_prio.ifpriomap')).toBe('lo 0\neth0 5\n');
  });

  it('reports a kernel without kernel-memory accounting', async () => {
    const missing = await setup({ missing: ['memory.kmem.limit_in_bytes'] });
    const error = await failure(missing.manager.create({ kernelMemory: 64 * MiB }));
    expect(error).toBeInstanceOf(UnsupportedError);
    expect(error.message).toMatch(/no kernel-memory accounting/);

    // Kernels since 5.16 keep the file and ignore writes (this machine's 6.18 does).
    const ignoring = await setup();
    ignoring.fake.ignore(/kmem\.limit_in_bytes$/);
    await ignoring.manager.create({ memory: 128 * MiB });
    const ignored = await failure(ignoring.manager.update({ kernelMemory: 64 * MiB, memory: 64 * MiB }));
    expect(ignored).toBeInstanceOf(UnsupportedError);
    expect(ignored.message).toMatch(/ignores the value/);
    expect((await ignoring.fake.readText('memory/gantry/c1/memory.limit_in_bytes')).trim()).toBe(
      String(128 * MiB),
    );
  });

  it('warns and limits memory alone when swap accounting is off', async () => {
    const { manager, warnings, fake } = await setup({ missing: ['memory.memsw.limit_in_bytes'] });
    await manager.create({ memory: 32 * MiB, memorySwap: 64 * MiB });
    expect(warnings.join()).toMatch(/no swap accounting/);
    expect((await fake.readText('memory/gantry/c1/memory.limit_in_bytes')).trim()).toBe(String(32 * MiB));
  });

  it('uses blkio.weight, else BFQ weights, else says weights are unsupported', async () => {
    const cfq = await setup();
    await cfq.manager.create({
      blkioWeight: 300,
      blkioWeightDevice: [{ path: '/dev/vda', major: 254, minor: 0, weight: 200 }],
    });
    expect((await cfq.fake.readText('blkio/gantry/c1/blkio.weight')).trim()).toBe('300');
    expect((await cfq.fake.readText('blkio/gantry/c1/blkio.weight_device')).trim()).toBe('254:0 200');

    const bfq = await setup({ missing: ['blkio.weight', 'blkio.weight_device'] });
    await fsp.writeFile(path.join(bfq.fake.root, 'blkio/blkio.bfq.weight'), '100\n');
    // New dirs copy the kernel's BFQ files.
    const mkdir = bfq.fake.mkdir.bind(bfq.fake);
    bfq.fake.mkdir = async (dir: string) => {
      const created = await mkdir(dir);
      if (created && dir.includes('/blkio/'))
        await fsp.writeFile(path.join(dir, 'blkio.bfq.weight'), '100\n');
      return created;
    };
    await bfq.manager.create({ blkioWeight: 300 });
    expect((await bfq.fake.readText('blkio/gantry/c1/blkio.bfq.weight')).trim()).toBe('300');

    const none = await setup({ missing: ['blkio.weight', 'blkio.weight_device'] });
    const error = await failure(none.manager.create({ blkioWeight: 300 }));
    expect(error).toBeInstanceOf(UnsupportedError);
    expect(error.message).toMatch(/no blkio weight files/);
    await none.manager.create({ blkioDeviceWriteBps: [{ path: '/dev/vda', major: 254, minor: 0, rate: 1 }] });
  });

  it('names the huge page sizes the host has', async () => {
    const { fake, manager } = await setup({ hierarchies: [['hugetlb']] });
    await manager.create({ hugepageLimits: { '2MB': 4 * 2 * MiB } });
    expect((await fake.readText('hugetlb/gantry/c1/hugetlb.2MB.limit_in_bytes')).trim()).toBe(
      String(8 * MiB),
    );
    const error = await failure(manager.update({ hugepageLimits: { '16MB': 1 } }));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).hint).toMatch(/1GB, 2MB|2MB, 1GB/);
  });
});

describe('v1 manager: update', () => {
  it('explains a memory limit below usage and keeps the old limit', async () => {
    const { fake, manager } = await setup();
    await manager.create({ memory: 32 * MiB, cpuShares: 1024 });
    await fake.setText('memory/gantry/c1/memory.usage_in_bytes', `${5 * MiB}\n`);
    fake.refuse(/memory\.limit_in_bytes$/, 'EBUSY', (value) => Number(value) < 5 * MiB);
    const error = await failure(manager.update({ memory: MiB, cpuShares: 256 }));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.message).toBe(
      `memory limit 1MiB is below the container's current usage 5MiB and the kernel could not reclaim enough; the old limit 32MiB stays`,
    );
    expect((await fake.readText('memory/gantry/c1/memory.limit_in_bytes')).trim()).toBe(String(32 * MiB));
    expect((await fake.readText('cpu/gantry/c1/cpu.shares')).trim()).toBe('1024');
  });

  it('restores every field it changed when a later one is refused', async () => {
    const { fake, manager } = await setup();
    await manager.create({
      memory: 32 * MiB,
      memorySwap: 64 * MiB,
      cpuShares: 1024,
      cpuQuota: 50000,
      pidsLimit: 10,
    });
    fake.refuse(/pids\.max$/, 'EINVAL');
    const error = await failure(
      manager.update({
        memory: 48 * MiB,
        memorySwap: 96 * MiB,
        cpuShares: 256,
        cpuQuota: 20000,
        pidsLimit: 20,
      }),
    );
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.message).toMatch(/pids limit 20/);
    const read = (file: string): Promise<string> => fake.readText(file).then((text) => text.trim());
    expect(await read('memory/gantry/c1/memory.limit_in_bytes')).toBe(String(32 * MiB));
    expect(await read('memory/gantry/c1/memory.memsw.limit_in_bytes')).toBe(String(64 * MiB));
    expect(await read('cpu/gantry/c1/cpu.shares')).toBe('1024');
    expect(await read('cpu/gantry/c1/cpu.cfs_quota_us')).toBe('50000');
    expect(await read('pids/gantry/c1/pids.max')).toBe('10');
  });

  it('restores throttles and device rules', async () => {
    const { fake, manager } = await setup();
    const vda = { path: '/dev/vda', major: 254, minor: 0 };
    await manager.create({ blkioDeviceReadBps: [{ ...vda, rate: 1000 }], devices: defaultDeviceRules() });
    const listBefore = await fake.readText('devices/gantry/c1/devices.list');
    fake.refuse(/pids\.max$/, 'EINVAL');
    await expect(
      manager.update({
        blkioDeviceReadBps: [{ ...vda, rate: 5000 }],
        blkioDeviceWriteBps: [{ ...vda, rate: 7000 }],
        devices: [{ allow: true, type: 'c', major: 1, minor: 3, access: 'r' }],
        pidsLimit: 3,
      }),
    ).rejects.toThrow(InvalidArgumentError);
    expect((await fake.readText('blkio/gantry/c1/blkio.throttle.read_bps_device')).trim()).toBe('254:0 1000');
    expect((await fake.readText('blkio/gantry/c1/blkio.throttle.write_bps_device')).trim()).toBe('');
    expect(await fake.readText('devices/gantry/c1/devices.list')).toBe(listBefore);
  });

  it('explains a memory limit above memory+swap', async () => {
    const { fake, manager } = await setup();
    await manager.create({ memory: 32 * MiB, memorySwap: 64 * MiB });
    fake.refuse(/memory\.limit_in_bytes$/, 'EINVAL', (value) => Number(value) > 64 * MiB);
    await expect(manager.update({ memory: 128 * MiB })).rejects.toThrow(
      /above the memory\+swap limit 64MiB; set --memory-swap/,
    );
  });

  it('explains a cpuset the host lacks', async () => {
    const { fake, manager } = await setup();
    await manager.create({});
    fake.refuse(/cpuset\.cpus$/, 'EINVAL', (value) => value === '7');
    const error = await failure(manager.update({ cpusetCpus: '7' }));
    expect(error.message).toBe(
      'cpuset-cpus 7 names CPUs the host (or the parent cgroup) does not have; available: 0-3',
    );
  });

  it('retries a shorter period after the quota, as runc does', async () => {
    const { fake, manager } = await setup();
    await manager.create({ cpuQuota: 100000, cpuPeriod: 100000 });
    let refused = false;
    fake.refuse(/cfs_period_us$/, 'EINVAL', () => {
      if (refused) return false;
      refused = true;
      return true;
    });
    await manager.update({ cpuQuota: 5000, cpuPeriod: 10000 });
    expect((await fake.readText('cpu/gantry/c1/cpu.cfs_period_us')).trim()).toBe('10000');
    expect((await fake.readText('cpu/gantry/c1/cpu.cfs_quota_us')).trim()).toBe('5000');
  });

  it('reports clamped shares', async () => {
    const { fake, manager } = await setup();
    await manager.create({});
    fake.ignore(/cpu\.shares$/);
    await expect(manager.update({ cpuShares: 300000 })).rejects.toThrow(InvalidArgumentError);
  });

  it('refuses to update a cgroup that does not exist', async () => {
    const { manager } = await setup();
    await expect(manager.update({ memory: 32 * MiB })).rejects.toThrow(NotFoundError);
  });
});

describe('v1 manager: freezer', () => {
  it('waits for FROZEN and for THAWED', async () => {
    const { manager, fake } = await setup();
    await manager.create({});
    fake.freezeDelayMs = 30;
    await manager.freeze();
    expect(await manager.freezerState()).toBe('frozen');
    expect((await fake.readText('freezer/gantry/c1/freezer.state')).trim()).toBe('FROZEN');
    await manager.thaw();
    expect(await manager.freezerState()).toBe('thawed');
  });

  it('thaws again when the cgroup stays FREEZING', async () => {
    const { manager, fake } = await setup();
    await manager.create({});
    fake.freezerSticks = true;
    await expect(manager.freeze()).rejects.toThrow(ConflictError);
    expect((await fake.readText('freezer/gantry/c1/freezer.state')).trim()).toBe('THAWED');
  });
});

describe('v1 manager: stats', () => {
  it('reads memory, cpu, pids and io figures', async () => {
    const { fake, manager } = await setup();
    await manager.create({ memory: 64 * MiB, cpuQuota: 50000, pidsLimit: 20 });
    const dir = (h: string): string => `${h}/gantry/c1`;
    await fake.setText(`${dir('memory')}/memory.usage_in_bytes`, `${10 * MiB}\n`);
    await fake.setText(`${dir('memory')}/memory.max_usage_in_bytes`, `${12 * MiB}\n`);
    await fake.setText(`${dir('memory')}/memory.memsw.usage_in_bytes`, `${11 * MiB}\n`);
    await fake.setText(
      `${dir('memory')}/memory.stat`,
      `cache 100\nrss 200\ntotal_cache ${3 * MiB}\ntotal_rss ${7 * MiB}\ntotal_inactive_file ${2 * MiB}\nhierarchical_memory_limit ${64 * MiB}\n`,
    );
    await fake.setText(
      `${dir('memory')}/memory.oom_control`,
      'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n',
    );
    await fake.setText(`${dir('cpuacct')}/cpuacct.usage`, '1500000000\n');
    await fake.setText(`${dir('cpuacct')}/cpuacct.stat`, 'user 100\nsystem 50\n');
    await fake.setText(`${dir('cpu')}/cpu.stat`, 'nr_periods 10\nnr_throttled 4\nthrottled_time 123456\n');
    await fake.setText(`${dir('pids')}/pids.current`, '3\n');
    await fake.setText(
      `${dir('blkio')}/blkio.throttle.io_service_bytes`,
      '254:0 Read 4096\n254:0 Write 8192\n254:0 Sync 0\n254:0 Async 0\n254:0 Total 12288\nTotal 12288\n',
    );
    await fake.setText(
      `${dir('blkio')}/blkio.throttle.io_serviced`,
      '254:0 Read 1\n254:0 Write 2\n254:0 Total 3\nTotal 3\n',
    );
    const stats = await manager.stats();
    expect(stats.memory).toEqual({
      usage: 10 * MiB,
      workingSet: 8 * MiB,
      limit: 64 * MiB,
      maxUsage: 12 * MiB,
      swapUsage: MiB,
      cache: 3 * MiB,
      anon: 7 * MiB,
      oomKills: 2,
    });
    expect(stats.cpu).toEqual({
      usageNanos: 1.5e9,
      userNanos: 1e9,
      systemNanos: 0.5e9,
      periods: 10,
      throttledPeriods: 4,
      throttledNanos: 123456,
      quotaCpus: 0.5,
    });
    expect(stats.pids).toEqual({ current: 3, limit: 20 });
    expect(stats.io).toEqual({ readBytes: 4096, writeBytes: 8192, readOps: 1, writeOps: 2 });
  });

  // A list sorted by CPU samples the rows off screen for their CPU time only (issue 11).
  it("reads one figure with only, a row's figures with summary", async () => {
    const { fake, manager } = await setup();
    await manager.create({ memory: 64 * MiB, cpuQuota: 50000, pidsLimit: 20 });
    const dir = (h: string): string => `${h}/gantry/c1`;
    await fake.setText(`${dir('memory')}/memory.usage_in_bytes`, `${10 * MiB}\n`);
    await fake.setText(`${dir('memory')}/memory.stat`, `total_inactive_file ${2 * MiB}\n`);
    await fake.setText(`${dir('cpuacct')}/cpuacct.usage`, '1500000000\n');
    await fake.setText(`${dir('cpuacct')}/cpuacct.stat`, 'user 100\nsystem 50\n');
    await fake.setText(`${dir('cpu')}/cpu.stat`, 'nr_periods 10\nnr_throttled 4\nthrottled_time 123456\n');
    await fake.setText(`${dir('pids')}/pids.current`, '3\n');
    const cpu = await manager.stats({ only: 'cpu' });
    expect(cpu.cpu).toEqual({ usageNanos: 1.5e9 });
    expect(cpu.memory).toBeUndefined();
    expect(cpu.pids).toBeUndefined();
    const memory = await manager.stats({ only: 'memory' });
    expect(memory.memory).toEqual({ usage: 10 * MiB, workingSet: 8 * MiB, limit: 64 * MiB, oomKills: 0 });
    expect(memory.cpu).toBeUndefined();
    expect((await manager.stats({ only: 'pids' })).pids).toEqual({ current: 3, limit: 20 });
    const summary = await manager.stats({ summary: true });
    expect(summary.cpu).toEqual({ usageNanos: 1.5e9 });
    expect(summary.pids).toEqual({ current: 3, limit: 20 });
    expect(summary.memory?.workingSet).toBe(8 * MiB);
    expect(summary.io).toBeUndefined();
  });

  it('treats the huge v1 "unlimited" value as no limit', async () => {
    const { manager } = await setup();
    await manager.create({});
    const stats = await manager.stats();
    expect(stats.memory?.limit).toBeUndefined();
    expect(stats.pids).toEqual({ current: 0 });
    expect(stats.cpu?.quotaCpus).toBeUndefined();
  });
});

describe('v1 manager: destroy', () => {
  it('removes every directory, is idempotent, and removes the parent it made', async () => {
    const { fake, manager, root } = await setup();
    await manager.create({ memory: 32 * MiB });
    expect(await manager.pids()).toEqual([]);
    await manager.destroy();
    await manager.destroy();
    expect(await manager.exists()).toBe(false);
    await manager.removeParentIfEmpty();
    const layout = detectFromTree(root);
    for (const hierarchy of layout.hierarchies)
      expect(await fake.exists(path.join(hierarchy.mountPoint, 'gantry'))).toBe(false);
  });

  it('keeps a parent with another container, and a parent it did not make', async () => {
    const { fake, manager, root } = await setup();
    const other = createCgroupManager({ cgroupRoot: root, parent: 'gantry', name: 'c2', fs: fake });
    await manager.create({});
    await other.create({});
    await manager.destroy();
    await manager.removeParentIfEmpty();
    expect(await fake.exists(path.join(root, 'memory/gantry/c2'))).toBe(true);
    await other.destroy();
    await other.removeParentIfEmpty();
    expect(await fake.exists(path.join(root, 'memory/gantry'))).toBe(false);

    await fsp.mkdir(path.join(root, 'pids/gantry'));
    await manager.create({});
    await manager.destroy();
    await manager.removeParentIfEmpty();
    expect(await fake.exists(path.join(root, 'pids/gantry'))).toBe(true);
    expect(await fake.exists(path.join(root, 'memory/gantry'))).toBe(false);
  });

  it('reports processes that keep the cgroup busy', async () => {
    const { fake, manager } = await setup();
    await manager.create({});
    await fake.writeFile(path.join(fake.root, 'pids/gantry/c1/cgroup.procs'), '4242');
    expect(await manager.pids()).toEqual([4242]);
    const error = await failure(manager.destroy());
    expect(error).toBeInstanceOf(ConflictError);
    expect(error.message).toMatch(/still in use by processes 4242/);
    expect(await fake.exists(path.join(fake.root, 'memory/gantry/c1'))).toBe(false);
  });

  it('validates the parent and name', () => {
    expect(() =>
      createCgroupManager({
        cgroupRoot: '/nonexistent',
        parent: 'x',
        name: 'a',
        layout: { kind: 'v1', driver: 1, hierarchies: [] },
      }),
    ).not.toThrow();
    const layout = { kind: 'v1' as const, driver: 1 as const, hierarchies: [] };
    expect(() => createCgroupManager({ parent: '../etc', name: 'a', layout })).toThrow(InvalidArgumentError);
    expect(() => createCgroupManager({ parent: 'gantry', name: 'a/b', layout })).toThrow(
      InvalidArgumentError,
    );
    expect(createCgroupManager({ parent: 'a/b', name: 'c', layout }).path).toBe('/a/b/c');
  });
});
