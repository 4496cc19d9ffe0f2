/**
 * The real `gantry` TUI in a real terminal (tmux) on a container whose log has 2,000,000 lines:
 * the Logs pane shows the last lines, and `q` ends the process, which by then has read a small
 * part of the log (its read bytes, as the kernel counts them once its shell has reaped it).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTmux, type TmuxSession } from '../../scripts/lib/tmux.mjs';
import { createEngineWithImage, GANTRY, type TestEngine } from '../support/engine.js';
import { describeUnless, needsCommand, needsRoot } from '../support/skip.js';

describeUnless([needsRoot(), needsCommand('tmux')], 'gantry TUI Logs pane on a huge log (tmux)', () => {
  let engine: TestEngine;
  let tui: TmuxSession | undefined;
  let logSize = 0;

  beforeAll(async () => {
    engine = await createEngineWithImage('tui-logs');
    const run = await engine.gantry(['run', '--name', 'chatty', 'demo', 'true']);
    expect(run.exitCode, run.stderr).toBe(0);
    const id = (await engine.gantry(['ps', '-aq', '--no-trunc'])).stdout.trim();
    const file = path.join(engine.root, 'containers', id, 'ctr.log');
    const handle = fs.openSync(file, 'w');
    for (let start = 0; start < 2_000_000; start += 100_000) {
      let block = '';
      for (let index = start; index < start + 100_000; index++)
        block += `2026-01-01T00:00:00.000000000Z stdout F line ${index} of a huge log\n`;
      fs.writeSync(handle, block);
    }
    fs.closeSync(handle);
    logSize = fs.statSync(file).size;
  });
  afterAll(async () => {
    tui?.kill();
    await engine?.cleanup();
  });

  it('shows the last lines at once and quits with q having read a small part of the log', async () => {
    tui = startTmux([process.execPath, GANTRY], {
      env: engine.env,
      columns: 100,
      rows: 30,
      label: 'test-tui-logs',
    });
    await tui.waitFor(/chatty/, 60_000, 'the container in the table');
    tui.send('5');
    await tui.waitFor('line 1999999 of a huge log', 60_000, 'the last line of the log');
    tui.send('q');
    const screen = await tui.waitFor('GANTRY_EXIT=', 60_000, 'gantry to exit');
    expect(screen).toContain('GANTRY_EXIT=0');
    // The shell that ran gantry has reaped it: its counters now include everything gantry read
    // (its own code, the state, and of the log only the end).
    const io = fs.readFileSync(`/proc/${tui.panePid()}/io`, 'utf8');
    const read = Number(/^rchar: (\d+)$/m.exec(io)![1]);
    expect(logSize).toBeGreaterThan(100 * 1024 * 1024);
    expect(read).toBeLessThan(logSize / 10);
  });
});
