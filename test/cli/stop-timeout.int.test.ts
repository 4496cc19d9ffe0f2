/**
 * `run --stop-timeout N` is what `stop` without `-t` waits for, told by the events and the exit
 * status, never by a stopwatch: a container that ignores SIGTERM gets SIGKILL (kill 15, kill 9,
 * die 137, stop); one whose TERM handler takes longer than docker's default 10 s but less than
 * its own --stop-timeout ends by itself (no SIGKILL, its own status).
 */
import { expect, it } from 'vitest';
import { engineForSuite } from '../support/engine.js';
import { describeUnless, needsRoot } from '../support/skip.js';

interface Event {
  action: string;
  name: string;
  attributes: Record<string, string>;
}

describeUnless(needsRoot(), 'gantry run --stop-timeout, then stop without -t', () => {
  const engine = engineForSuite('stop-timeout');

  const told = async (name: string): Promise<string[]> => {
    const past = await engine.gantry(['events', '--since', '1h', '--until', '0s', '--json']);
    expect(past.exitCode, past.stderr).toBe(0);
    return past.stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Event)
      .filter((event) => event.name === name)
      .map((event) =>
        [event.action, event.attributes.signal ?? event.attributes.exitCode ?? ''].join(' ').trim(),
      );
  };
  const run = async (name: string, timeout: string, script: string) => {
    const up = await engine.gantry([
      'run',
      '-d',
      '--name',
      name,
      '--network',
      'none',
      '--stop-timeout',
      timeout,
      'demo',
      'sh',
      '-c',
      // "ready" once the trap is set, so the stop cannot come before it.
      `${script}; echo ready; while :; do sleep 1; done`,
    ]);
    expect(up.exitCode, up.stderr).toBe(0);
    for (;;) {
      if ((await engine.gantry(['logs', name])).stdout.includes('ready')) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  it('a container that ignores SIGTERM is killed once its own timeout is up', async () => {
    await run('ignores-term', '1', "trap '' TERM");
    const stopped = await engine.gantry(['stop', 'ignores-term']);
    expect(stopped.exitCode, stopped.stderr).toBe(0);
    expect(await told('ignores-term')).toEqual(['create', 'start', 'kill 15', 'kill 9', 'die 137', 'stop']);
    expect((await engine.gantry(['inspect', '--format', '{{.State.ExitCode}}', 'ignores-term'])).stdout).toBe(
      '137\n',
    );
  });

  it("waits longer than docker's default 10 s when --stop-timeout says so", async () => {
    // The handler needs over 10 s: under the default the container would get SIGKILL (137).
    await run('slow-term', '120', "trap 'sleep 11; exit 4' TERM");
    const stopped = await engine.gantry(['stop', 'slow-term']);
    expect(stopped.exitCode, stopped.stderr).toBe(0);
    expect(await told('slow-term')).toEqual(['create', 'start', 'kill 15', 'die 4', 'stop']);
    expect(
      (await engine.gantry(['inspect', '--format', '{{.Config.StopTimeout}}', 'slow-term'])).stdout,
    ).toBe('120\n');
  });
});
