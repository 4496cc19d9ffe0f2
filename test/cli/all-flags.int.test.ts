/**
 * podman's `--all` on start, stop, kill, pause and unpause, and docker's `stop --timeout` (the
 * current name of -t, which stays).
 */
import { expect, it } from 'vitest';
import { engineForSuite } from '../support/engine.js';
import { describeUnless, needsRoot } from '../support/skip.js';

describeUnless(needsRoot(), 'start/stop/kill/pause/unpause --all', () => {
  const engine = engineForSuite('all-flags');
  const states = async () =>
    Object.fromEntries(
      (await engine.gantry(['ps', '-a', '--format', '{{.Names}} {{.State}}'])).stdout
        .split('\n')
        .filter(Boolean)
        .map((line) => line.split(' ')),
    );
  const ok = async (...args: string[]) => {
    const result = await engine.gantry(args);
    expect(result.exitCode, `${args.join(' ')}: ${result.stderr}`).toBe(0);
    return result.stdout;
  };

  it('acts on every container in the state each verb applies to', async () => {
    for (const name of ['a1', 'a2', 'a3'])
      await ok('create', '--name', name, '--network', 'none', 'demo', 'sleep', '300');
    const started = (await ok('start', '--all')).split('\n').filter(Boolean);
    expect(started).toHaveLength(3);
    expect(await states()).toEqual({ a1: 'running', a2: 'running', a3: 'running' });

    await ok('pause', '-a');
    expect(await states()).toEqual({ a1: 'paused', a2: 'paused', a3: 'paused' });
    await ok('unpause', 'a1');
    await ok('unpause', '--all');
    expect(await states()).toEqual({ a1: 'running', a2: 'running', a3: 'running' });

    await ok('kill', '--all', '--signal', 'KILL');
    const killed = await states();
    expect(Object.values(killed)).toEqual(['exited', 'exited', 'exited']);
    const codes = (await ok('ps', '-a', '--format', '{{.Status}}')).split('\n').filter(Boolean);
    for (const status of codes) expect(status).toMatch(/^Exited \(137\)/);

    await ok('start', 'a1', 'a2');
    // --timeout 0: SIGKILL at once, which sleep (no SIGTERM handler as PID 1) needs.
    const stopped = (await ok('stop', '--all', '--timeout', '0')).split('\n').filter(Boolean);
    expect(stopped).toHaveLength(2);
    expect(await states()).toEqual({ a1: 'exited', a2: 'exited', a3: 'exited' });
    await ok('start', 'a3');
    await ok('stop', '-t', '0', 'a3');
    await ok('start', 'a3');
    await ok('stop', '--time', '0', 'a3');
    expect((await states()).a3).toBe('exited');
  });

  it('refuses names beside --all, and neither', async () => {
    const both = await engine.gantry(['stop', '--all', 'a1']);
    expect(both.exitCode).toBe(125);
    expect(both.stderr).toMatch(/--all and container names cannot be given together/);
    const neither = await engine.gantry(['kill']);
    expect(neither.exitCode).toBe(125);
    expect(neither.stderr).toMatch(/"gantry kill" requires at least 1 argument \(or --all\)/);
    const badTimeout = await engine.gantry(['stop', '--timeout', '-5', 'a1']);
    expect(badTimeout.stderr).toMatch(/invalid --timeout -5/);
  });
});
