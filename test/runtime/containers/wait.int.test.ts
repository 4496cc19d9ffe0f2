/** `wait` and its conditions (docker's API names: not-running, next-exit, removed) for real. */
import { expect, it } from 'vitest';
import { engineForSuite, processState, waitFor } from '../../support/engine.js';
import { describeUnless, needsRoot } from '../../support/skip.js';

describeUnless(needsRoot(), 'gantry wait', () => {
  const engine = engineForSuite('wait');
  const state = async (name: string) =>
    JSON.parse((await engine.gantry(['inspect', name])).stdout)[0].State as {
      Status: string;
      ExitCode: number;
    };
  /**
   * `gantry wait ARGS`, returned once it has had its first look at the container (it stops itself
   * there, GANTRY_TRACE_STOP, and goes on): a look that came only after the test's next steps, on
   * a loaded machine, would find the container gone or its run over.
   */
  const waitingFor = async (args: string[]) => {
    const waiting = engine.spawn(['wait', ...args], {
      env: { ...engine.env, GANTRY_TRACE_STOP: 'wait: waiting' },
      stdin: 'ignore',
    });
    await waitFor(
      () => processState(waiting.pid!) === 'T' || waiting.exitCode !== null,
      60_000,
      '`gantry wait` to stop where it waits',
    );
    expect(waiting.exitCode, 'wait ended before it waited').toBeNull();
    process.kill(waiting.pid!, 'SIGCONT');
    // In an object: the process is a promise, which an async function's return would wait for.
    return { waiting };
  };

  it('answers at once for a container that was created but never started, or whose start failed', async () => {
    expect((await engine.gantry(['create', '--name', 'never', 'demo', 'true'])).exitCode).toBe(0);
    const never = await engine.gantry(['wait', 'never']);
    expect(never).toMatchObject({ exitCode: 0, stdout: '0\n' });

    expect((await engine.gantry(['create', '--name', 'broken', 'demo', 'no-such-command'])).exitCode).toBe(0);
    expect((await engine.gantry(['start', 'broken'])).exitCode).not.toBe(0);
    const broken = await engine.gantry(['wait', 'broken']);
    expect(broken.exitCode).toBe(0);
    expect(Number(broken.stdout)).toBe((await state('broken')).ExitCode);
  });

  it('not-running waits for the end of the current run', async () => {
    await engine.gantry(['run', '-d', '--name', 'runs', 'demo', 'sleep', '300']);
    const waiting = engine.spawn(['wait', '--condition', 'not-running', 'runs']);
    expect((await engine.gantry(['kill', 'runs'])).exitCode).toBe(0);
    expect((await waiting).stdout).toBe('137');
  });

  it('next-exit waits through a container that is not running yet for the end of its next run', async () => {
    await engine.gantry(['create', '--name', 'next', 'demo', 'sh', '-c', 'sleep 300']);
    const { waiting } = await waitingFor(['--condition', 'next-exit', 'next']);
    expect((await engine.gantry(['start', 'next'])).exitCode).toBe(0);
    await waitFor(async () => (await state('next')).Status === 'running');
    // Not-running would have answered already; next-exit is still waiting for this run's end.
    expect(waiting.exitCode).toBeNull();
    await engine.gantry(['kill', 'next']);
    expect((await waiting).stdout).toBe('137');
  });

  it('removed waits until the record is gone and answers with the last exit code', async () => {
    await engine.gantry(['create', '--name', 'goes', 'demo', 'sh', '-c', 'exit 4']);
    const { waiting } = await waitingFor(['--condition', 'removed', 'goes']);
    await engine.gantry(['start', 'goes']);
    await waitFor(async () => (await state('goes')).Status === 'exited');
    expect(waiting.exitCode).toBeNull();
    expect((await engine.gantry(['rm', 'goes'])).exitCode).toBe(0);
    const result = await waiting;
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe('4');
  });

  it('refuses a condition it does not know, naming the accepted ones', async () => {
    const wrong = await engine.gantry(['wait', '--condition', 'healthy', 'never']);
    expect(wrong.exitCode).not.toBe(0);
    expect(wrong.stderr).toContain('invalid wait condition "healthy"');
    expect(wrong.stderr).toContain('not-running, next-exit, removed');
  });
});
