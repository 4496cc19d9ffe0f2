/**
 * Issue 8.1 for the TUI's `e` shell: the shell in the container gets a pty of the container's own
 * devpts, in a session of its own, never the terminal the TUI runs in; what it pushes into its
 * terminal with TIOCSTI stays in the container; and the TUI picks bash or sh without following a
 * container symlink on the host.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTmux, type TmuxSession } from '../../scripts/lib/tmux.mjs';
import { engineForSuite, GANTRY } from '../support/engine.js';
import { describeUnless, needsCommand, needsRoot } from '../support/skip.js';
import { attempts, buildAttackTool } from './support.js';

describeUnless([needsRoot(), needsCommand('tmux')], 'the TUI’s shell in a container', () => {
  const engine = engineForSuite('sec-tui');
  let tools = '';
  let tui: TmuxSession | undefined;

  beforeAll(async () => {
    tools = buildAttackTool();
    const run = await engine.gantry([
      'run',
      '-d',
      '--name',
      'target',
      '-v',
      `${tools}:/attack:ro`,
      'demo',
      'sleep',
      '1000',
    ]);
    expect(run.exitCode, run.stderr).toBe(0);
    // /bin/bash in the container: a symlink to a host file that exists only on the host. Followed
    // on the host it would make the TUI start /bin/bash, which leads nowhere in the container.
    const planted = await engine.gantry([
      'exec',
      'target',
      'sh',
      '-c',
      `rm -f /bin/bash && ln -s ${tools}/attack /bin/bash`,
    ]);
    expect(planted.exitCode, planted.stderr).toBe(0);
  });
  afterAll(() => {
    tui?.kill();
    if (tools) fs.rmSync(tools, { recursive: true, force: true });
  });

  it('`e` opens a shell on a pty of the container, in its own session; TIOCSTI stays in the container', async () => {
    tui = startTmux([process.execPath, GANTRY], {
      env: { ...engine.env, CI: 'true' },
      columns: 120,
      rows: 40,
      label: 'sec-tui',
    });
    await tui.waitFor(/target\s.*● running/, 30_000, 'the container in the table');
    tui.send('e');
    await tui.waitFor('exit the shell to return to gantry', 30_000, 'the shell');
    // /bin/sh, not the planted /bin/bash (which would fail to start and end the session at once).
    expect(tui.capture()).toContain('/bin/sh in target');
    tui.type('/attack/attack fds; echo FDS-DONE');
    tui.send('Enter');
    const screen = await tui.waitFor(/^FDS-DONE/m, 30_000, 'the report of the shell’s fds');
    const seen = attempts(screen);
    for (const name of ['fd0', 'fd1', 'fd2']) expect(seen.get(name), screen).toMatch(/^\/dev\/pts\/\d+$/);
    // Its controlling terminal is that pty (the container cannot open the TUI's terminal).
    expect(seen.get('devtty')).toBe('ok');
    // The shell pushes a command into its terminal: the container's shell runs it.
    tui.type(`/attack/attack tiocsti 'echo INJECTED-IN-CONTAINER\\n'`);
    tui.send('Enter');
    await tui.waitFor(/^INJECTED-IN-CONTAINER/m, 30_000, 'the container’s shell to run what was pushed');
    tui.type('exit');
    tui.send('Enter');
    await tui.waitFor(/1 Containers.*2 Images/, 30_000, 'the TUI back');
    // Still running and answering keys: the help overlay opens.
    tui.send('?');
    await tui.waitFor(/Keys {2}\(Esc closes/, 30_000, 'the help overlay');
    expect(tui.capture()).not.toContain('GANTRY_EXIT=');
  });
});
