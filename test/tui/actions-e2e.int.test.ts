/**
 * Container actions of the real `gantry` TUI in a real terminal (tmux) on real containers (issue
 * 11, "Missing"): a stop counts the stop timeout down until SIGKILL ends a container that ignores
 * SIGTERM; Space marks containers and one key stops every marked one; the inspect view shows
 * `gantry inspect`'s JSON, searches it, and `y` puts the id on the clipboard through OSC 52 (tmux
 * keeps what a program copies as its paste buffer).
 */
import fs from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createEngineWithImage, GANTRY, processState, waitFor, type TestEngine } from '../support/engine.js';
import { startTmux, type TmuxSession } from '../../scripts/lib/tmux.mjs';
import { describeUnless, needsCommand, needsRoot } from '../support/skip.js';

const SIGTERM = 15;

/** Whether process `pid` ignores signal number `signal` (its bit in SigIgn of /proc/PID/status). */
function ignores(pid: number, signal: number): boolean {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const ignored = BigInt(`0x${/^SigIgn:\s*([0-9a-f]+)$/m.exec(status)?.[1] ?? '0'}`);
  return ((ignored >> BigInt(signal - 1)) & 1n) === 1n;
}

describeUnless([needsRoot(), needsCommand('tmux')], 'gantry TUI actions end to end (tmux)', () => {
  let engine: TestEngine;
  let tui: TmuxSession | undefined;

  beforeAll(async () => {
    engine = await createEngineWithImage('tui-actions');
  });
  afterAll(async () => {
    tui?.kill();
    await engine?.cleanup();
  });

  async function run(...args: string[]): Promise<{ id: string; pid: number }> {
    const result = await engine.gantry(['run', '-d', ...args]);
    expect(result.exitCode, result.stderr).toBe(0);
    const id = result.stdout.trim();
    const pid = Number((await engine.gantry(['inspect', '-f', '{{.State.Pid}}', id])).stdout.trim());
    expect(pid).toBeGreaterThan(0);
    return { id, pid };
  }

  async function state(id: string): Promise<string> {
    return (
      await engine.gantry(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', id])
    ).stdout.trim();
  }

  it('counts a stop down to SIGKILL, stops marked containers at once, inspects and copies an id', async () => {
    const a = await run('--name', 'e2e-a', 'demo', 'sleep', '1000');
    const b = await run('--name', 'e2e-b', 'demo', 'sleep', '1000');
    // Ignores SIGTERM: only the SIGKILL at the end of the stop timeout ends it.
    const slow = await run(
      '--name',
      'e2e-slow',
      '--stop-timeout',
      '6',
      'demo',
      'sh',
      '-c',
      'trap "" TERM; exec sleep 1000',
    );
    await waitFor(() => ignores(slow.pid, SIGTERM) || undefined, 60_000, 'the trap in e2e-slow');

    tui = startTmux([process.execPath, GANTRY], {
      env: engine.env,
      columns: 120,
      rows: 30,
      label: 'tui-actions',
    });
    await tui.waitFor(/e2e-slow\s.*● running/, 60_000, 'the containers in the table');

    // The stop countdown: the column counts down, then the container is killed (137).
    tui.send('G', 's');
    const first = await tui.waitFor(/e2e-slow\s.*stopping \((\d)s\)/, 60_000, 'the countdown');
    const start = Number(/e2e-slow\s.*stopping \((\d)s\)/.exec(first)![1]);
    expect(start).toBeLessThanOrEqual(6);
    await tui.waitFor(
      (screen) => Number(/e2e-slow\s.*stopping \((\d)s\)/.exec(screen)?.[1] ?? 99) < start,
      60_000,
      'the countdown to go down',
    );
    await tui.waitFor(/e2e-slow\s.*exited \(137\)/, 60_000, 'e2e-slow killed at the end of the timeout');
    expect(await state(slow.id)).toBe('exited 137');
    expect(processState(slow.pid)).toBeUndefined();

    // Space marks e2e-a and e2e-b; s stops both; the kernel has neither process any more.
    tui.send('g', 'Space', 'Space');
    await tui.waitFor('2 marked', 60_000);
    tui.send('s');
    await waitFor(
      () => (processState(a.pid) === undefined && processState(b.pid) === undefined) || undefined,
      60_000,
      'both marked containers to end',
    );
    await tui.waitFor(/e2e-a\s.*exited/, 60_000);
    await tui.waitFor(/e2e-b\s.*exited/, 60_000);
    expect(await state(a.id)).toMatch(/^exited /);
    expect(await state(b.id)).toMatch(/^exited /);

    // i: the inspect JSON of e2e-slow; / finds its command; y copies its id (OSC 52 -> tmux).
    tui.send('G', 'i');
    await tui.waitFor(/Inspect e2e-slow \(container\)/, 60_000);
    await tui.waitFor(`"Id": "${slow.id}"`, 60_000, 'the full id in the JSON');
    tui.send('/');
    tui.type('exec sleep');
    tui.send('Enter');
    await tui.waitFor(/"exec sleep" 1\/2/, 60_000, 'the search to find the command');
    await tui.waitFor('trap \\"\\" TERM; exec sleep 1000', 60_000);
    tui.send('y');
    await waitFor(() => tui!.clipboard() === slow.id || undefined, 60_000, 'the id on the clipboard');
    tui.send('Escape');
    await tui.waitFor(/NAME.*STATUS/, 60_000);

    tui.send('q');
    expect(await tui.waitFor('GANTRY_EXIT=', 60_000, 'gantry to exit')).toContain('GANTRY_EXIT=0');
  });
});
