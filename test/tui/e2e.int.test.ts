/**
 * The real `gantry` TUI in a real terminal (tmux) against real containers: it sees a container
 * another process starts, pauses it (the freezer cgroup says FROZEN), changes its memory limit in
 * the Limits pane (the cgroup file changes), and quits cleanly. On cgroup v1, and on v2 in the
 * guest of `npm run test:cgroup-v2`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { createEngineWithImage, GANTRY, waitFor, type TestEngine } from '../support/engine.js';
import { startTmux, type TmuxSession } from '../../scripts/lib/tmux.mjs';
import { isGone, runUntilPhase } from '../support/faults.js';
import { describeUnless, needsCommand, needsRoot } from '../support/skip.js';
import { cgroupFile, editMemoryLimitTo48m, memoryLimitFile, readTrimmed, v2 } from './support/e2e-kernel.js';

/** FROZEN or THAWED, as v1's freezer.state says it, from either version's files. */
function freezerState(parent: string, id: string): string | undefined {
  if (!v2) return readTrimmed(cgroupFile('freezer', parent, id, 'freezer.state'));
  const frozen = readTrimmed(cgroupFile('', parent, id, 'cgroup.events'))?.match(/^frozen (\d)$/m)?.[1];
  return frozen === undefined ? undefined : frozen === '1' ? 'FROZEN' : 'THAWED';
}

describeUnless([needsRoot(), needsCommand('tmux')], 'gantry TUI end to end (tmux)', () => {
  let engine: TestEngine;
  let tui: TmuxSession | undefined;

  beforeAll(async () => {
    engine = await createEngineWithImage('tui');
  });
  // Each test's terminal ends with it (its shell holds the window open after gantry exits).
  afterEach(() => {
    tui?.kill();
    tui = undefined;
  });
  afterAll(async () => {
    await engine?.cleanup();
  });

  it('follows another process, pauses, changes a limit and quits', async () => {
    tui = startTmux([process.execPath, GANTRY], {
      // CI=true made Ink write no frames at all (it was a blank screen in CI): the TUI must draw
      // whenever it runs in a terminal, whatever the environment says.
      env: { ...engine.env, CI: 'true' },
      columns: 100,
      rows: 30,
      label: 'test-tui',
    });
    await tui.waitFor(/1 Containers.*2 Images/, 60_000, 'the TUI to start');
    await tui.waitFor('No containers yet', 60_000);

    // A container started by another process appears without a key being pressed.
    const run = await engine.gantry([
      'run',
      '-d',
      '--name',
      'e2e-web',
      '--memory',
      '64m',
      'demo',
      'sleep',
      '1000',
    ]);
    expect(run.exitCode, run.stderr).toBe(0);
    const id = run.stdout.trim();
    await tui.waitFor(/e2e-web\s.*● running/, 60_000, 'the new container in the table');
    await tui.waitFor(/e2e-web\s.*\d+(\.\d+)?[KM]iB\/64MiB/, 60_000, 'its memory figures');

    // p pauses it: the freezer cgroup is frozen and the table says so.
    tui.send('p');
    const freezer = () => freezerState(engine.cgroupParent, id);
    await waitFor(() => freezer() === 'FROZEN' || undefined, 60_000, 'the freezer FROZEN');
    await tui.waitFor(/e2e-web\s.*‖ paused/, 60_000, 'the paused status');
    tui.send('p');
    await waitFor(() => freezer() === 'THAWED' || undefined, 60_000, 'the freezer THAWED');
    await tui.waitFor(/e2e-web\s.*● running/, 60_000);

    // Enter opens its limits; Enter edits memory; a typed value applies to the cgroup.
    const limitFile = memoryLimitFile(engine.cgroupParent, id);
    expect(readTrimmed(limitFile)).toBe(String(64 * 1024 * 1024));
    tui.send('Enter');
    await tui.waitFor(/Limits of e2e-web/, 60_000);
    await editMemoryLimitTo48m(tui, limitFile);

    // A refused value is explained in place and the old one stays.
    tui.send('Enter', 'C-u');
    tui.type('1m');
    tui.send('Enter');
    await tui.waitFor(/below the minimum/, 60_000, 'the inline refusal');
    expect(readTrimmed(limitFile)).toBe(String(48 * 1024 * 1024));
    tui.send('Escape');
    await tui.waitFor((screen) => !screen.includes('the old value stays'), 60_000, 'the editor to close');

    // q quits with status 0 and leaves the terminal's normal screen.
    tui.send('q');
    const screen = await tui.waitFor('GANTRY_EXIT=', 60_000, 'gantry to exit');
    expect(screen).toContain('GANTRY_EXIT=0');
    // The container goes on without the TUI.
    expect((await engine.gantry(['ps', '--format', '{{.Names}} {{.Status}}'])).stdout).toMatch(/e2e-web Up/);
  });

  it('shows a container whose record is damaged, marked; finishes what a killed command left', async () => {
    tui = startTmux([process.execPath, GANTRY], {
      env: engine.env,
      columns: 120,
      rows: 30,
      label: 'test-tui-faults',
    });
    await tui.waitFor(/1 Containers.*2 Images/, 60_000, 'the TUI to start');
    const run = await engine.gantry(['run', '-d', '--name', 'e2e-broken', 'demo', 'sleep', '1000']);
    expect(run.exitCode, run.stderr).toBe(0);
    const id = run.stdout.trim();
    const pid = JSON.parse((await engine.gantry(['inspect', id])).stdout)[0].State.Pid as number;
    await tui.waitFor(/e2e-broken\s.*● running/, 60_000, 'the container in the table');
    // Its record damaged for real: the row stays, marked (ps warns; the TUI must not hide it).
    fs.writeFileSync(path.join(engine.root, 'containers', id, 'state.json'), '{"Id": garbage');
    await tui.waitFor(/e2e-broken\s.*⚠ damaged record/, 60_000, 'the damaged mark');

    // A create killed after it took its name: the TUI frees the name with no other command run.
    const create = await runUntilPhase(
      engine,
      ['create', '--name', 'e2e-held', 'demo', 'true'],
      'create: name reserved',
    );
    // The name is a link to a directory not made yet: look at the link itself.
    const held = () => fs.lstatSync(path.join(engine.root, 'names', 'e2e-held'), { throwIfNoEntry: false });
    expect(held()).toBeDefined();
    await create.kill();
    await waitFor(() => !held() || undefined, 60_000, 'the TUI to free the name');

    // A damaged image record: the warning ps and image ls print is on the status line.
    expect(
      (await engine.gantry(['run', '--name', 'e2e-src', 'demo', 'sh', '-c', 'echo x > /x'])).exitCode,
    ).toBe(0);
    const image = (await engine.gantry(['commit', 'e2e-src', 'e2e-img:1'])).stdout.trim();
    expect((await engine.gantry(['rm', 'e2e-src'])).exitCode).toBe(0);
    fs.writeFileSync(path.join(engine.root, 'images', `${image.replace('sha256:', '')}.json`), '{"id": gar');
    await tui.waitFor(/skipping image [0-9a-f]{12}: image record/, 60_000, 'the warning on the status line');
    expect((await engine.gantry(['image', 'rm', image.slice(7, 19)])).exitCode).toBe(0);

    // D removes the damaged container: what ran is ended.
    tui.send('/');
    tui.type('e2e-broken');
    tui.send('Enter');
    tui.send('D');
    await tui.waitFor(/Remove e2e-broken\? Its record is damaged/, 60_000, 'the confirmation');
    tui.send('y');
    await waitFor(
      () => !fs.existsSync(path.join(engine.root, 'containers', id)) || undefined,
      60_000,
      'removal',
    );
    await waitFor(() => isGone(pid) || undefined, 10_000, 'its process to end');
    tui.send('q');
    expect(await tui.waitFor('GANTRY_EXIT=', 60_000, 'gantry to exit')).toContain('GANTRY_EXIT=0');
  });
});
