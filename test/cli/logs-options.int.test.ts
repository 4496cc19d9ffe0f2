/**
 * `logs --timestamps`, `--since`/`--until` in docker's three time forms (RFC 3339, unix seconds,
 * a duration back from now) and `--details` (the labels and env named by --log-opt labels=/env=).
 */
import { expect, it } from 'vitest';
import { engineForSuite, waitFor } from '../support/engine.js';
import { describeUnless, needsRoot } from '../support/skip.js';

describeUnless(needsRoot(), 'gantry logs options', () => {
  const engine = engineForSuite('logs-options');

  it('--timestamps, --since and --until select lines by the time they were written', async () => {
    const started = await engine.gantry([
      'run',
      '-d',
      '--name',
      'timed',
      'demo',
      'sh',
      '-c',
      'echo early; while [ ! -e /go ]; do sleep 0.1; done; echo late; sleep 300',
    ]);
    expect(started.exitCode, started.stderr).toBe(0);
    const stamped = async (): Promise<Map<string, string>> => {
      const lines = (await engine.gantry(['logs', '-t', 'timed'])).stdout.split('\n').filter(Boolean);
      return new Map(lines.map((line) => [line.split(' ')[1]!, line.split(' ')[0]!]));
    };
    const early = (await waitFor(async () => (await stamped()).get('early')))!;
    expect(early).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    // The second line goes into a later second than the first, so a whole-second --since splits them.
    const nextSecond = Math.ceil((Date.parse(early) + 1) / 1000);
    await waitFor(() => Date.now() > nextSecond * 1000 || undefined);
    expect((await engine.gantry(['exec', 'timed', 'touch', '/go'])).exitCode).toBe(0);
    const late = (await waitFor(async () => (await stamped()).get('late')))!;

    const logs = async (...flags: string[]) => (await engine.gantry(['logs', ...flags, 'timed'])).stdout;
    expect(await logs()).toBe('early\nlate\n');
    expect(await logs('--until', early)).toBe('early\n');
    expect(await logs('--since', late)).toBe('late\n');
    expect(await logs('--since', String(nextSecond))).toBe('late\n');
    expect(await logs('--until', String(nextSecond))).toBe('early\n');
    expect(await logs('--since', '1h')).toBe('early\nlate\n');
    expect(await logs('--until', '1h')).toBe('');
    expect(await logs('-t', '--since', late)).toBe(`${late} late\n`);
    const bad = await engine.gantry(['logs', '--since', 'yesterday', 'timed']);
    expect(bad.exitCode).not.toBe(0);
    expect(bad.stderr).toMatch(/invalid time "yesterday": give a duration like 10m/);
  });

  it('--details prints the labels and env --log-opt names, as docker does', async () => {
    const ran = await engine.gantry([
      'run',
      '--name',
      'detailed',
      '--label',
      'app=web',
      '-e',
      'MODE=a b',
      '--log-opt',
      'labels=app,absent',
      '--log-opt',
      'env=MODE',
      'demo',
      'sh',
      '-c',
      'echo out; echo err >&2',
    ]);
    expect(ran.exitCode, ran.stderr).toBe(0);
    const details = await engine.gantry(['logs', '--details', 'detailed']);
    expect(details.stdout).toBe('MODE=a+b,app=web out\n');
    expect(details.stderr).toBe('MODE=a+b,app=web err\n');
    const config = await engine.gantry([
      'inspect',
      '-f',
      '{{json .HostConfig.LogConfig.Config}}',
      'detailed',
    ]);
    expect(JSON.parse(config.stdout)).toMatchObject({ labels: 'app,absent', env: 'MODE' });

    expect((await engine.gantry(['run', '--name', 'plain', 'demo', 'echo', 'x'])).exitCode).toBe(0);
    // Nothing named: docker still sets the line off by one space.
    expect((await engine.gantry(['logs', '--details', 'plain'])).stdout).toBe(' x\n');
    const bad = await engine.gantry(['run', '--log-opt', 'tag=x', 'demo', 'true']);
    expect(bad.exitCode).toBe(125);
    expect(bad.stderr).toMatch(/unknown log option "tag".*\n.*labels=KEY,\.\.\. and env=NAME/);
  });
});
