/**
 * `gantry update` on a pure cgroup v2 host (the guest of `npm run test:cgroup-v2`): a running
 * container's v2 files and behaviour change at once, memory.swap.max follows docker's memory+swap
 * arithmetic, and the change survives a restart. On any other host each test skips with the reason.
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { CGROUP_V2_ROOT, cgroupV2File, describeCgroupV2 } from '../../support/cgroup-v2.js';
import { engineForSuite } from '../../support/engine.js';
import { collectEvents, inspect, runDetached } from './support.js';

const MiB = 1024 * 1024;

/** Up to 20 background sleeps in an exec'd shell, their pids noted; prints the count. */
const FORKS =
  'i=0; while [ $i -lt 20 ]; do sleep 60 >/dev/null 2>&1 & echo $! >> /tmp/forked; i=$((i+1)); echo $i; done';
/** An init that reaps the orphans an exec leaves. */
const REAPING_INIT = ['sh', '-c', 'while :; do sleep 1; done'];

describeCgroupV2('gantry update on cgroup v2', () => {
  const engine = engineForSuite('update-v2');
  const file = (id: string, name: string) => cgroupV2File(path.join(engine.cgroupParent, id), name);
  const forks = async (name: string) => {
    const result = await engine.gantry(['exec', name, 'sh', '-c', FORKS]);
    return { started: Number(result.stdout.trim().split('\n').at(-1) ?? 0), stderr: result.stderr };
  };

  it('raises pids.max of a running container, and more forks succeed', async () => {
    const log = await collectEvents(engine);
    try {
      const id = await runDetached(engine, ['--name', 'pids', '--pids-limit', '6', 'demo', ...REAPING_INIT]);
      const limited = await forks('pids');
      expect(limited.started).toBeLessThan(6);
      expect(limited.stderr).toMatch(/can't fork/);
      const update = await engine.gantry(['update', '--pids-limit', '40', 'pids']);
      expect(update.exitCode, update.stderr).toBe(0);
      expect(file(id, 'pids.max')).toBe('40');
      await engine.gantry([
        'exec',
        'pids',
        'sh',
        '-c',
        'kill $(cat /tmp/forked) 2>/dev/null; rm -f /tmp/forked',
      ]);
      expect((await forks('pids')).started).toBe(20);
      expect((await inspect(engine, 'pids')).HostConfig.PidsLimit).toBe(40);
      await log.next((event) => event.name === 'pids' && event.action === 'update');
    } finally {
      await log.stop();
      await engine.gantry(['rm', '-f', 'pids']);
    }
  });

  it('lowers memory.max and memory.swap.max: the same allocation is now OOM-killed', async () => {
    const id = await runDetached(engine, [
      '--name',
      'shrink',
      '--memory',
      '256m',
      'demo',
      'sleep',
      'infinity',
    ]);
    const hog = ['exec', 'shrink', 'dd', 'if=/dev/zero', 'of=/dev/null', 'bs=80M', 'count=1'];
    expect((await engine.gantry(hog)).exitCode).toBe(0);
    const update = await engine.gantry(['update', '--memory', '32m', '--memory-swap', '64m', 'shrink']);
    expect(update.exitCode, update.stderr).toBe(0);
    expect(file(id, 'memory.max')).toBe(String(32 * MiB));
    expect(file(id, 'memory.swap.max')).toBe(String(32 * MiB));
    expect((await engine.gantry(hog)).exitCode).toBe(137);
    expect((await inspect(engine, 'shrink')).HostConfig).toMatchObject({
      Memory: 32 * MiB,
      MemorySwap: 64 * MiB,
    });
    await engine.gantry(['rm', '-f', 'shrink']);
  });

  it('--memory alone keeps memory+swap as inspect shows it: swap shrinks to what is left', async () => {
    // --memory 32m gives docker's default memory+swap of 64m: 32m of swap.
    const id = await runDetached(engine, ['--name', 'grow', '--memory', '32m', 'demo', 'sleep', 'infinity']);
    expect(file(id, 'memory.swap.max')).toBe(String(32 * MiB));
    const update = await engine.gantry(['update', '--memory', '64m', 'grow']);
    expect(update.exitCode, update.stderr).toBe(0);
    expect((await inspect(engine, 'grow')).HostConfig).toMatchObject({
      Memory: 64 * MiB,
      MemorySwap: 64 * MiB,
    });
    expect(file(id, 'memory.max')).toBe(String(64 * MiB));
    expect(file(id, 'memory.swap.max')).toBe('0');
    // No swap is left, so 80 MiB no longer fits (64 MiB of memory plus 32 MiB of swap would).
    const hog = await engine.gantry([
      'exec',
      'grow',
      'dd',
      'if=/dev/zero',
      'of=/dev/null',
      'bs=80M',
      'count=1',
    ]);
    expect(hog.exitCode).toBe(137);
    await engine.gantry(['rm', '-f', 'grow']);
  });

  it('refuses values the checks reject, leaving the kernel and the record as they were', async () => {
    const id = await runDetached(engine, ['--name', 'kept', '--memory', '128m', 'demo', 'sleep', 'infinity']);
    const before = await inspect(engine, 'kept');
    const conflict = await engine.gantry(['update', '--memory', '512m', 'kept']);
    expect(conflict.exitCode).toBe(1);
    expect(conflict.stderr).toMatch(/memory\+swap limit 256MiB is below the memory limit 512MiB/);
    const noBfq = await engine.gantry(['update', '--blkio-weight-device', '/dev/vdb:300', 'kept']);
    expect(noBfq.exitCode).toBe(1);
    expect(noBfq.stderr).toMatch(/takes a per-device weight only from BFQ/);
    expect(file(id, 'memory.max')).toBe(String(128 * MiB));
    expect(file(id, 'memory.swap.max')).toBe(String(128 * MiB));
    expect((await inspect(engine, 'kept')).HostConfig).toEqual(before.HostConfig);
    await engine.gantry(['rm', '-f', 'kept']);
  });

  it('updates a paused container, and the change survives a restart and a stop', async () => {
    await runDetached(engine, [
      '--name',
      'keep',
      '--cpus',
      '0.5',
      '--blkio-weight',
      '200',
      'demo',
      'sleep',
      'infinity',
    ]);
    await engine.gantry(['pause', 'keep']);
    const update = await engine.gantry([
      'update',
      '--cpus',
      '0.25',
      '--pids-limit',
      '42',
      '--blkio-weight',
      '500',
      'keep',
    ]);
    expect(update.exitCode, update.stderr).toBe(0);
    const id = (await inspect(engine, 'keep')).Id;
    expect(file(id, 'cpu.max')).toBe('25000 100000');
    expect(file(id, 'io.bfq.weight').split('\n')[0]).toBe('default 500');
    expect((await inspect(engine, 'keep')).State.Status).toBe('paused');
    expect((await engine.gantry(['restart', '-t', '1', 'keep'])).exitCode).toBe(0);
    // A new run gets a new cgroup, made from the record.
    expect(file(id, 'cpu.max')).toBe('25000 100000');
    expect(file(id, 'pids.max')).toBe('42');
    await engine.gantry(['stop', '-t', '1', 'keep']);
    expect((await engine.gantry(['update', '--pids-limit', '43', 'keep'])).exitCode).toBe(0);
    expect(fs.existsSync(path.join(CGROUP_V2_ROOT, engine.cgroupParent, id))).toBe(false);
    await engine.gantry(['start', 'keep']);
    expect(file(id, 'pids.max')).toBe('43');
    await engine.gantry(['rm', '-f', 'keep']);
  });
});
