/**
 * `gantry stats` and `gantry events` against real containers, on either cgroup version (the v2
 * guest of `npm run test:cgroup-v2` runs them too).
 */
import { expect, it } from 'vitest';
import type { ContainerStats } from '../../../source/runtime/containers/stats.js';
import { engineForSuite, waitFor } from '../../support/engine.js';
import { collectEvents, runDetached, watchEvents } from './support.js';
import { describeUnless, needsRoot } from '../../support/skip.js';

const MiB = 1024 * 1024;

describeUnless(needsRoot(), 'stats and events', () => {
  const engine = engineForSuite('stats');

  it("reports a container's lifecycle as events, in order", async () => {
    const started = Date.now();
    const log = await collectEvents(engine);
    try {
      const id = await runDetached(engine, ['--name', 'life', 'demo', 'sleep', 'infinity']);
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
        // docker's: the kill before the die it causes.
        'kill',
        'die',
        'destroy',
      ]);
      expect(mine[0]).toMatchObject({
        type: 'container',
        name: 'life',
        attributes: { image: 'demo', name: 'life' },
      });
      expect(mine.find((event) => event.action === 'die')?.attributes?.exitCode).toBe('137');
      // Times of the events themselves (not of when they were read), in order.
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
    const watcher = await watchEvents(engine, ['--filter', 'event=start']);
    await engine.gantry(['run', '--rm', '--name', 'quick', 'demo', 'true']);
    // The run is over (its destroy is the last event): the start line is out by then.
    await waitFor(() => watcher.output().includes('name=quick'), 60_000, 'the start line');
    const lines = (await watcher.stop()).trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z container start [0-9a-f]{64} \(image=demo, name=quick\)$/,
    );
  });

  it("formats events with docker's template fields, a missing attribute as <no value>", async () => {
    const watcher = await watchEvents(engine, [
      '--filter',
      'type=container',
      '--format',
      '{{.Action}} {{.Actor.Attributes.name}} {{.action}} exit={{.attributes.exitCode}}',
    ]);
    await engine.gantry(['run', '--rm', '--name', 'formatted', 'demo', 'sh', '-c', 'exit 3']);
    await waitFor(() => watcher.output().includes('destroy formatted'), 60_000, 'the destroy line');
    const lines = (await watcher.stop()).trim().split('\n');
    expect(lines).toContain('create formatted create exit=<no value>');
    expect(lines).toContain('die formatted die exit=3');
  });

  it("shows docker's columns and the extra figures in --json", async () => {
    // Only lo: no interface sends a byte, so NET I/O is 0B / 0B.
    await runDetached(engine, [
      '--network',
      'none',
      '--name',
      'measured',
      '--memory',
      '64m',
      '--pids-limit',
      '30',
      'demo',
      'sh',
      '-c',
      'head -c 8m /dev/zero > /tmp/file; exec sleep infinity',
    ]);
    // Until the file is written and the shell has become sleep, the figures are still moving.
    await waitFor(
      async () => {
        const sample = await engine.gantry(['stats', '--no-stream', '--json', 'measured']);
        const [stats] = JSON.parse(sample.stdout) as ContainerStats[];
        return stats?.cgroup.pids?.current === 1 && (stats.cgroup.memory?.usage ?? 0) > 8 * MiB;
      },
      60_000,
      'the 8 MiB file and one process',
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
    const child = engine.spawn(['stats'], { stdin: 'ignore', buffer: false });
    let output = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => (output += chunk));
    const rounds = () => output.split('CONTAINER ID').length - 1;
    await waitFor(() => rounds() >= 1, 60_000, 'the first table');
    const firstRound = performance.now();
    const before = rounds();
    await runDetached(engine, ['--network', 'none', '--name', 'late', 'demo', 'sleep', 'infinity']);
    // A container started meanwhile joins the table, and tables keep coming.
    await waitFor(() => /\blate\b/.test(output) && rounds() >= before + 2, 60_000, 'tables with late');
    const seconds = (performance.now() - firstRound) / 1000;
    const seen = rounds();
    child.kill('SIGTERM');
    await child;
    // About once a second: never faster (a busy machine can only make it slower).
    expect(seen - 1).toBeLessThanOrEqual(Math.ceil(seconds) + 1);
    // Not a terminal: no screen clearing.
    expect(output).not.toContain('\u001b[2J');
    await engine.gantry(['rm', '-f', 'late', 'measured']);
  });
});
