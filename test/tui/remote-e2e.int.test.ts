/**
 * The real TUI with two hosts in a real terminal (tmux): this machine's root and a second root
 * behind a real OpenSSH server on 127.0.0.1 (test/support/sshd.ts), side by side. Each pane is
 * driven on the remote container and what it did is checked in the remote root and on the
 * kernel: Logs, Limits (the cgroup file changes), Inspect, the shell `e`, stop and remove. The
 * server is then killed: the host is shown unreachable, this machine's containers are still
 * managed, and the host is shown again once the server is back.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTmux, type TmuxSession } from '../../scripts/lib/tmux.mjs';
import { createEngineWithImage, GANTRY, testName, waitFor, type TestEngine } from '../support/engine.js';
import { describeUnless, needsCommand, needsRoot } from '../support/skip.js';
import { needsSshd, startSshd, type TestSshd } from '../support/sshd.js';
import { editMemoryLimitTo48m, memoryLimitFile, readTrimmed } from './support/e2e-kernel.js';

describeUnless(
  [needsRoot(), needsCommand('tmux'), needsSshd()],
  'gantry TUI with a local and an ssh:// host (tmux)',
  () => {
    let local: TestEngine;
    let remote: TestEngine;
    let sshd: TestSshd;
    let config: string;
    let tui: TmuxSession | undefined;

    beforeAll(async () => {
      local = await createEngineWithImage('tui-hosts-local', { hostNetwork: true });
      remote = await createEngineWithImage('tui-hosts-remote', { hostNetwork: true });
      sshd = await startSshd({ ...remote.env, GANTRY_DEFAULT_NETWORK: 'none' });
      config = fs.mkdtempSync(path.join(os.tmpdir(), `${testName('tui-hosts-config')}-`));
    });
    afterAll(async () => {
      tui?.kill();
      try {
        await local?.cleanup();
        await remote?.cleanup();
      } finally {
        await sshd?.stop();
        if (config) fs.rmSync(config, { recursive: true, force: true });
      }
    });

    async function run(engine: TestEngine, ...args: string[]): Promise<{ id: string; pid: number }> {
      const result = await engine.gantry(['run', '-d', '--network', 'none', ...args]);
      expect(result.exitCode, result.stderr).toBe(0);
      const id = result.stdout.trim();
      const pid = Number((await engine.gantry(['inspect', '-f', '{{.State.Pid}}', id])).stdout.trim());
      expect(pid).toBeGreaterThan(0);
      return { id, pid };
    }

    const status = async (engine: TestEngine, id: string) =>
      (await engine.gantry(['inspect', '-f', '{{.State.Status}}', id])).stdout.trim();

    /** Selects the row of `name` (the filter finds it, Enter keeps it and closes the prompt). */
    function select(name: string): void {
      tui!.send('Escape', '1', '/', 'C-u');
      tui!.type(name);
      tui!.send('Enter');
    }

    it('shows and manages both hosts side by side, and rides out the remote host dropping', async () => {
      const near = await run(local, '--name', 'near', 'demo', 'sleep', '100000');
      const far = await run(
        remote,
        '--name',
        'far',
        '--memory',
        '64m',
        'demo',
        'sh',
        '-c',
        // More lines than the Logs pane's tail (1000) and one older page: `o` must page back twice.
        'echo hello from afar; i=1; while [ $i -le 2500 ]; do echo far line $i; i=$((i+1)); done; exec sleep 100000',
      );
      await waitFor(
        async () =>
          (await remote.gantry(['logs', '--tail', '1', far.id])).stdout.includes('far line 2500') ||
          undefined,
        60_000,
        'the remote container to have written its lines',
      );
      const hostName = `127.0.0.1:${sshd.port}`;
      const hostPattern = hostName.replace(/\./g, '\\.');

      tui = startTmux([process.execPath, GANTRY, '--host', sshd.url(GANTRY)], {
        env: { ...local.env, ...sshd.clientEnv, XDG_CONFIG_HOME: config, GANTRY_HOST: '' },
        columns: 160,
        rows: 32,
        label: 'tui-hosts',
      });
      // Both hosts' rows, each with its host.
      await tui.waitFor(/HOST\s+NAME/, 60_000, 'the HOST column');
      await tui.waitFor(/local\s+near\s.*● running/, 60_000, 'the local container');
      await tui.waitFor(new RegExp(`${hostPattern}\\s+far\\s.*● running`), 60_000, 'the remote container');
      await tui.waitFor('host: all 2', 60_000);

      // H shows one host, then the other, then all again.
      tui.send('H');
      await tui.waitFor((screen) => screen.includes('host: local') && !/\sfar\s/.test(screen), 60_000);
      tui.send('H');
      await tui.waitFor(
        (screen) =>
          screen.includes(`host: ${hostName}`) && !/\snear\s/.test(screen) && /\sfar\s/.test(screen),
        60_000,
        'only the remote host',
      );
      tui.send('H');
      await tui.waitFor((screen) => /\snear\s/.test(screen) && /\sfar\s/.test(screen), 60_000, 'both again');

      // Logs of the remote container: its tail, then older pages from the remote host with `o`.
      select('far');
      tui.send('5');
      await tui.waitFor(/far line 2500\b/, 60_000, 'the remote log');
      await tui.waitFor('older lines exist (o loads them)', 60_000, 'older remote lines said to exist');
      expect(tui.capture()).not.toContain('hello from afar');
      tui.send('o');
      await tui.waitFor(/held at \d+-\d+\/2000\b/, 60_000, 'a page of older remote lines');
      await tui.waitFor(/far line 1500\b/, 60_000, 'the line before the tail');
      expect(tui.capture()).toContain('older lines exist (o loads them)');
      tui.send('o');
      await tui.waitFor(
        (screen) => /held at \d+-\d+\/2501\b/.test(screen) && !screen.includes('older lines exist'),
        60_000,
        'the rest of the remote log, to its first line',
      );
      tui.send('/');
      tui.type('hello from afar');
      tui.send('Enter');
      await tui.waitFor('hello from afar', 60_000, "the remote log's first line");
      tui.send('Escape');

      // Limits: a live edit applied on the remote host's cgroup.
      const limitFile = memoryLimitFile(remote.cgroupParent, far.id);
      expect(readTrimmed(limitFile)).toBe(String(64 * 1024 * 1024));
      tui.send('4');
      await tui.waitFor(/Limits of far/, 60_000);
      await editMemoryLimitTo48m(tui, limitFile);

      // Inspect: the remote engine's JSON, with the container's own id.
      select('far');
      tui.send('i');
      await tui.waitFor(/Inspect far \(container\)/, 60_000);
      await tui.waitFor(`"Id": "${far.id}"`, 60_000, 'the id in the JSON');
      tui.send('Escape');
      await tui.waitFor(/HOST\s+NAME/, 60_000);

      // The shell: a pty on the remote host, relayed; what it does happens in the container.
      select('far');
      tui.send('e');
      await tui.waitFor('exit the shell to return to gantry', 60_000, 'the shell');
      tui.type('echo $((6*7))-remote > /tmp/made-by-shell; cat /tmp/made-by-shell');
      tui.send('Enter');
      await tui.waitFor(/^42-remote/m, 60_000, 'the shell to answer');
      expect(fs.readFileSync(`/proc/${far.pid}/root/tmp/made-by-shell`, 'utf8')).toBe('42-remote\n');
      tui.type('exit');
      tui.send('Enter');
      await tui.waitFor(/HOST\s+NAME/, 60_000, 'the TUI back');

      // Stop on the remote host: its process ends, its record says exited.
      select('far');
      tui.send('s');
      await waitFor(
        () => !fs.existsSync(`/proc/${far.pid}`) || undefined,
        60_000,
        'the remote process to end',
      ).catch((error: Error) => {
        throw new Error(`${error.message}; the screen was:\n${tui!.capture()}`);
      });
      await tui.waitFor(new RegExp(`${hostPattern}\\s+far\\s.*exited`), 60_000, 'far exited');
      expect(await status(remote, far.id)).toBe('exited');
      expect(fs.existsSync(`/proc/${near.pid}`)).toBe(true);

      // The host drops: shown unreachable; this machine's containers are still managed.
      sshd.kill();
      await tui.waitFor(new RegExp(`✖ ${hostPattern} unreachable`), 90_000, 'the host shown unreachable');
      await tui.waitFor(new RegExp(`✖ ${hostPattern}\\s+far`), 60_000, 'its rows marked');
      select('near');
      tui.send('p');
      await tui.waitFor(
        /local\s+near\s.*‖ paused/,
        60_000,
        'the local container paused while the host is down',
      );
      expect(await status(local, near.id)).toBe('paused');
      tui.send('p');
      await tui.waitFor(/local\s+near\s.*● running/, 60_000);

      // Back: the host reconnects by itself (back-off) and its rows are current again.
      await sshd.restart();
      await remote.gantry(['start', far.id]);
      select('far');
      await tui.waitFor(
        (screen) =>
          !screen.includes('unreachable') && new RegExp(`${hostPattern}\\s+far\\s.*● running`).test(screen),
        120_000,
        'the host back, with far running again',
      );

      // Remove on the remote host (D, y): gone from the remote root.
      select('far');
      tui.send('D');
      await tui.waitFor(/Remove far\?/, 60_000);
      tui.send('y');
      await waitFor(
        () => !fs.existsSync(path.join(remote.root, 'containers', far.id)) || undefined,
        60_000,
        'far removed from the remote root',
      );
      await tui.waitFor(
        (screen) => !new RegExp(`${hostPattern}\\s+far\\s`).test(screen),
        60_000,
        'its row gone',
      );

      tui.send('q');
      expect(await tui.waitFor('GANTRY_EXIT=', 60_000, 'gantry to exit')).toContain('GANTRY_EXIT=0');
      await local.gantry(['rm', '-f', near.id]);
    }, 900_000);
  },
);
