/**
 * The v2 driver against a real pure cgroup v2 kernel (the guest of `npm run test:cgroup-v2`):
 * every limit is read back from its v2 file and shown to bite on processes this test spawns into
 * a cgroup parent of its own, by what the kernel counts (memory.events, pids.events, cpu.stat,
 * hugetlb events, io.stat and io pressure). On any other host each test skips with the reason.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, expect, it } from 'vitest';
import { createCgroupManager } from '../../../source/runtime/cgroups/create-manager.js';
import { splitDeviceNumber } from '../../../source/runtime/cgroups/parse.js';
import type { CgroupManager } from '../../../source/runtime/cgroups/types.js';
import { ConflictError, InvalidArgumentError } from '../../../source/runtime/errors.js';
import {
  CGROUP_V2_ROOT,
  cgroupV2File,
  cgroupV2Keyed,
  describeCgroupV2,
  requireOrSkip,
  skipUnlessCgroupV2,
} from '../../support/cgroup-v2.js';
import { testName, waitFor } from '../../support/engine.js';
import { blockDeviceOf } from '../limits/support.js';
import { killAll, killLiveChildren, spawnIn } from './real-kernel.js';

const MiB = 1024 * 1024;
const parent = testName(`v2k-${randomBytes(3).toString('hex')}`);
const managers: CgroupManager[] = [];

function manager(name: string, parentName = parent): CgroupManager {
  const created = createCgroupManager({ parent: parentName, name });
  managers.push(created);
  return created;
}

/** The container's path below the v2 root, e.g. "gantry-test-x-v2k-1a2b3c/memory". */
const relative = (cgroup: CgroupManager): string => cgroup.path.slice(1);
const file = (cgroup: CgroupManager, name: string): string => cgroupV2File(relative(cgroup), name);
const keyed = (cgroup: CgroupManager, name: string): Map<string, number> =>
  cgroupV2Keyed(relative(cgroup), name);

/** major:minor of the whole disk holding `directory`, or why there is none. */
function diskOf(directory: string): { id: string; device: string } | { reason: string } {
  const disk = blockDeviceOf(directory);
  if ('reason' in disk) return disk;
  const { major, minor } = splitDeviceNumber(fs.statSync(disk.device).rdev);
  return { id: `${major}:${minor}`, device: disk.device };
}

afterAll(async () => {
  if (skipUnlessCgroupV2) return;
  await killLiveChildren();
  for (const cgroup of managers) await killAll(cgroup);
  for (const cgroup of managers) await cgroup.destroy().catch(() => undefined);
  for (const cgroup of managers) await cgroup.removeParentIfEmpty().catch(() => undefined);
  // This test's own parent (its name is random), also where it made children by hand.
  const own = path.join(CGROUP_V2_ROOT, parent);
  for (const child of ['busy/inner', 'busy']) await fsp.rmdir(path.join(own, child)).catch(() => undefined);
  await fsp.rmdir(own).catch(() => undefined);
  expect(fs.existsSync(own)).toBe(false);
});

describeCgroupV2('v2 driver on the real kernel: memory', () => {
  it('OOM-kills beyond --memory 32m without swap: memory.max, memory.swap.max 0, memory.events oom_kill', async () => {
    const cgroup = manager('oom');
    await cgroup.create({ memory: 32 * MiB, memorySwap: 32 * MiB });
    expect(file(cgroup, 'memory.max')).toBe(String(32 * MiB));
    expect(file(cgroup, 'memory.swap.max')).toBe('0');
    const hog = await spawnIn(cgroup, 'exec dd if=/dev/zero of=/dev/null bs=48M count=1');
    expect((await hog.exited).signal).toBe('SIGKILL');
    expect(keyed(cgroup, 'memory.events').get('oom_kill')).toBeGreaterThanOrEqual(1);
    const stats = await cgroup.stats();
    expect(stats.memory?.oomKills).toBeGreaterThanOrEqual(1);
    expect(stats.memory?.limit).toBe(32 * MiB);
    expect(cgroup.oomCounter()).toEqual({
      file: path.join(CGROUP_V2_ROOT, relative(cgroup), 'memory.events'),
      key: 'oom_kill',
    });
  });

  it('lets the same allocation through with --memory-swap 64m: memory.swap.max is swap alone (32m)', async () => {
    const cgroup = manager('swap');
    await cgroup.create({ memory: 32 * MiB, memorySwap: 64 * MiB });
    expect(file(cgroup, 'memory.max')).toBe(String(32 * MiB));
    expect(file(cgroup, 'memory.swap.max')).toBe(String(32 * MiB));
    const hog = await spawnIn(cgroup, 'exec dd if=/dev/zero of=/dev/null bs=48M count=1');
    expect(await hog.exited, hog.output()).toEqual({ code: 0, signal: null });
    // It reached memory.max and was pushed to swap instead of being killed.
    const events = keyed(cgroup, 'memory.events');
    expect(events.get('max')).toBeGreaterThan(0);
    expect(events.get('oom_kill')).toBe(0);
    expect(keyed(cgroup, 'memory.swap.events').get('max') ?? 0).toBe(0);
  });

  it('keeps memory+swap when only the memory limit is updated, as v1 does', async () => {
    const cgroup = manager('swap-update');
    await cgroup.create({ memory: 32 * MiB, memorySwap: 64 * MiB });
    await cgroup.update({ memory: 48 * MiB });
    expect(file(cgroup, 'memory.max')).toBe(String(48 * MiB));
    expect(file(cgroup, 'memory.swap.max')).toBe(String(16 * MiB));
    await cgroup.update({ memory: 64 * MiB });
    expect(file(cgroup, 'memory.swap.max')).toBe('0');
    const error = await cgroup.update({ memory: 96 * MiB }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as Error).message).toMatch(/memory\+swap limit 64MiB is below the memory limit 96MiB/);
    expect(file(cgroup, 'memory.max')).toBe(String(64 * MiB));
    expect(file(cgroup, 'memory.swap.max')).toBe('0');
    await cgroup.update({ memory: 96 * MiB, memorySwap: -1 });
    expect(file(cgroup, 'memory.swap.max')).toBe('max');
  });

  it('throttles at memory.high (memory.events high) and protects with memory.low', async () => {
    const cgroup = manager('high');
    await cgroup.create({ memoryHigh: 16 * MiB, memoryReservation: 8 * MiB });
    expect(file(cgroup, 'memory.high')).toBe(String(16 * MiB));
    expect(file(cgroup, 'memory.low')).toBe(String(8 * MiB));
    const hog = await spawnIn(cgroup, 'exec dd if=/dev/zero of=/dev/null bs=32M count=1');
    expect(await hog.exited, hog.output()).toEqual({ code: 0, signal: null });
    expect(keyed(cgroup, 'memory.events').get('high')).toBeGreaterThan(0);
  });
});

describeCgroupV2('v2 driver on the real kernel: pids, cpu, cpuset, freezer', () => {
  it('stops a fork loop at pids.max and counts the refusals in pids.events', async () => {
    const cgroup = manager('pids');
    await cgroup.create({ pidsLimit: 8 });
    expect(file(cgroup, 'pids.max')).toBe('8');
    const forker = await spawnIn(
      cgroup,
      'i=0; while [ $i -lt 20 ]; do sleep infinity & i=$((i+1)); done; echo forked; sleep infinity',
    );
    await waitFor(() => (keyed(cgroup, 'pids.events').get('max') ?? 0) > 0, 30_000, 'a refused fork');
    expect(Number(file(cgroup, 'pids.current'))).toBeLessThanOrEqual(8);
    expect((await cgroup.stats()).pids).toMatchObject({ limit: 8 });
    await killAll(cgroup);
    await forker.exited;
  });

  it('holds a busy loop to its cpu.max quota: periods throttled, usage far below an unlimited loop', async () => {
    const cgroup = manager('cpu');
    await cgroup.create({ cpuQuota: 20_000, cpuPeriod: 100_000, cpuShares: 512 });
    expect(file(cgroup, 'cpu.max')).toBe('20000 100000');
    // docker's shares → weight conversion, as runc does: 1 + (512 - 2) * 9999 / 262142.
    expect(file(cgroup, 'cpu.weight')).toBe('20');
    await spawnIn(cgroup, 'while :; do :; done');
    await waitFor(
      () => (keyed(cgroup, 'cpu.stat').get('nr_throttled') ?? 0) >= 5,
      60_000,
      'five throttled periods',
    );
    // Usage first: periods only grow, so the bound below can only be looser than the truth.
    const usage = keyed(cgroup, 'cpu.stat').get('usage_usec') as number;
    const stat = keyed(cgroup, 'cpu.stat');
    const periods = stat.get('nr_periods') as number;
    expect(stat.get('throttled_usec')).toBeGreaterThan(0);
    // Unlimited, the loop would use a whole period per period. The kernel lets a group overrun
    // its quota by what it ran between two checks, and a guest without steal time (TCG on a busy
    // host) counts the time its vCPU was preempted as use: quota 20000 of 100000 measured about 21000
    // per period there. Halfway between the quota and no limit tells the two apart either way.
    expect(usage).toBeLessThanOrEqual((periods + 1) * 60_000);
    const stats = await cgroup.stats();
    expect(stats.cpu?.quotaCpus).toBe(0.2);
    expect(stats.cpu?.throttledPeriods).toBeGreaterThanOrEqual(5);
    await killAll(cgroup);
  });

  it('pins a process to CPU 0 with cpuset.cpus', async () => {
    const cgroup = manager('cpuset');
    await cgroup.create({ cpusetCpus: '0', cpusetMems: '0' });
    expect(file(cgroup, 'cpuset.cpus')).toBe('0');
    expect(file(cgroup, 'cpuset.cpus.effective')).toBe('0');
    expect(file(cgroup, 'cpuset.mems')).toBe('0');
    const sleeper = await spawnIn(cgroup, 'exec sleep infinity');
    await waitFor(async () =>
      /^Cpus_allowed_list:\s+0$/m.test(await fsp.readFile(`/proc/${sleeper.pid}/status`, 'utf8')),
    );
    await killAll(cgroup);
  });

  it('freezes a busy process with cgroup.freeze (no CPU time while frozen) and thaws it', async () => {
    const cgroup = manager('freezer');
    await cgroup.create({});
    await spawnIn(cgroup, 'while :; do :; done');
    const usage = () => keyed(cgroup, 'cpu.stat').get('usage_usec') as number;
    await waitFor(() => usage() > 0);
    await cgroup.freeze();
    expect(file(cgroup, 'cgroup.freeze')).toBe('1');
    expect(keyed(cgroup, 'cgroup.events').get('frozen')).toBe(1);
    expect(await cgroup.freezerState()).toBe('frozen');
    const frozenAt = usage();
    // The window in which a running loop would have used CPU (it is not a wait for a condition).
    await sleep(500);
    expect(usage()).toBe(frozenAt);
    await cgroup.thaw();
    expect(file(cgroup, 'cgroup.freeze')).toBe('0');
    expect(keyed(cgroup, 'cgroup.events').get('frozen')).toBe(0);
    await waitFor(() => usage() > frozenAt, 30_000, 'the thawed loop to run');
    await killAll(cgroup);
  });
});

describeCgroupV2('v2 driver on the real kernel: io and hugetlb', () => {
  it('throttles direct-IO writes with io.max: the kernel counts the bytes and the stall', async (context) => {
    const disk = diskOf('/tmp');
    requireOrSkip(context, 'reason' in disk ? disk.reason : undefined);
    const { id } = disk as { id: string };
    const cgroup = manager('io');
    const throttle = { path: '/tmp disk', major: Number(id.split(':')[0]), minor: Number(id.split(':')[1]) };
    await cgroup.create({
      blkioDeviceWriteBps: [{ ...throttle, rate: MiB }],
      blkioDeviceReadIOps: [{ ...throttle, rate: 500 }],
    });
    expect(file(cgroup, 'io.max')).toBe(`${id} rbps=max wbps=${MiB} riops=500 wiops=max`);
    const target = await fsp.mkdtemp('/tmp/gantry-v2k-io-');
    try {
      const writer = await spawnIn(
        cgroup,
        `exec dd if=/dev/zero of=${target}/file bs=64k count=48 oflag=direct`,
      );
      expect(await writer.exited, writer.output()).toEqual({ code: 0, signal: null });
      const written = (await cgroup.stats()).io?.writeBytes ?? 0;
      expect(written).toBeGreaterThanOrEqual(3 * MiB);
      // 3 MiB at 1 MiB/s: the writer waits on the throttle for seconds (the first slice goes
      // through at once), and the kernel counts that wait as I/O pressure.
      const stalled = /some .*total=(\d+)/.exec(file(cgroup, 'io.pressure'))?.[1];
      expect(Number(stalled)).toBeGreaterThan(1_000_000);
    } finally {
      await fsp.rm(target, { recursive: true, force: true });
    }
  });

  it('sets the BFQ weight (io.bfq.weight), and a device weight on a disk that uses BFQ', async (context) => {
    const disk = diskOf('/tmp');
    requireOrSkip(context, 'reason' in disk ? disk.reason : undefined);
    const { id, device } = disk as { id: string; device: string };
    const scheduler = fs.readFileSync(`/sys/block/${path.basename(device)}/queue/scheduler`, 'utf8');
    requireOrSkip(
      context,
      scheduler.includes('[bfq]') ? undefined : `${device} does not use BFQ: ${scheduler.trim()}`,
    );
    const [major, minor] = id.split(':').map(Number) as [number, number];
    const cgroup = manager('weight');
    await cgroup.create({
      blkioWeight: 300,
      blkioWeightDevice: [{ path: device, major, minor, weight: 700 }],
    });
    expect(file(cgroup, 'io.bfq.weight').split('\n')).toEqual(['default 300', `${id} 700`]);
    await cgroup.update({ blkioWeight: 400 });
    expect(file(cgroup, 'io.bfq.weight').split('\n')).toEqual(['default 400', `${id} 700`]);
  });

  it('refuses a device weight for a disk without BFQ before the cgroup exists', async (context) => {
    const other = ['vdb', 'sdb', 'vda', 'sda'].find((name) => {
      try {
        return !fs.readFileSync(`/sys/block/${name}/queue/scheduler`, 'utf8').includes('[bfq]');
      } catch {
        return false;
      }
    });
    requireOrSkip(context, other ? undefined : 'no disk here runs without BFQ');
    const { major, minor } = splitDeviceNumber(fs.statSync(`/dev/${other}`).rdev);
    const cgroup = manager('no-bfq');
    const weights = { blkioWeightDevice: [{ path: `/dev/${other}`, major, minor, weight: 700 }] };
    const refused = await cgroup.checkSupport(weights).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(InvalidArgumentError);
    expect((refused as Error).message).toMatch(
      new RegExp(`weight for /dev/${other}: the disk ${major}:${minor} uses the \\S+ I/O scheduler.* BFQ`),
    );
    expect(await cgroup.create(weights).catch((e: unknown) => e)).toBeInstanceOf(InvalidArgumentError);
    expect(await cgroup.exists()).toBe(false);
  });

  it('limits 2 MB huge pages with hugetlb.2MB.max and counts the refusal', async (context) => {
    const pages = Number(fs.readFileSync('/proc/sys/vm/nr_hugepages', 'utf8'));
    requireOrSkip(
      context,
      pages >= 4 ? undefined : `the kernel has ${pages} huge pages reserved, 4 are needed`,
    );
    const mount = fs
      .readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .find((line) => / - hugetlbfs /.test(line))
      ?.split(' ')[4];
    requireOrSkip(context, mount ? undefined : 'no hugetlbfs is mounted');
    const cgroup = manager('hugetlb');
    await cgroup.create({ hugepageLimits: { '2MB': 2 * 2 * MiB } });
    expect(file(cgroup, 'hugetlb.2MB.max')).toBe(String(4 * MiB));
    const files = `${mount}/${parent}`;
    try {
      // A refused fallocate keeps the pages it got: remove them before the next try.
      const over = await spawnIn(
        cgroup,
        `fallocate -l 6M ${files}-over; echo status=$?; rm -f ${files}-over`,
      );
      await over.exited;
      await over.outputEnded;
      expect(over.output()).toMatch(/status=[1-9]/);
      expect(keyed(cgroup, 'hugetlb.2MB.events').get('max')).toBeGreaterThan(0);
      const within = await spawnIn(cgroup, `fallocate -l 4M ${files}-within; echo status=$?`);
      await within.exited;
      await within.outputEnded;
      expect(within.output()).toContain('status=0');
      expect(Number(file(cgroup, 'hugetlb.2MB.current'))).toBe(4 * MiB);
    } finally {
      await fsp.rm(`${files}-over`, { force: true });
      await fsp.rm(`${files}-within`, { force: true });
    }
  });
});

describeCgroupV2('v2 driver on the real kernel: updates, parents, removal', () => {
  it('updates a running cgroup, and a value the kernel refuses undoes the others', async (context) => {
    const cgroup = manager('update');
    await cgroup.create({ memory: 128 * MiB, pidsLimit: 50 });
    await spawnIn(cgroup, 'exec sleep infinity');
    // Empty: the parent's CPUs.
    expect(file(cgroup, 'cpuset.cpus')).toBe('');
    const cpusBefore = file(cgroup, 'cpuset.cpus.effective');
    await cgroup.update({ memory: 96 * MiB, pidsLimit: 40 });
    expect(file(cgroup, 'memory.max')).toBe(String(96 * MiB));
    expect(file(cgroup, 'pids.max')).toBe('40');
    // cpuset, memory and pids are written before io; the kernel refuses a throttle for a block
    // device that does not exist (a minor no disk of the scratch disk's driver has), and
    // everything before it is undone.
    const disk = diskOf('/tmp');
    requireOrSkip(context, 'reason' in disk ? disk.reason : undefined);
    const major = Number((disk as { id: string }).id.split(':')[0]);
    const error = await cgroup
      .update({
        cpusetCpus: '0',
        memory: 64 * MiB,
        pidsLimit: 30,
        blkioDeviceWriteBps: [{ path: '/dev/none', major, minor: 4000, rate: MiB }],
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as Error).message).toMatch(new RegExp(`/dev/none \\(${major}:4000\\)`));
    expect(file(cgroup, 'memory.max')).toBe(String(96 * MiB));
    expect(file(cgroup, 'pids.max')).toBe('40');
    // The kernel keeps a cgroup with processes from going back to an empty set (ENOSPC), so the
    // rollback writes the parent's CPUs: the same CPUs in force.
    expect(file(cgroup, 'cpuset.cpus.effective')).toBe(cpusBefore);
    expect(file(cgroup, 'cpuset.cpus')).toBe(
      cgroupV2File(path.dirname(relative(cgroup)), 'cpuset.cpus.effective'),
    );
    await killAll(cgroup);
  });

  it('enables only what each parent offers, and the container gets every controller it needs', async () => {
    const cgroup = manager('controllers', `${parent}/nested/deeper`);
    await cgroup.create({
      memory: 64 * MiB,
      pidsLimit: 20,
      cpuQuota: 50_000,
      cpusetCpus: '0',
      blkioWeight: 200,
    });
    const controllers = file(cgroup, 'cgroup.controllers').split(' ');
    expect(controllers).toEqual(expect.arrayContaining(['cpuset', 'cpu', 'io', 'memory', 'pids', 'hugetlb']));
    // The leaf holds processes, so nothing may be enabled below it.
    expect(file(cgroup, 'cgroup.subtree_control')).toBe('');
    await cgroup.destroy();
    await cgroup.removeParentIfEmpty();
    expect(fs.existsSync(path.join(CGROUP_V2_ROOT, parent, 'nested'))).toBe(false);
  });

  it('refuses a parent that holds processes, explains the rule, and leaves that parent as it was', async () => {
    const busy = path.join(CGROUP_V2_ROOT, parent, 'busy');
    await fsp.mkdir(path.dirname(busy), { recursive: true });
    await fsp.mkdir(busy);
    const holder = manager('holder', `${parent}`);
    await holder.create({});
    // A process of someone else's in the parent-to-be (moved there by hand, as a shell would be).
    const sitter = await spawnIn(holder, 'exec sleep infinity');
    await fsp.writeFile(path.join(busy, 'cgroup.procs'), String(sitter.pid));
    const subtreeBefore = fs.readFileSync(path.join(busy, 'cgroup.subtree_control'), 'utf8');
    const cgroup = manager('refused', `${parent}/busy`);
    const error = await cgroup.create({ memory: 64 * MiB, pidsLimit: 10 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as Error).message).toMatch(/busy.* has processes of its own/);
    expect((error as ConflictError).hint).toMatch(/no-internal-process|holds no processes/);
    expect(fs.readFileSync(path.join(busy, 'cgroup.subtree_control'), 'utf8')).toBe(subtreeBefore);
    expect(fs.existsSync(path.join(busy, 'refused'))).toBe(false);
    process.kill(sitter.pid, 'SIGKILL');
    await sitter.exited;
  });

  it('destroys idempotently and leaves nothing behind', async () => {
    const cgroup = manager('destroy');
    await cgroup.create({ memory: 64 * MiB, pidsLimit: 50 });
    expect(await cgroup.exists()).toBe(true);
    await cgroup.destroy();
    await cgroup.destroy();
    expect(await cgroup.exists()).toBe(false);
    expect(fs.existsSync(path.join(CGROUP_V2_ROOT, relative(cgroup)))).toBe(false);
  });
});
