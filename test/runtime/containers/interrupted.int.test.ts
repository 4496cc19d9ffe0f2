/**
 * Long operations killed for real (SIGKILL of the real CLI) at each of their phases: the CLI is
 * stopped at a named trace point (GANTRY_TRACE_STOP), killed there, and the next gantry command
 * of any kind must finish or undo what it left, so that nothing is left over: no journal entry,
 * work or removal directory, half-made container, stray name, orphaned layer or blob, frozen
 * container or cgroup. The phases are those a traced run of the same command passes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cgroupDirectories, engineForSuite, testName, waitFor } from '../../support/engine.js';
import { isGone, leftovers, phaseSoak, processState, runUntilPhase } from '../../support/faults.js';
import { describeUnless, needsRoot } from '../../support/skip.js';

describeUnless(needsRoot(), 'long operations killed at each phase', () => {
  const engine = engineForSuite('interrupted');
  let temp: string;
  let seedArchive: string;
  const { ok, nextCommandLeavesNothing, killAt, phases } = phaseSoak(engine);

  beforeAll(async () => {
    temp = fs.mkdtempSync(path.join('/tmp', `${testName('interrupted')}-`));
    // An image with a layer of its own (demo's layers stay shared), kept as an archive.
    await ok(['run', '--name', 'seed', 'demo', 'sh', '-c', 'echo seed > /seed']);
    await ok(['commit', 'seed', 'seed:1']);
    seedArchive = path.join(temp, 'seed.tar');
    await ok(['image', 'export', 'seed:1', seedArchive]);
    await ok(['rm', 'seed']);
    await ok(['image', 'rm', 'seed:1']);
  });
  afterAll(() => fs.rmSync(temp, { recursive: true, force: true }));

  it('a create killed after it reserved the name frees the name at once', async () => {
    for (const phase of ['create: name reserved', 'create: directory made']) {
      await killAt(['create', '--name', 'held', 'demo', 'true'], phase);
      const again = await engine.gantry(['create', '--name', 'held', 'demo', 'true']);
      expect(again.exitCode, `${phase}: ${again.stderr}`).toBe(0);
      expect(fs.readdirSync(path.join(engine.root, 'containers'))).toEqual([again.stdout.trim()]);
      await ok(['rm', 'held']);
      expect(leftovers(engine.root, engine.cgroupParent)).toEqual([]);
    }
  }, 900_000);

  it('a create with an anonymous volume killed at each phase leaves no volume behind', async () => {
    const traced = await phases(['create', '--name', 'traced-volume', '-v', '/data', 'demo', 'true']);
    await ok(['rm', '-v', 'traced-volume']);
    expect((await ok(['volume', 'ls', '-q'])).trim()).toBe('');
    // A phase naming the volume (its name is new each run) cannot be stopped at by name.
    const killed = traced.filter((phase) => phase.startsWith('create:') && !phase.includes('volume '));
    expect(killed).toContain('create: mounts prepared');
    for (const phase of killed) {
      if (!(await killAt(['create', '-v', '/data', 'demo', 'true'], phase))) continue;
      await nextCommandLeavesNothing(`create -v /data killed at ${phase}`);
      const saved = (await ok(['ps', '-aq'])).trim();
      if (saved !== '') {
        // It saved its record before it died: the container keeps its volume.
        expect((await ok(['volume', 'ls', '-q'])).trim(), phase).not.toBe('');
        await ok(['rm', '-v', saved]);
      }
      expect((await ok(['volume', 'ls', '-q'])).trim(), phase).toBe('');
    }
  }, 900_000);

  it('a create under way keeps its name from another create', async () => {
    const create = await runUntilPhase(
      engine,
      ['create', '--name', 'busy-name', 'demo', 'true'],
      'create: name reserved',
    );
    const other = await engine.gantry(['create', '--name', 'busy-name', 'demo', 'true']);
    expect(other.exitCode).toBe(125);
    expect(other.stderr).toContain('which is being created');
    expect((await create.resume()).exitCode).toBe(0);
    await ok(['rm', 'busy-name']);
  });

  it('parallel rm -f of one container never makes its directory again', async () => {
    const id = await ok(['run', '-d', '--name', 'twice', 'demo', 'sleep', '300']);
    // One rm -f has resolved the container and waits; the other removes it meanwhile.
    const late = await runUntilPhase(engine, ['rm', '-f', id], 'remove: begun');
    await ok(['rm', '-f', id]);
    const result = await late.resume();
    expect([0, 1]).toContain(result.exitCode);
    if (result.exitCode === 1) expect(result.stderr).toContain('no such container');
    expect(fs.existsSync(path.join(engine.root, 'containers', id))).toBe(false);
    expect(leftovers(engine.root, engine.cgroupParent)).toEqual([]);
  });

  it('a start killed before it released the process: the restart policy does not run it anyway', async () => {
    // A pod's members have restart policy Always (kube play's default): a `kube play` killed
    // while a member waited at the exec fifo left a monitor that restarted the process the
    // recovery killed, past the fifo, into the cgroup the recovery was removing.
    const id = await ok([
      'create',
      '--name',
      'always',
      '--restart',
      'always',
      'demo',
      'sh',
      '-c',
      'echo ran >> /ran; exec sleep 600',
    ]);
    const start = await runUntilPhase(engine, ['start', 'always'], 'launch: saved');
    await start.kill();
    const stored = JSON.parse(
      fs.readFileSync(path.join(engine.root, 'containers', id, 'state.json'), 'utf8'),
    ) as { Monitor: { pid: number } };
    const next = await engine.gantry(['ps', '-a', '-q']);
    expect(next.exitCode, next.stderr).toBe(0);
    expect(next.stderr).toBe('');
    const state = JSON.parse(await ok(['inspect', id]))[0] as {
      State: { Status: string; Error: string };
      RestartCount: number;
    };
    expect(state.State.Status).toBe('exited');
    expect(state.State.Error).toContain('the start was interrupted');
    expect(state.RestartCount).toBe(0);
    await waitFor(() => isGone(stored.Monitor.pid), 60_000, 'the monitor to end');
    // The process never ran: not released from the fifo, and not started again by the monitor.
    expect(fs.existsSync(path.join(engine.root, 'containers', id, 'upper', 'ran'))).toBe(false);
    expect(cgroupDirectories(path.join(engine.cgroupParent, id))).toEqual([]);
    await ok(['rm', id]);
    expect(leftovers(engine.root, engine.cgroupParent)).toEqual([]);
  });

  it('rm -f killed at each phase: the next command finishes the removal', async () => {
    const traced = await ok(['run', '-d', 'demo', 'sleep', '300']);
    for (const phase of await phases(['rm', '-f', traced])) {
      const id = await ok(['run', '-d', '--name', 'doomed', 'demo', 'sleep', '300']);
      const pid = JSON.parse(await ok(['inspect', id]))[0].State.Pid as number;
      await killAt(['rm', '-f', id], phase);
      await nextCommandLeavesNothing(`rm -f killed at "${phase}"`);
      expect(fs.existsSync(path.join(engine.root, 'containers', id)), phase).toBe(false);
      expect(fs.existsSync(path.join(engine.root, 'names', 'doomed')), phase).toBe(false);
      expect(cgroupDirectories(path.join(engine.cgroupParent, id)), phase).toEqual([]);
      await waitFor(() => ['Z', undefined].includes(processState(pid)), 10_000, 'the process to end');
    }
  }, 900_000);

  it('image import killed at each phase leaves nothing', async () => {
    for (const phase of await phases(['image', 'import', seedArchive, 'traced:1'])) {
      await ok(['image', 'rm', 'traced:1']).catch(() => undefined);
      await killAt(['image', 'import', seedArchive, 'imported:1'], phase);
      await nextCommandLeavesNothing(`image import killed at "${phase}"`);
      await engine.gantry(['image', 'rm', 'imported:1']);
    }
  }, 900_000);

  it('image rm killed at each phase leaves no orphaned layer or blob', async () => {
    await ok(['image', 'import', seedArchive, 'traced:1']);
    for (const phase of await phases(['image', 'rm', 'traced:1'])) {
      await ok(['image', 'import', seedArchive, 'victim:1']);
      await killAt(['image', 'rm', 'victim:1'], phase);
      await nextCommandLeavesNothing(`image rm killed at "${phase}"`);
      await engine.gantry(['image', 'rm', 'victim:1']);
    }
  }, 900_000);

  it('commit killed at each phase: the container runs on, thawed, and nothing is left', async () => {
    const id = await ok([
      'run',
      '-d',
      '--name',
      'source',
      'demo',
      'sh',
      '-c',
      'echo data > /data; sleep 600',
    ]);
    const traced = await phases(['commit', 'source', 'traced:commit']);
    await ok(['image', 'rm', 'traced:commit']);
    for (const phase of traced) {
      await killAt(['commit', 'source', 'committed:1'], phase);
      await nextCommandLeavesNothing(`commit killed at "${phase}"`);
      const state = JSON.parse(await ok(['inspect', id]))[0].State;
      expect(state.Status, phase).toBe('running');
      // Running for real: a frozen container could not exec.
      expect((await engine.gantry(['exec', id, 'cat', '/data'])).stdout, phase).toBe('data\n');
      await engine.gantry(['image', 'rm', 'committed:1']);
    }
    await ok(['rm', '-f', id]);
  }, 900_000);
});
