/**
 * Issue 11, defect 9: the TUI honours the terminal it runs in (a real one: tmux). A monochrome
 * terminal gets no colours, a dumb one no alternate screen, a non-UTF-8 locale only ASCII, and
 * SIGINT gives the terminal back as q does.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { createTestEngine, GANTRY, waitFor, type TestEngine } from '../support/engine.js';
import { startTmux, type TmuxSession } from '../../scripts/lib/tmux.mjs';
import { describeUnless, needsCommand, needsRoot } from '../support/skip.js';

/** SGR parameters that set a colour (foreground or background, 8, 16, 256 or true colour). */
function colourCodes(screen: string): string[] {
  const found: string[] = [];
  // eslint-disable-next-line no-control-regex
  for (const match of screen.matchAll(/\u001b\[([0-9;]*)m/g)) {
    const params = match[1]!.split(';').map(Number);
    for (let index = 0; index < params.length; index += 1) {
      const code = params[index]!;
      if (code === 38 || code === 48) {
        found.push(match[0]);
        break;
      }
      if (
        (code >= 30 && code <= 37) ||
        (code >= 40 && code <= 47) ||
        (code >= 90 && code <= 97) ||
        (code >= 100 && code <= 107)
      )
        found.push(match[0]);
    }
  }
  return found;
}

describeUnless([needsRoot(), needsCommand('tmux')], 'the TUI and its terminal (tmux)', () => {
  let engine: TestEngine;
  let tui: TmuxSession | undefined;

  beforeAll(async () => {
    // No image: the first-run offer shows, in colour where colour is allowed.
    engine = await createTestEngine('tui-term', { hostNetwork: true });
  });
  afterEach(() => {
    tui?.kill();
    tui = undefined;
  });
  afterAll(async () => {
    await engine?.cleanup();
  });

  const open = (env: Record<string, string | undefined>, label: string) =>
    startTmux([process.execPath, GANTRY], {
      env: { ...engine.env, GANTRY_CONFIG: path.join(engine.root, 'no-config.json'), ...env },
      columns: 100,
      rows: 30,
      label,
    });

  it('TERM=xterm-mono gets no colours (xterm-256color does)', async () => {
    tui = open({ TERM: 'xterm-256color' }, 'tui-colour');
    await tui.waitFor('Welcome to Gantry', 60_000);
    expect(colourCodes(tui.capture({ escapes: true }))).not.toEqual([]);
    tui.kill();
    tui = open({ TERM: 'xterm-mono' }, 'tui-mono');
    await tui.waitFor('Welcome to Gantry', 60_000);
    const screen = tui.capture({ escapes: true });
    expect(colourCodes(screen)).toEqual([]);
    // Attributes stay: the selected tab is still inverse.
    // eslint-disable-next-line no-control-regex
    expect(screen).toMatch(/\u001b\[[0-9;]*7[0-9;]*m/);
  });

  it('TERM=dumb does not get the alternate screen', async () => {
    tui = open({ TERM: 'xterm-256color' }, 'tui-alt');
    await tui.waitFor('Welcome to Gantry', 60_000);
    expect(tui.alternateOn()).toBe(true);
    tui.kill();
    tui = open({ TERM: 'dumb' }, 'tui-dumb');
    await tui.waitFor('Welcome to Gantry', 60_000);
    expect(tui.alternateOn()).toBe(false);
  });

  it('LANG=C gets ASCII only: borders, marks and glyphs have ASCII stand-ins', async () => {
    tui = open({ LANG: 'C', LC_ALL: '', LC_CTYPE: '' }, 'tui-ascii');
    const screen = await tui.waitFor('Welcome to Gantry', 60_000);
    expect(screen).toContain('+--');
    // eslint-disable-next-line no-control-regex
    const beyond = [...screen].filter((char) => !/[\u0000-\u007f]/.test(char));
    expect(beyond).toEqual([]);
    // And under UTF-8 the box is drawn with its own glyphs.
    tui.kill();
    tui = open({ LANG: 'C.UTF-8' }, 'tui-utf8');
    expect(await tui.waitFor('Welcome to Gantry', 60_000)).toContain('╭');
  });

  it('SIGINT gives the terminal back: normal screen, and the shell says 130', async () => {
    tui = open({}, 'tui-sigint');
    await tui.waitFor('Welcome to Gantry', 60_000);
    expect(tui.alternateOn()).toBe(true);
    const pid = await tui.commandPid();
    expect(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toContain('gantry');
    process.kill(pid, 'SIGINT');
    const screen = await tui.waitFor('GANTRY_EXIT=', 60_000, 'gantry to exit');
    expect(screen).toContain('GANTRY_EXIT=130');
    expect(tui.alternateOn()).toBe(false);
    // The process is gone, not just hidden.
    await waitFor(() => !fs.existsSync(`/proc/${pid}/cmdline`) || undefined, 60_000, 'the TUI to end');
  });
});
