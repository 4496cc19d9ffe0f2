/**
 * `events` with docker's kill and stop actions (kill, then die, then stop; `signal` on kill),
 * live and told again with `--since`/`--until` from what the state directory keeps.
 */
import { expect, it } from 'vitest';
import { engineForSuite } from '../support/engine.js';
import { describeUnless, needsRoot } from '../support/skip.js';
import { collectEvents } from '../runtime/limits/support.js';

interface Event {
  action: string;
  name: string;
  attributes: Record<string, string>;
}

describeUnless(needsRoot(), 'gantry events: kill and stop, --since and --until', () => {
  const engine = engineForSuite('events-stop-kill');

  it('stop is told as kill (the stop signal), die, stop; kill as kill (signal), die', async () => {
    const log = await collectEvents(engine);
    try {
      // The shell ignores nothing: TERM ends it, so no SIGKILL follows.
      const up = await engine.gantry([
        'run',
        '-d',
        '--name',
        'stopped',
        'demo',
        'sh',
        '-c',
        "trap 'exit 3' TERM; while :; do sleep 0.2; done",
      ]);
      expect(up.exitCode, up.stderr).toBe(0);
      await log.next((event) => event.name === 'stopped' && event.action === 'start');
      expect((await engine.gantry(['stop', 'stopped'])).exitCode).toBe(0);
      await log.next((event) => event.name === 'stopped' && event.action === 'stop');

      const other = await engine.gantry(['run', '-d', '--name', 'killed', 'demo', 'sleep', '300']);
      expect(other.exitCode, other.stderr).toBe(0);
      await log.next((event) => event.name === 'killed' && event.action === 'start');
      expect((await engine.gantry(['kill', '--signal', 'KILL', 'killed'])).exitCode).toBe(0);
      await log.next((event) => event.name === 'killed' && event.action === 'die');
    } finally {
      await log.stop();
    }
    const of = (name: string) =>
      (log.events as unknown as Event[])
        .filter((event) => event.name === name)
        .map((event) =>
          [event.action, event.attributes.signal ?? event.attributes.exitCode ?? ''].join(' ').trim(),
        );
    expect(of('stopped')).toEqual(['create', 'start', 'kill 15', 'die 3', 'stop']);
    expect(of('killed')).toEqual(['create', 'start', 'kill 9', 'die 137']);

    // Told again: the same events, in the same order, from the state directory.
    const past = await engine.gantry(['events', '--since', '1h', '--until', '0s', '--json']);
    expect(past.exitCode, past.stderr).toBe(0);
    const told = past.stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Event);
    const again = (name: string) =>
      told
        .filter((event) => event.name === name)
        .map((event) =>
          [event.action, event.attributes.signal ?? event.attributes.exitCode ?? ''].join(' ').trim(),
        );
    expect(again('stopped')).toEqual(['create', 'start', 'kill 15', 'die 3', 'stop']);
    expect(again('killed')).toEqual(['create', 'start', 'kill 9', 'die 137']);

    // docker's line and filters apply to them as to live ones.
    const filtered = await engine.gantry([
      'events',
      '--since',
      '1h',
      '--until',
      '0s',
      '--filter',
      'event=stop',
    ]);
    expect(filtered.stdout).toMatch(
      /^\d{4}-\d\d-\d\dT[\d:.]+Z container stop [0-9a-f]{64} \(image=demo, name=stopped\)\n$/,
    );
    // A window that ended before they happened holds none of them; --until alone ends at once.
    expect((await engine.gantry(['events', '--since', '2h', '--until', '1h'])).stdout).toBe('');
    const bad = await engine.gantry(['events', '--since', 'soon']);
    expect(bad.exitCode).not.toBe(0);
    expect(bad.stderr).toMatch(/invalid time "soon"/);
    expect((await engine.gantry(['rm', 'stopped', 'killed'])).exitCode).toBe(0);
  });
});
