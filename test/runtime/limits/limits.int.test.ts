/**
 * Every limit flag of run, on this machine's real cgroup v1 hierarchies: it writes the right file
 * and the kernel enforces it on a workload in the container.
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, expect, it } from 'vitest';
import type { ContainerStats } from '../../../source/runtime/containers/stats.js';
import { expectQuotaHolds, favourParent } from '../../support/cpu-quota.js';
import { engineForSuite, waitFor } from '../../support/engine.js';
import {
  blockDeviceOf,
  cgroupDir,
  cgroupFile,
  collectEvents,
  inspect,
  runDetached,
  skipUnlessV1Root,
} from './support.js';
import { describeUnless, skipIf } from '../../support/skip.js';

const MiB = 1024 * 1024;

/**
 * Why --blkio-weight cannot be applied here: proportional weights need an I/O scheduler with
 * them (CFQ's blkio.weight, BFQ's blkio.bfq.weight), and hosts whose disks use none, mq-deadline
 * or kyber have no weight files. Weights are then tested in the cgroup v2 guest.
 */
const noBlkioWeight = ['blkio.weight', 'blkio.bfq.weight'].some((file) =>
  fs.existsSync(path.join('/sys/fs/cgroup/blkio', file)),
)
  ? undefined
  : 'this host has no blkio weight files (blkio.weight, blkio.bfq.weight: no CFQ or BFQ I/O scheduler), so --blkio-weight cannot apply here; the cgroup v2 guest tests it';

describeUnless(skipUnlessV1Root, 'resource limits on cgroup v1', () => {
  const engine = engineForSuite('limits');
  let disk: { device: string } | { reason: string };
  beforeAll(() => {
    disk = blockDeviceOf(engine.root);
  });

  it('writes each flag to its cgroup file and shows it in inspect', async () => {
    const device = 'device' in disk ? disk.device : undefined;
    const throttles = device
      ? ['--device-read-bps', `${device}:1mb`, '--device-write-iops', `${device}:100`]
      : [];
    const id = await runDetached(engine, [
      '--name',
      'files',
      '-m',
      '64m',
      '--memory-reservation',
      '32m',
      '--memory-swap',
      '128m',
      '--oom-kill-disable',
      '--memory-swappiness',
      '10',
      '-c',
      '512',
      '--cpu-quota',
      '30000',
      '--cpu-period',
      '60000',
      '--cpuset-cpus',
      '0',
      '--cpuset-mems',
      '0',
      ...throttles,
      '--pids-limit',
      '50',
      'demo',
      'sleep',
      '300',
    ]);
    expect(cgroupFile(engine, 'memory', id, 'memory.limit_in_bytes')).toBe(String(64 * MiB));
    expect(cgroupFile(engine, 'memory', id, 'memory.soft_limit_in_bytes')).toBe(String(32 * MiB));
    expect(cgroupFile(engine, 'memory', id, 'memory.memsw.limit_in_bytes')).toBe(String(128 * MiB));
    expect(cgroupFile(engine, 'memory', id, 'memory.oom_control')).toContain('oom_kill_disable 1');
    expect(cgroupFile(engine, 'memory', id, 'memory.swappiness')).toBe('10');
    expect(cgroupFile(engine, 'cpu', id, 'cpu.shares')).toBe('512');
    expect(cgroupFile(engine, 'cpu', id, 'cpu.cfs_quota_us')).toBe('30000');
    expect(cgroupFile(engine, 'cpu', id, 'cpu.cfs_period_us')).toBe('60000');
    expect(cgroupFile(engine, 'cpuset', id, 'cpuset.cpus')).toBe('0');
    expect(cgroupFile(engine, 'cpuset', id, 'cpuset.mems')).toBe('0');
    expect(cgroupFile(engine, 'pids', id, 'pids.max')).toBe('50');
    const devices = cgroupFile(engine, 'devices', id, 'devices.list').split('\n');
    expect(devices).not.toContain('a *:* rwm');
    expect(devices).toEqual(
      expect.arrayContaining(['c *:* m', 'b *:* m', 'c 1:3 rwm', 'c 1:9 rwm', 'c 136:* rwm']),
    );
    if (device) {
      const [major, minor] = [fs.statSync(device).rdev >> 8, fs.statSync(device).rdev & 0xff];
      expect(cgroupFile(engine, 'blkio', id, 'blkio.throttle.read_bps_device')).toBe(
        `${major}:${minor} ${MiB}`,
      );
      expect(cgroupFile(engine, 'blkio', id, 'blkio.throttle.write_iops_device')).toBe(
        `${major}:${minor} 100`,
      );
    }
    const host = (await inspect(engine, 'files')).HostConfig;
    expect(host).toMatchObject({
      Memory: 64 * MiB,
      MemoryReservation: 32 * MiB,
      MemorySwap: 128 * MiB,
      OomKillDisable: true,
      CpuShares: 512,
      CpuQuota: 30000,
      CpuPeriod: 60000,
      CpusetCpus: '0',
      CpusetMems: '0',
      PidsLimit: 50,
    });
    if (device) expect(host.BlkioDeviceReadBps).toEqual([{ Path: device, Rate: MiB }]);
    await engine.gantry(['rm', '-f', 'files']);
  });

  it('writes --blkio-weight to the weight file and shows it in inspect', async (context) => {
    skipIf(context, noBlkioWeight);
    const id = await runDetached(engine, [
      '--name',
      'weighted',
      '--blkio-weight',
      '300',
      'demo',
      'sleep',
      '300',
    ]);
    const weightFile = ['blkio.weight', 'blkio.bfq.weight'].find((file) =>
      fs.existsSync(path.join(cgroupDir(engine, 'blkio', id), file)),
    );
    expect(cgroupFile(engine, 'blkio', id, weightFile as string)).toMatch(/(^|\s)300$/);
    expect((await inspect(engine, 'weighted')).HostConfig.BlkioWeight).toBe(300);
    await engine.gantry(['rm', '-f', 'weighted']);
  });

  it('refuses --blkio-weight at create where the kernel has no weight files, with nothing left behind', async (context) => {
    skipIf(context, !noBlkioWeight && 'this host has blkio weight files (CFQ or BFQ), so the weight applies');
    const before = (await engine.gantry(['ps', '-aq'])).stdout;
    const refused = await engine.gantry([
      'run',
      '--name',
      'unweighted',
      '--blkio-weight',
      '300',
      'demo',
      'true',
    ]);
    expect(refused.exitCode).toBe(125);
    expect(refused.stderr).toMatch(/no blkio weight files .* so --blkio-weight cannot be set/);
    expect((await engine.gantry(['ps', '-aq'])).stdout).toBe(before);
  });

  it('OOM-kills a memory hog under --memory 32m and reports it (inspect, exit code 137, an oom event)', async () => {
    const log = await collectEvents(engine);
    try {
      const run = await engine.gantry([
        'run',
        '--name',
        'hog',
        '--memory',
        '32m',
        'demo',
        'dd',
        'if=/dev/zero',
        'of=/dev/null',
        'bs=64M',
        'count=1',
      ]);
      expect(run.exitCode).toBe(137);
      const state = (await inspect(engine, 'hog')).State;
      expect(state.OOMKilled).toBe(true);
      expect(state.ExitCode).toBe(137);
      const oom = await log.next((event) => event.name === 'hog' && event.action === 'oom');
      const die = await log.next((event) => event.name === 'hog' && event.action === 'die');
      expect(oom.attributes).toMatchObject({ oomKillCount: '1', image: 'demo' });
      expect(die.attributes?.exitCode).toBe('137');
      expect(log.events.indexOf(oom)).toBeLessThan(log.events.indexOf(die));

      // A child killed while the container goes on: the event comes from the monitor's OOM
      // notification, not from the exit status.
      await runDetached(engine, [
        '--name',
        'survivor',
        '--memory',
        '32m',
        'demo',
        'sh',
        '-c',
        'dd if=/dev/zero of=/dev/null bs=64M count=1; sleep 300',
      ]);
      await log.next((event) => event.name === 'survivor' && event.action === 'oom');
      expect((await inspect(engine, 'survivor')).State.Status).toBe('running');
      const stats = JSON.parse(
        (await engine.gantry(['stats', '--no-stream', '--json', 'survivor'])).stdout,
      ) as ContainerStats[];
      expect(stats[0]?.cgroup.memory?.oomKills).toBe(1);
    } finally {
      await log.stop();
      await engine.gantry(['rm', '-f', 'hog', 'survivor']);
    }
  });

  it('stops a fork loop at --pids-limit', async () => {
    const loop = 'i=0; while [ $i -lt 30 ]; do sleep 60 & i=$((i+1)); echo $i; done';
    const limited = await engine.gantry(['run', '--rm', '--pids-limit', '10', 'demo', 'sh', '-c', loop]);
    expect(limited.exitCode).not.toBe(0);
    expect(limited.stderr).toMatch(/can't fork/);
    // The shell itself is one of the ten.
    expect(limited.stdout.trim().split('\n').at(-1)).toBe('9');
    const free = await engine.gantry(['run', '--rm', 'demo', 'sh', '-c', loop]);
    expect(free.exitCode).toBe(0);
    expect(free.stdout.trim().split('\n').at(-1)).toBe('30');
  });

  it('holds a CPU burner under --cpus 0.5 to half a CPU (the kernel throttles it), and stats shows it', async () => {
    await runDetached(engine, [
      '--name',
      'burner',
      '--cpus',
      '0.5',
      'demo',
      'sh',
      '-c',
      'while :; do :; done',
    ]);
    favourParent(engine.cgroupParent);
    const stats = async (): Promise<ContainerStats> => {
      const result = await engine.gantry(['stats', '--no-stream', '--json', 'burner']);
      expect(result.exitCode, result.stderr).toBe(0);
      return (JSON.parse(result.stdout) as ContainerStats[])[0] as ContainerStats;
    };
    // The figures come from `gantry stats`, so what it reports is what the kernel counted.
    await expectQuotaHolds(async () => (await stats()).cgroup, { quotaMicros: 50000, periodMicros: 100000 });
    const last = await stats();
    expect(last.cgroup.cpu?.quotaCpus).toBe(0.5);
    // Over its 500 ms window (five periods) the burner cannot use more than its quota of each
    // period plus what it held when the window began (72% of a CPU; /proc/stat counts in 10 ms
    // ticks). How much less it got depends on the machine's load, so there is no lower bound.
    expect(last.cpuPercent).toBeGreaterThan(0);
    expect(last.cpuPercent).toBeLessThan(80);
    expect(last.cpuQuotaPercent).toBeGreaterThan(0);
    expect(last.cpuQuotaPercent).toBeLessThan(160);
    await engine.gantry(['rm', '-f', 'burner']);
  });

  it('pins to --cpuset-cpus 0 (Cpus_allowed_list in the container)', async () => {
    const pinned = await engine.gantry([
      'run',
      '--rm',
      '--cpuset-cpus',
      '0',
      'demo',
      'grep',
      'Cpus_allowed_list',
      '/proc/self/status',
    ]);
    expect(pinned.stdout.trim()).toBe('Cpus_allowed_list:\t0');
    const online = fs.readFileSync('/sys/devices/system/cpu/online', 'utf8').trim();
    if (online !== '0') {
      const free = await engine.gantry([
        'run',
        '--rm',
        'demo',
        'grep',
        'Cpus_allowed_list',
        '/proc/self/status',
      ]);
      expect(free.stdout.trim()).not.toBe('Cpus_allowed_list:\t0');
    }
  });

  it('pauses: a counter does not advance, the freezer is FROZEN, status paused everywhere', async () => {
    // Written aside and renamed, so a read never meets the file truncated (and frozen so).
    const counter =
      'i=0; while :; do i=$((i+1)); echo $i > /tmp/count.new; mv /tmp/count.new /tmp/count; sleep 0.05; done';
    const id = await runDetached(engine, ['--name', 'counter', 'demo', 'sh', '-c', counter]);
    const countFile = path.join(engine.root, 'containers', id, 'upper', 'tmp', 'count');
    const count = () => Number(fs.readFileSync(countFile, 'utf8').trim() || '0');
    await waitFor(() => fs.existsSync(countFile) && count() > 0, 60_000, 'the counter to count');
    expect((await engine.gantry(['pause', 'counter'])).stdout.trim()).toBe('counter');
    expect(cgroupFile(engine, 'freezer', id, 'freezer.state')).toBe('FROZEN');
    const frozenAt = count();
    await sleep(600);
    expect(count()).toBe(frozenAt);
    const state = (await inspect(engine, 'counter')).State;
    expect(state).toMatchObject({ Status: 'paused', Paused: true, Running: true });
    const ps = JSON.parse((await engine.gantry(['ps', '--json'])).stdout) as {
      Names: string;
      State: string;
      Status: string;
    }[];
    expect(ps.find((row) => row.Names === 'counter')).toMatchObject({
      State: 'paused',
      Status: expect.stringMatching(/\(Paused\)$/),
    });
    const again = await engine.gantry(['pause', 'counter']);
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toMatch(/container counter is already paused/);
    const exec = await engine.gantry(['exec', 'counter', 'true']);
    expect(exec.exitCode).not.toBe(0);
    expect(exec.stderr).toMatch(/paused/);

    expect((await engine.gantry(['unpause', 'counter'])).exitCode).toBe(0);
    expect(cgroupFile(engine, 'freezer', id, 'freezer.state')).toBe('THAWED');
    await waitFor(() => count() > frozenAt, 60_000, 'the thawed counter to count on');
    expect((await engine.gantry(['unpause', 'counter'])).stderr).toMatch(/container counter is not paused/);

    // A paused container can still be stopped and removed.
    await engine.gantry(['pause', 'counter']);
    const stop = await engine.gantry(['stop', '-t', '1', 'counter']);
    expect(stop.exitCode).toBe(0);
    expect((await inspect(engine, 'counter')).State).toMatchObject({ Status: 'exited', Paused: false });
    await engine.gantry(['start', 'counter']);
    await engine.gantry(['pause', 'counter']);
    expect((await engine.gantry(['rm', '-f', 'counter'])).exitCode).toBe(0);
    expect(fs.existsSync(cgroupDir(engine, 'freezer', id))).toBe(false);
  });

  it('throttles a direct-IO write under --device-write-bps', async (context) => {
    if ('reason' in disk) return skipIf(context, disk.reason);
    const volume = path.join(engine.root, 'volume');
    fs.mkdirSync(volume);
    // 2 MiB written with O_DIRECT, so the page cache cannot absorb it.
    const write = ['demo', 'dd', 'if=/dev/zero', 'of=/data/file', 'bs=64k', 'count=32', 'oflag=direct'];
    const timed = async (flags: string[]) => {
      const started = Date.now();
      const result = await engine.gantry(['run', '--rm', '-v', `${volume}:/data`, ...flags, ...write]);
      expect(result.exitCode, result.stderr).toBe(0);
      return Date.now() - started;
    };
    await timed([]); // the same write succeeds unthrottled
    // 2 MiB at 1 MiB/s (the kernel lets the first slice through at once): a lower bound, which a
    // busy machine can only lengthen.
    expect(await timed(['--device-write-bps', `${disk.device}:1mb`])).toBeGreaterThan(1500);
  });

  it('refuses a device outside the allowlist while /dev/null works; --device and --device-cgroup-rule allow one', async () => {
    const probe = (node: string, mode = '<>') =>
      `if (exec 3${mode}${node}) 2>/dev/null; then echo opened; else echo refused; fi`;
    const outside = await engine.gantry([
      'run',
      '--rm',
      'demo',
      'sh',
      '-c',
      `mknod /tmp/fuse c 10 229 && ${probe('/tmp/fuse')}; ${probe('/dev/null')}`,
    ]);
    expect(outside.stdout.trim().split('\n')).toEqual(['refused', 'opened']);
    const ruled = await engine.gantry([
      'run',
      '--rm',
      '--device-cgroup-rule',
      'c 10:229 rw',
      'demo',
      'sh',
      '-c',
      `mknod /tmp/fuse c 10 229 && ${probe('/tmp/fuse')}`,
    ]);
    expect(ruled.stdout.trim()).toBe('opened');
    if (fs.existsSync('/dev/fuse')) {
      const mapped = await engine.gantry([
        'run',
        '--rm',
        '--device',
        '/dev/fuse:/dev/myfuse:r',
        'demo',
        'sh',
        '-c',
        `stat -c '%t:%T %F' /dev/myfuse; ${probe('/dev/myfuse', '<')}; ${probe('/dev/myfuse', '>')}`,
      ]);
      expect(mapped.stdout.trim().split('\n')).toEqual(['a:e5 character special file', 'opened', 'refused']);
    }
  });

  it('refuses a limit this host cannot enforce at create, with nothing left behind', async () => {
    const before = (await engine.gantry(['ps', '-aq'])).stdout;
    const high = await engine.gantry(['run', '--name', 'high', '--memory-high', '64m', 'demo', 'true']);
    expect(high.exitCode).toBe(125);
    expect(high.stderr).toMatch(/--memory-high needs cgroup v2, and this host uses cgroup v1/);
    expect(high.stderr).toMatch(/hint: use --memory-reservation/);
    if (!fs.existsSync('/sys/fs/cgroup/net_prio') && !fs.existsSync('/sys/fs/cgroup/net_cls,net_prio')) {
      const prio = await engine.gantry(['create', '--net-prio', 'eth0=5', 'demo', 'true']);
      expect(prio.exitCode).toBe(125);
      expect(prio.stderr).toMatch(/the host has no net_prio cgroup controller/);
    }
    const bad = await engine.gantry(['create', '--memory-swap', '64m', 'demo', 'true']);
    expect(bad.exitCode).toBe(125);
    expect(bad.stderr).toMatch(/memory\+swap limit 64MiB is set without a memory limit/);
    expect((await engine.gantry(['ps', '-aq'])).stdout).toBe(before);
    expect((await engine.gantry(['inspect', 'high'])).exitCode).toBe(1);
  });
});
