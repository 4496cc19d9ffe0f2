/**
 * `gantry update` on the real kernel: a running container's files and behaviour change at once, a
 * refused value leaves the old one in force and in the record, and the change survives a restart.
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { engineForSuite, waitFor } from '../../support/engine.js';
import { cgroupFile, collectEvents, inspect, runDetached, skipUnlessV1Root } from './support.js';
import { describeUnless } from '../../support/skip.js';

const MiB = 1024 * 1024;

/** Starts up to 20 background sleeps in an exec'd shell, noting their pids; prints the count. */
// The sleeps must not hold the exec's output open, or the exec would wait for them.
const FORKS =
  'i=0; while [ $i -lt 20 ]; do sleep 60 >/dev/null 2>&1 & echo $! >> /tmp/forked; i=$((i+1)); echo $i; done';
/** An init that reaps the orphans an exec leaves (a shell waiting on its own child reaps any). */
const REAPING_INIT = ['sh', '-c', 'while :; do sleep 1; done'];

describeUnless(skipUnlessV1Root, 'gantry update', () => {
  const engine = engineForSuite('update');

  const forks = async (name: string) => {
    const result = await engine.gantry(['exec', name, 'sh', '-c', FORKS]);
    return { started: Number(result.stdout.trim().split('\n').at(-1) ?? 0), stderr: result.stderr };
  };
  const killForked = (name: string) =>
    engine.gantry(['exec', name, 'sh', '-c', 'kill $(cat /tmp/forked) 2>/dev/null; rm -f /tmp/forked']);

  it('raises the pids limit of a running container: the file changes and more forks succeed', async () => {
    const log = await collectEvents(engine);
    try {
      const id = await runDetached(engine, ['--name', 'pids', '--pids-limit', '6', 'demo', ...REAPING_INIT]);
      // Exec'd processes are in the container's cgroup: they share its six.
      const limited = await forks('pids');
      expect(limited.started).toBeLessThan(6);
      expect(limited.stderr).toMatch(/can't fork/);
      const update = await engine.gantry(['update', '--pids-limit', '40', 'pids']);
      expect(update.exitCode).toBe(0);
      expect(update.stdout).toBe('pids\n');
      expect(cgroupFile(engine, 'pids', id, 'pids.max')).toBe('40');
      await killForked('pids');
      const raised = await forks('pids');
      expect(raised.started).toBe(20);
      expect(raised.stderr).not.toMatch(/can't fork/);
      expect((await inspect(engine, 'pids')).HostConfig.PidsLimit).toBe(40);
      await log.next((event) => event.name === 'pids' && event.action === 'update');
    } finally {
      await log.stop();
      await engine.gantry(['rm', '-f', 'pids']);
    }
  });

  it('lowers the memory limit of a running container: the same allocation is now OOM-killed', async () => {
    const id = await runDetached(engine, ['--name', 'shrink', '--memory', '256m', 'demo', 'sleep', '300']);
    const hog = ['exec', 'shrink', 'dd', 'if=/dev/zero', 'of=/dev/null', 'bs=64M', 'count=1'];
    expect((await engine.gantry(hog)).exitCode).toBe(0);
    const update = await engine.gantry(['update', '--memory', '32m', '--memory-swap', '64m', 'shrink']);
    expect(update.exitCode, update.stderr).toBe(0);
    expect(cgroupFile(engine, 'memory', id, 'memory.limit_in_bytes')).toBe(String(32 * MiB));
    expect(cgroupFile(engine, 'memory', id, 'memory.memsw.limit_in_bytes')).toBe(String(64 * MiB));
    expect((await engine.gantry(hog)).exitCode).toBe(137);
    expect((await inspect(engine, 'shrink')).HostConfig).toMatchObject({
      Memory: 32 * MiB,
      MemorySwap: 64 * MiB,
    });
    await engine.gantry(['rm', '-f', 'shrink']);
  });

  it('refuses memory below current usage with a clear error; the old limit stays in the kernel and the record', async () => {
    // tmpfs pages are charged to the container and cannot be reclaimed without swap.
    const id = await runDetached(engine, [
      '--name',
      'full',
      '--memory',
      '128m',
      'demo',
      'sh',
      '-c',
      'head -c 48m /dev/zero > /dev/shm/fill && echo filled && sleep 300',
    ]);
    await waitFor(
      async () => (await engine.gantry(['logs', 'full'])).stdout.includes('filled') || undefined,
      60_000,
      'the 48 MiB in /dev/shm',
    );
    const before = await inspect(engine, 'full');
    const refused = await engine.gantry(['update', '--memory', '16m', '--memory-swap', '32m', 'full']);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(
      /memory limit 16MiB is below the container's current usage [\d.]+[KMG]iB and the kernel could not reclaim enough; the old limit 128MiB stays/,
    );
    expect(cgroupFile(engine, 'memory', id, 'memory.limit_in_bytes')).toBe(String(128 * MiB));
    expect(cgroupFile(engine, 'memory', id, 'memory.memsw.limit_in_bytes')).toBe(String(256 * MiB));
    expect((await inspect(engine, 'full')).HostConfig).toEqual(before.HostConfig);

    // A value no kernel is asked about: refused by the checks, also without any change.
    const conflict = await engine.gantry(['update', '--memory', '512m', 'full']);
    expect(conflict.exitCode).toBe(1);
    expect(conflict.stderr).toMatch(/memory\+swap limit 256MiB is below the memory limit 512MiB/);
    expect(conflict.stderr).toMatch(/hint: --memory-swap is memory plus swap/);
    const cpus = await engine.gantry(['update', '--cpuset-cpus', '0,4095', 'full']);
    expect(cpus.exitCode).toBe(1);
    expect(cpus.stderr).toMatch(/--cpuset-cpus 0,4095: the host has no CPU 4095/);
    const none = await engine.gantry(['update', 'full']);
    expect(none.exitCode).toBe(125);
    expect(none.stderr).toMatch(/you must provide one or more flags/);
    expect((await inspect(engine, 'full')).HostConfig).toEqual(before.HostConfig);
    await engine.gantry(['rm', '-f', 'full']);
  });

  it('updates a paused container, and the change survives a restart', async () => {
    await runDetached(engine, ['--name', 'keep', '--cpus', '0.5', 'demo', 'sleep', '300']);
    await engine.gantry(['pause', 'keep']);
    const update = await engine.gantry(['update', '--cpus', '0.25', '--pids-limit', '42', 'keep']);
    expect(update.exitCode, update.stderr).toBe(0);
    const id = (await inspect(engine, 'keep')).Id;
    expect(cgroupFile(engine, 'cpu', id, 'cpu.cfs_quota_us')).toBe('25000');
    expect((await inspect(engine, 'keep')).State.Status).toBe('paused');
    expect((await engine.gantry(['restart', '-t', '1', 'keep'])).exitCode).toBe(0);
    // A new run gets a new cgroup, made from the record.
    expect(cgroupFile(engine, 'cpu', id, 'cpu.cfs_quota_us')).toBe('25000');
    expect(cgroupFile(engine, 'pids', id, 'pids.max')).toBe('42');

    // A stopped container keeps the change for its next start.
    await engine.gantry(['stop', '-t', '1', 'keep']);
    expect((await engine.gantry(['update', '--pids-limit', '43', 'keep'])).exitCode).toBe(0);
    expect(fs.existsSync(path.join('/sys/fs/cgroup/pids', engine.cgroupParent, id))).toBe(false);
    expect((await inspect(engine, 'keep')).HostConfig).toMatchObject({ PidsLimit: 43, CpuQuota: 25000 });
    await engine.gantry(['start', 'keep']);
    expect(cgroupFile(engine, 'pids', id, 'pids.max')).toBe('43');
    await engine.gantry(['rm', '-f', 'keep']);
  });
});
