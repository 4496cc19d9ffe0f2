/**
 * Every limit flag of run on a pure cgroup v2 host (the guest of `npm run test:cgroup-v2`): it
 * writes the right v2 file, and the kernel enforces it on a workload in the container, shown by
 * what the kernel counts (memory.events, pids.events, cpu.stat, io.stat and io pressure). On any
 * other host each test skips with the reason.
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect, it } from 'vitest';
import { splitDeviceNumber } from '../../../source/runtime/cgroups/parse.js';
import type { ContainerStats } from '../../../source/runtime/containers/stats.js';
import * as bpf from '../../../source/runtime/sys/bpf.js';
import {
  CGROUP_V2_ROOT,
  cgroupV2File,
  cgroupV2Keyed,
  describeCgroupV2,
  requireOrSkip,
} from '../../support/cgroup-v2.js';
import { engineForSuite, waitFor } from '../../support/engine.js';
import { blockDeviceOf, collectEvents, inspect, runDetached } from './support.js';

const MiB = 1024 * 1024;

/** The disk holding `directory` with its major:minor, or why there is none. */
function diskOf(directory: string): { device: string; id: string; name: string } | { reason: string } {
  const disk = blockDeviceOf(directory);
  if ('reason' in disk) return disk;
  const { major, minor } = splitDeviceNumber(fs.statSync(disk.device).rdev);
  return { device: disk.device, id: `${major}:${minor}`, name: path.basename(disk.device) };
}

function schedulerOf(name: string): string {
  try {
    return fs.readFileSync(`/sys/block/${name}/queue/scheduler`, 'utf8').trim();
  } catch {
    return '';
  }
}

describeCgroupV2('resource limits on cgroup v2', () => {
  const engine = engineForSuite('limits-v2');
  const dir = (id: string) => path.join(engine.cgroupParent, id);
  const file = (id: string, name: string) => cgroupV2File(dir(id), name);
  const keyed = (id: string, name: string) => cgroupV2Keyed(dir(id), name);

  it('writes each flag to its v2 file and shows it in inspect', async (context) => {
    const disk = diskOf(engine.root);
    requireOrSkip(context, 'reason' in disk ? disk.reason : undefined);
    const { device, id: diskId, name } = disk as { device: string; id: string; name: string };
    requireOrSkip(context, schedulerOf(name).includes('[bfq]') ? undefined : `${device} does not use BFQ`);
    const id = await runDetached(engine, [
      '--name',
      'files',
      '-m',
      '64m',
      '--memory-reservation',
      '32m',
      '--memory-swap',
      '128m',
      '--memory-high',
      '48m',
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
      '--blkio-weight',
      '300',
      '--blkio-weight-device',
      `${device}:700`,
      '--device-read-bps',
      `${device}:1mb`,
      '--device-write-iops',
      `${device}:100`,
      '--pids-limit',
      '50',
      'demo',
      'sleep',
      'infinity',
    ]);
    expect(file(id, 'memory.max')).toBe(String(64 * MiB));
    expect(file(id, 'memory.low')).toBe(String(32 * MiB));
    expect(file(id, 'memory.high')).toBe(String(48 * MiB));
    // --memory-swap is memory plus swap; v2's file is swap alone.
    expect(file(id, 'memory.swap.max')).toBe(String(64 * MiB));
    expect(file(id, 'cpu.weight')).toBe('20');
    expect(file(id, 'cpu.max')).toBe('30000 60000');
    expect(file(id, 'cpuset.cpus')).toBe('0');
    expect(file(id, 'cpuset.mems')).toBe('0');
    expect(file(id, 'io.bfq.weight').split('\n')).toEqual(['default 300', `${diskId} 700`]);
    expect(file(id, 'io.max')).toBe(`${diskId} rbps=${MiB} wbps=max riops=max wiops=100`);
    expect(file(id, 'pids.max')).toBe('50');
    // The device rules are a BPF program on the container's cgroup (v2 has no devices files).
    const fd = bpf.openCgroupDirectory(path.join(CGROUP_V2_ROOT, dir(id)));
    try {
      expect(bpf.queryPrograms(fd, bpf.BPF_CGROUP_DEVICE)).toHaveLength(1);
    } finally {
      bpf.closeFd(fd);
    }
    const host = (await inspect(engine, 'files')).HostConfig;
    expect(host).toMatchObject({
      Memory: 64 * MiB,
      MemoryReservation: 32 * MiB,
      MemorySwap: 128 * MiB,
      CpuShares: 512,
      CpuQuota: 30000,
      CpuPeriod: 60000,
      CpusetCpus: '0',
      CpusetMems: '0',
      BlkioWeight: 300,
      BlkioWeightDevice: [{ Path: device, Weight: 700 }],
      PidsLimit: 50,
    });
    await engine.gantry(['rm', '-f', 'files']);
  });

  it('OOM-kills a memory hog under --memory 32m and reports it (memory.events, inspect, 137, an oom event)', async () => {
    const log = await collectEvents(engine);
    try {
      const hog = ['demo', 'dd', 'if=/dev/zero', 'of=/dev/null', 'bs=64M', 'count=1'];
      const run = await engine.gantry(['run', '--name', 'hog', '--memory', '32m', ...hog]);
      expect(run.exitCode).toBe(137);
      expect((await inspect(engine, 'hog')).State).toMatchObject({ OOMKilled: true, ExitCode: 137 });
      const oom = await log.next((event) => event.name === 'hog' && event.action === 'oom');
      const die = await log.next((event) => event.name === 'hog' && event.action === 'die');
      expect(oom.attributes).toMatchObject({ oomKillCount: '1', image: 'demo' });
      expect(log.events.indexOf(oom)).toBeLessThan(log.events.indexOf(die));

      // A child killed while the container goes on: the monitor watches memory.events.
      const id = await runDetached(engine, [
        '--name',
        'survivor',
        '--memory',
        '32m',
        '--memory-swap',
        '32m',
        'demo',
        'sh',
        '-c',
        'dd if=/dev/zero of=/dev/null bs=64M count=1; sleep infinity',
      ]);
      await log.next((event) => event.name === 'survivor' && event.action === 'oom');
      expect(keyed(id, 'memory.events').get('oom_kill')).toBe(1);
      expect((await inspect(engine, 'survivor')).State.Status).toBe('running');
      const [stats] = JSON.parse(
        (await engine.gantry(['stats', '--no-stream', '--json', 'survivor'])).stdout,
      ) as ContainerStats[];
      expect(stats?.cgroup.memory?.oomKills).toBe(1);
    } finally {
      await log.stop();
      await engine.gantry(['rm', '-f', 'hog', 'survivor']);
    }
  });

  it('lets swap take what --memory-swap allows beyond --memory, and nothing when they are equal', async () => {
    const hog = ['demo', 'dd', 'if=/dev/zero', 'of=/dev/null', 'bs=48M', 'count=1'];
    const swapped = await engine.gantry([
      'run',
      '--name',
      'swapped',
      '--memory',
      '32m',
      '--memory-swap',
      '96m',
      ...hog,
    ]);
    expect(swapped.exitCode, swapped.stderr).toBe(0);
    const noSwap = await engine.gantry([
      'run',
      '--name',
      'no-swap',
      '--memory',
      '32m',
      '--memory-swap',
      '32m',
      ...hog,
    ]);
    expect(noSwap.exitCode).toBe(137);
    expect((await inspect(engine, 'no-swap')).State.OOMKilled).toBe(true);
    await engine.gantry(['rm', 'swapped', 'no-swap']);
  });

  it('stops a fork loop at --pids-limit, and pids.events counts the refusals', async () => {
    const loop =
      'i=0; while [ $i -lt 30 ]; do sleep infinity & i=$((i+1)); echo $i; done; echo done; sleep infinity';
    const id = await runDetached(engine, ['--name', 'forks', '--pids-limit', '10', 'demo', 'sh', '-c', loop]);
    await waitFor(async () => (keyed(id, 'pids.events').get('max') ?? 0) > 0, 60_000, 'a refused fork');
    expect(file(id, 'pids.max')).toBe('10');
    expect(Number(file(id, 'pids.current'))).toBeLessThanOrEqual(10);
    const logs = await engine.gantry(['logs', 'forks']);
    expect(logs.stderr).toMatch(/can't fork/);
    await engine.gantry(['rm', '-f', 'forks']);
  });

  it('holds a CPU burner to --cpus 0.5 (cpu.max; cpu.stat counts throttled periods), and stats shows it', async () => {
    const id = await runDetached(engine, [
      '--name',
      'burner',
      '--cpus',
      '0.5',
      'demo',
      'sh',
      '-c',
      'while :; do :; done',
    ]);
    expect(file(id, 'cpu.max')).toBe('50000 100000');
    await waitFor(
      () => (keyed(id, 'cpu.stat').get('nr_throttled') ?? 0) >= 5,
      60_000,
      'five throttled periods',
    );
    const usage = keyed(id, 'cpu.stat').get('usage_usec') as number;
    const periods = keyed(id, 'cpu.stat').get('nr_periods') as number;
    // Halfway between the quota and no limit (a whole period per period): the kernel's overrun
    // between checks and a TCG guest's preempted vCPU time are counted as use (see v2-kernel).
    expect(usage).toBeLessThanOrEqual((periods + 1) * 75_000);

    const result = await engine.gantry(['stats', '--no-stream', '--json', 'burner']);
    expect(result.exitCode).toBe(0);
    const [stats] = JSON.parse(result.stdout) as ContainerStats[];
    expect(stats!.cgroup.cpu?.quotaCpus).toBe(0.5);
    expect(stats!.cgroup.cpu?.throttledPeriods).toBeGreaterThan(0);
    // The figure the table shows is in the JSON too.
    expect(stats!.cpuPercent).toBeGreaterThan(0);
    expect(stats!.cpuQuotaPercent).toBeGreaterThan(0);
    const table = await engine.gantry(['stats', '--no-stream', '--format', '{{.CPUPerc}}', 'burner']);
    expect(table.stdout).toMatch(/^\d+\.\d\d%\n$/);
    expect(table.stdout).not.toBe('0.00%\n');
    await engine.gantry(['rm', '-f', 'burner']);
  });

  it('pins to --cpuset-cpus 0 (cpuset.cpus.effective, Cpus_allowed_list in the container)', async () => {
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
    const id = await runDetached(engine, [
      '--name',
      'pinned',
      '--cpuset-cpus',
      '0',
      'demo',
      'sleep',
      'infinity',
    ]);
    expect(file(id, 'cpuset.cpus.effective')).toBe('0');
    await engine.gantry(['rm', '-f', 'pinned']);
  });

  it('pauses with cgroup.freeze: no CPU time while frozen, status paused, then thaws', async () => {
    const id = await runDetached(engine, ['--name', 'frozen', 'demo', 'sh', '-c', 'while :; do :; done']);
    const usage = () => keyed(id, 'cpu.stat').get('usage_usec') as number;
    await waitFor(() => usage() > 0);
    expect((await engine.gantry(['pause', 'frozen'])).exitCode).toBe(0);
    expect(file(id, 'cgroup.freeze')).toBe('1');
    expect(keyed(id, 'cgroup.events').get('frozen')).toBe(1);
    expect((await inspect(engine, 'frozen')).State).toMatchObject({ Status: 'paused', Paused: true });
    const frozenAt = usage();
    // The window in which a running loop would have used CPU (not a wait for a condition).
    await sleep(500);
    expect(usage()).toBe(frozenAt);
    expect((await engine.gantry(['unpause', 'frozen'])).exitCode).toBe(0);
    expect(keyed(id, 'cgroup.events').get('frozen')).toBe(0);
    await waitFor(() => usage() > frozenAt, 30_000, 'the thawed loop to run');
    // A paused container can still be removed, and its cgroup goes.
    await engine.gantry(['pause', 'frozen']);
    expect((await engine.gantry(['rm', '-f', 'frozen'])).exitCode).toBe(0);
    expect(fs.existsSync(path.join(CGROUP_V2_ROOT, dir(id)))).toBe(false);
  });

  it('throttles a direct-IO write with --device-write-bps: io.stat counts the bytes, io.pressure the wait', async (context) => {
    const disk = diskOf(engine.root);
    requireOrSkip(context, 'reason' in disk ? disk.reason : undefined);
    const { device, id: diskId } = disk as { device: string; id: string };
    const volume = path.join(engine.root, 'volume');
    fs.mkdirSync(volume, { recursive: true });
    // 3 MiB with O_DIRECT, so the page cache cannot absorb it, at 1 MiB/s.
    const id = await runDetached(engine, [
      '--name',
      'writer',
      '-v',
      `${volume}:/data`,
      '--device-write-bps',
      `${device}:1mb`,
      'demo',
      'sh',
      '-c',
      'dd if=/dev/zero of=/data/file bs=64k count=48 oflag=direct && echo written; sleep infinity',
    ]);
    expect(file(id, 'io.max')).toBe(`${diskId} rbps=max wbps=${MiB} riops=max wiops=max`);
    await waitFor(
      async () => (await engine.gantry(['logs', 'writer'])).stdout.includes('written'),
      120_000,
      'the write',
    );
    const written = /wbytes=(\d+)/.exec(
      file(id, 'io.stat')
        .split('\n')
        .find((line) => line.startsWith(`${diskId} `)) ?? '',
    );
    expect(Number(written?.[1])).toBeGreaterThanOrEqual(3 * MiB);
    // The writer waited on the throttle for seconds; the kernel counts it as I/O pressure.
    expect(Number(/some .*total=(\d+)/.exec(file(id, 'io.pressure'))?.[1])).toBeGreaterThan(1_000_000);
    await engine.gantry(['rm', '-f', 'writer']);
  });

  it('refuses a device outside the allowlist while /dev/null works; --device-cgroup-rule allows one', async () => {
    const probe = (node: string) =>
      `if (exec 3<>${node}) 2>/dev/null; then echo opened; else echo refused; fi`;
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
  });

  it('refuses what cgroup v2 cannot do, and a device weight without BFQ, at create with nothing left behind', async () => {
    const before = (await engine.gantry(['ps', '-aq'])).stdout;
    const refusals: [string[], RegExp][] = [
      [['--memory-swappiness', '10'], /cgroup v2 has no per-cgroup swappiness/],
      [['--oom-kill-disable'], /cgroup v2 cannot disable the OOM killer/],
      [['--kernel-memory', '64m'], /cgroup v2 has no separate kernel-memory limit/],
      [['--net-cls-classid', '0x100001'], /no net_cls\/net_prio controller/],
    ];
    const other = ['vdb', 'sdb'].find(
      (name) => schedulerOf(name) !== '' && !schedulerOf(name).includes('[bfq]'),
    );
    if (other)
      refusals.push([
        ['--blkio-weight-device', `/dev/${other}:500`],
        /takes a per-device weight only from BFQ/,
      ]);
    for (const [flags, message] of refusals) {
      const result = await engine.gantry(['run', '--name', 'refused', ...flags, 'demo', 'true']);
      expect(result.exitCode, flags.join(' ')).toBe(125);
      expect(result.stderr).toMatch(message);
    }
    expect(other, 'a disk without BFQ (the guest has /dev/vdb)').toBeDefined();
    expect((await engine.gantry(['ps', '-aq'])).stdout).toBe(before);
    expect((await engine.gantry(['inspect', 'refused'])).exitCode).toBe(1);
  });

  it("runs with --net host and with --privileged: /sys/fs/cgroup is the container's own cgroup", async () => {
    const look =
      'cat /proc/self/cgroup; cat /sys/fs/cgroup/memory.max; ls /sys/fs/cgroup | grep -c scope || true';
    for (const flags of [['--net', 'host'], ['--privileged'], ['--privileged', '--net', 'host']]) {
      const result = await engine.gantry([
        'run',
        '--rm',
        '--memory',
        '32m',
        ...flags,
        'demo',
        'sh',
        '-c',
        look,
      ]);
      expect(result.exitCode, `${flags.join(' ')}: ${result.stderr}`).toBe(0);
      // The cgroup namespace's root is the container's cgroup, and that is what is mounted.
      expect(result.stdout.split('\n').slice(0, 3)).toEqual(['0::/', String(32 * MiB), '0']);
    }
  });
});
