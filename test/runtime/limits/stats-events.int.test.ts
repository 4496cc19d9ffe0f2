/**
 * `gantry stats` and `gantry events` against real containers, on either cgroup version (the v2
 * guest of `npm run test:cgroup-v2` runs them too).
 */
import { expect, it } from 'vitest';
import type { ContainerStats } from '../../../source/runtime/containers/stats.js';
import { engineForSuite, waitFor } from '../../support/engine.js';
import { collectEvents, runDetached } from './support.js';
import { describeUnless, needsRoot } from '../../support/skip.js';

const MiB = 1024 * 1024;

describeUnless(needsRoot(), 'stats and events', () => {
  const engine = engineForSuite('stats');

  /**
   * `gantry ARGS` running in the background with its output collected, returned once it reports
   * what `probe` makes (so a test never acts before the stream is reading).
   */
  const stream = async (args: string[], probe: (attempt: number) => Promise<string>) => {
    const child = engine.spawn(args, { stdin: 'ignore', buffer: false });
    let output = '';
    child.stdout?.on('data', (data: Buffer) => (output += data.toString()));
    let attempt = 0;
    await waitFor(
      async () => {
        const expected = await probe(attempt++);
        return (
          (await waitFor(() => output.includes(expected) || undefined, 2000).catch(() => false)) || undefined
        );
      },
      60_000,
      `gantry ${args.join(' ')} to report`,
    );
    return {
      output: () => output,
      async stop() {
        child.kill('SIGTERM');
        return (await child).exitCode;
      },
    };
  };

  it("reports a container's lifecycle as events, in order", async () => {
    const started = Date.now();
    const log = await collectEvents(engine);
    try {
      const id = await runDetached(engine, ['--name', 'life', 'demo', 'sleep', '300']);
      await engine.gantry(['pause', 'life']);
      await engine.gantry(['unpause', 'life']);
      await engine.gantry(['update', '--pids-limit', '99', 'life']);
      await engine.gantry(['kill', 'life']);
      await engine.gantry(['rm', 'life']);
      await log.next((event) => event.id === id && event.action === 'destroy');
      const mine = log.events.filter((event) => event.id === id);
      expect(mine.map((event) => event.action)).toEqual([
        'create',
        'start',
        'pause',
        'unpause',
        'update',
        'die',
        'destroy',
      ]);
      expect(mine[0]).toMatchObject({
        type: 'container',
        name: 'life',
        attributes: { image: 'demo', name: 'life' },
      });
      expect(mine.find((event) => event.action === 'die')?.attributes?.exitCode).toBe('137');
      // Times of the events themselves, not of when they were read.
      for (const event of mine) {
        expect(event.time).toBeGreaterThanOrEqual(started);
        expect(event.time).toBeLessThanOrEqual(Date.now());
      }
      expect(mine.map((event) => event.time)).toEqual(mine.map((event) => event.time).sort((a, b) => a - b));
    } finally {
      await log.stop();
    }
  });

  it("filters events and prints docker's line format", async () => {
    const events = await stream(['events', '--filter', 'event=start'], async (attempt) => {
      await engine.gantry(['run', '--rm', '--name', `start-probe-${attempt}`, 'demo', 'true']);
      return `name=start-probe-${attempt})`;
    });
    await engine.gantry(['run', '--rm', '--name', 'quick', 'demo', 'true']);
    await waitFor(() => events.output().includes('name=quick)') || undefined, 30_000, 'the start of quick');
    expect(await events.stop()).toBe(0);
    const lines = events.output().trim().split('\n');
    // Starts only: the probes' and quick's, none of their create, die or destroy events.
    for (const line of lines)
      expect(line).toMatch(/ container start [0-9a-f]{64} \(image=demo, name=(start-probe-\d+|quick)\)$/);
    const quick = lines.filter((line) => line.includes('name=quick)'));
    expect(quick).toHaveLength(1);
    expect(quick[0]).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z container start [0-9a-f]{64} \(image=demo, name=quick\)$/,
    );
  });

  it("formats events with docker's template fields, a missing attribute as <no value>", async () => {
    const events = await stream(
      [
        'events',
        '--filter',
        'type=container',
        '--format',
        '{{.Action}} {{.Actor.Attributes.name}} {{.action}} exit={{.attributes.exitCode}}',
      ],
      async (attempt) => {
        await engine.gantry(['create', '--name', `format-probe-${attempt}`, 'demo', 'true']);
        await engine.gantry(['rm', `format-probe-${attempt}`]);
        return `create format-probe-${attempt} create`;
      },
    );
    await engine.gantry(['run', '--rm', '--name', 'formatted', 'demo', 'sh', '-c', 'exit 3']);
    await waitFor(
      () => events.output().includes('destroy formatted') || undefined,
      30_000,
      'the end of formatted',
    );
    expect(await events.stop()).toBe(0);
    const lines = events.output().trim().split('\n');
    expect(lines).toContain('create formatted create exit=<no value>');
    expect(lines).toContain('die formatted die exit=3');
  });

  it("shows docker's columns and the extra figures in --json", async () => {
    await runDetached(engine, [
      '--name',
      'measured',
      '--memory',
      '64m',
      '--pids-limit',
      '30',
      'demo',
      'sh',
      '-c',
      'head -c 8m /dev/zero > /tmp/file; exec sleep 300',
    ]);
    // The file is written and the shell has become the sleep.
    await waitFor(
      async () => {
        const [sample] = JSON.parse(
          (await engine.gantry(['stats', '--no-stream', '--json', 'measured'])).stdout,
        ) as ContainerStats[];
        return (
          ((sample?.cgroup.memory?.usage ?? 0) > 8 * MiB && sample?.cgroup.pids?.current === 1) || undefined
        );
      },
      60_000,
      'the 8 MiB file',
    );
    const text = await engine.gantry(['stats', '--no-stream', 'measured']);
    expect(text.exitCode).toBe(0);
    const [header, row] = text.stdout.trim().split('\n');
    expect(header!.split(/\s{2,}/)).toEqual([
      'CONTAINER ID',
      'NAME',
      'CPU %',
      'MEM USAGE / LIMIT',
      'MEM %',
      'NET I/O',
      'BLOCK I/O',
      'PIDS',
    ]);
    expect(row).toMatch(
      /^[0-9a-f]{12}\s+measured\s+\d+\.\d\d%\s+[\d.]+[KM]iB \/ 64MiB\s+\d+\.\d\d%\s+0B \/ 0B\s+\S+ \/ \S+\s+1$/,
    );

    const json = await engine.gantry(['stats', '--no-stream', '--json', 'measured']);
    const [stats] = JSON.parse(json.stdout) as ContainerStats[];
    const memory = stats!.cgroup.memory!;
    // The file in the writable layer is page cache: in the raw figure, not in the working set.
    expect(memory.usage).toBeGreaterThan(8 * MiB);
    expect(memory.workingSet).toBeLessThan(memory.usage);
    expect(memory.limit).toBe(64 * MiB);
    expect(memory.oomKills).toBe(0);
    expect(stats!.memoryLimit).toBe(64 * MiB);
    expect(stats!.memoryPercent).toBeCloseTo((memory.workingSet / (64 * MiB)) * 100, 5);
    // The shell execs its last command: sleep is the one process.
    expect(stats!.cgroup.pids).toEqual({ current: 1, limit: 30 });
    expect(stats!.cpuPercent).toBeGreaterThanOrEqual(0);
    expect(stats!.netRxBytes).toBe(0);
    expect(stats!.status).toBe('running');
    // A v2 host (and a hybrid one, in its unified tree) has the PSI files.
    if (stats!.cgroup.pressure)
      expect(Object.keys(stats!.cgroup.pressure).sort()).toEqual(['cpu', 'io', 'memory']);

    const format = await engine.gantry([
      'stats',
      '--no-stream',
      '--format',
      '{{.Name}} {{.PIDs}} {{.MemUsage}}',
      'measured',
    ]);
    expect(format.stdout).toMatch(/^measured 1 [\d.]+[KM]iB \/ 64MiB\n$/);
    const missing = await engine.gantry(['stats', '--no-stream', 'no-such-container']);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toMatch(/no such container: no-such-container/);
  });

  it('streams a table about once a second, following containers as they start and stop', async () => {
    const started = Date.now();
    const child = engine.spawn(['stats'], { stdin: 'ignore', buffer: false });
    let output = '';
    child.stdout?.on('data', (data: Buffer) => (output += data.toString()));
    const rounds = () => output.split('CONTAINER ID').length - 1;
    await waitFor(() => rounds() >= 1 || undefined, 60_000, 'the first table');
    await runDetached(engine, ['--name', 'late', 'demo', 'sleep', '300']);
    await waitFor(() => /\blate\b/.test(output) || undefined, 60_000, 'the late container in the table');
    const withLate = rounds();
    await waitFor(() => rounds() >= withLate + 2 || undefined, 60_000, 'two more tables');
    child.kill('SIGTERM');
    await child;
    // About once a second: never more often (a slow machine makes fewer rounds, not more).
    expect(rounds()).toBeLessThanOrEqual((Date.now() - started) / 1000 + 1);
    // Not a terminal: no screen clearing.
    expect(output).not.toContain('\u001b[2J');
    await engine.gantry(['rm', '-f', 'late', 'measured']);
  });
});
