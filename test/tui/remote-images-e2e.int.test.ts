/**
 * The real TUI's Images and Layers panes with two hosts in a real terminal (tmux): this machine's
 * root and a second root behind a real OpenSSH server, which listens on 127.0.0.1 of a network
 * namespace the test made, beside a registry (Debian's docker-registry) only that namespace
 * reaches. Each row names its host; a remote image's layers (efficiency, wasted bytes, a layer's
 * files) and a remote container's are walked on the remote host; `D` refuses the image a remote
 * container uses and removes another one from the remote root; `P` pulls onto the remote host
 * from the registry; `b` is refused there with the reason. The server is then killed: the host's
 * image rows are marked, this machine's image is still removed, and the host comes back.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTmux, type TmuxSession } from '../../scripts/lib/tmux.mjs';
import {
  createEngineWithImage,
  createTestNetns,
  deleteTestNetns,
  GANTRY,
  testName,
  type TestEngine,
} from '../support/engine.js';
import { describeUnless, needsCommand, needsRoot } from '../support/skip.js';
import { needsSshd, startSshd, type TestSshd } from '../support/sshd.js';
import { startRegistry, type Registry } from '../runtime/images/registry-support.js';

interface ImageRow {
  Repository: string;
  Tag: string;
  Id: string;
}

async function imageNames(engine: TestEngine): Promise<string[]> {
  const listed = await engine.gantry(['image', 'ls', '--json']);
  expect(listed.exitCode, listed.stderr).toBe(0);
  return (JSON.parse(listed.stdout) as ImageRow[]).map((row) => `${row.Repository}:${row.Tag}`);
}

describeUnless(
  [needsRoot(), needsCommand('tmux'), needsSshd(), needsCommand('docker-registry')],
  "gantry TUI Images and Layers of an ssh:// host's images (tmux)",
  () => {
    let local: TestEngine;
    let remote: TestEngine;
    let netns: string;
    let work: string;
    let registry: Registry | undefined;
    let sshd: TestSshd | undefined;
    let tui: TmuxSession | undefined;

    beforeAll(async () => {
      local = await createEngineWithImage('tui-rimg-local', { hostNetwork: true });
      remote = await createEngineWithImage('tui-rimg-remote', { hostNetwork: true });
      netns = await createTestNetns('tui-rimg');
      work = fs.mkdtempSync(path.join(os.tmpdir(), `${testName('tui-rimg')}-`));
      registry = await startRegistry(path.join(work, 'registry'), { netns });
      // The remote host's service runs in the namespace: it reaches the registry, nothing else.
      sshd = await startSshd({ ...remote.env, GANTRY_DEFAULT_NETWORK: 'none' }, { netns });
    });
    afterAll(async () => {
      tui?.kill();
      try {
        await local?.cleanup();
        await remote?.cleanup();
      } finally {
        await sshd?.stop();
        await registry?.stop();
        if (netns) await deleteTestNetns(netns);
        if (work) fs.rmSync(work, { recursive: true, force: true });
      }
    });

    /** An image of `engine` with one more layer: what `script` changed in a demo container. */
    async function commitImage(engine: TestEngine, name: string, script: string): Promise<void> {
      const maker = `${name.replace(/[:/]/g, '-')}-maker`;
      const ran = await engine.gantry([
        'run',
        '--name',
        maker,
        '--network',
        'none',
        'demo',
        'sh',
        '-c',
        script,
      ]);
      expect(ran.exitCode, ran.stderr).toBe(0);
      const committed = await engine.gantry(['commit', maker, name]);
      expect(committed.exitCode, committed.stderr).toBe(0);
      expect((await engine.gantry(['rm', maker])).exitCode).toBe(0);
    }

    /** The Images pane, the first row the filter finds selected (an earlier filter cleared). */
    function selectImage(text: string): void {
      tui!.send('Escape', '2', 'Escape', '/', 'C-u');
      tui!.type(text);
      tui!.send('Enter');
    }

    it("shows, walks and manages a remote host's images beside this machine's, and rides out the host dropping", async () => {
      // On the remote host: an image whose top layer adds a file and rewrites /etc/passwd (stored
      // twice: wasted bytes), and a running container of demo (so demo is in use there).
      await commitImage(
        remote,
        'far-tools:v1',
        'echo far > /far-marker && echo far:x:7:7::/:/bin/sh >> /etc/passwd',
      );
      const far = await remote.gantry([
        'run',
        '-d',
        '--name',
        'far',
        '--network',
        'none',
        'demo',
        'sleep',
        '100000',
      ]);
      expect(far.exitCode, far.stderr).toBe(0);
      // On this machine: an image pushed to the registry, for the remote host to pull.
      await commitImage(local, 'shipped:v1', 'echo shipped > /shipped-marker');
      const reference = `${registry!.host}/team/shipped:v1`;
      const pushed = await execa(
        'nsenter',
        [`--net=/run/netns/${netns}`, '--', GANTRY, 'push', 'shipped:v1', reference],
        {
          env: local.env,
          reject: false,
          stdin: 'ignore',
        },
      );
      expect(pushed.exitCode, String(pushed.stderr)).toBe(0);

      const hostName = `127.0.0.1:${sshd!.port}`;
      const hostPattern = hostName.replace(/\./g, '\\.');
      tui = startTmux([process.execPath, GANTRY, '--host', sshd!.url(GANTRY)], {
        env: {
          ...local.env,
          ...sshd!.clientEnv,
          XDG_CONFIG_HOME: path.join(work, 'config'),
          GANTRY_HOST: '',
        },
        columns: 160,
        rows: 34,
        label: 'tui-rimg',
      });
      await tui.waitFor(/HOST\s+NAME/, 60_000, 'the HOST column');
      tui.send('2');
      // Every row names its host; demo is on both, as two rows.
      await tui.waitFor(/local\s+demo:latest\s/, 60_000, "this machine's demo");
      await tui.waitFor(new RegExp(`${hostPattern}\\s+far-tools:v1\\s`), 60_000, "the remote host's image");
      expect(tui.capture()).toMatch(new RegExp(`${hostPattern}\\s+demo:latest\\s`));
      expect(tui.capture()).toMatch(/local\s+shipped:v1\s/);

      // Layers of the remote image: walked on its host (its efficiency and waste), then a layer's files.
      selectImage('far-tools');
      tui.send('Enter');
      await tui.waitFor(`far-tools:v1 (image on ${hostName})`, 60_000, 'the Layers pane');
      await tui.waitFor(/efficiency \d+(\.\d+)?%\s+wasted [1-9]/, 120_000, "the remote image's efficiency");
      await tui.waitFor('/etc/passwd', 60_000, 'the file stored twice');
      tui.send('Enter');
      await tui.waitFor('far-marker', 60_000, "the top layer's files");

      // Layers of the remote container: its image's layers and its live writable layer.
      tui.send('Escape', 'Escape', '1', '/', 'C-u');
      tui.type('far');
      tui.send('Enter', '3');
      await tui.waitFor(`far (container on ${hostName})`, 60_000, "the remote container's layers");
      await tui.waitFor(/\blive\b/, 120_000, 'its writable layer');

      // Only the remote host's images (H, H): its demo is refused, naming the container using it.
      tui.send('Escape', '2', 'H', 'H');
      await tui.waitFor(`host: ${hostName}`, 60_000);
      await tui.waitFor((screen) => !/local\s+demo/.test(screen), 60_000, "this machine's rows hidden");
      selectImage('demo');
      tui.send('D');
      await tui.waitFor(`Remove image demo:latest on ${hostName}?`, 60_000);
      tui.send('y');
      await tui.waitFor(/remove image demo:latest: image [0-9a-f]+ is used by container far/, 60_000);
      expect(await imageNames(remote)).toContain('demo:latest');

      // A build there is refused with the reason; nothing is built anywhere.
      tui.send('b');
      await tui.waitFor(`${hostName} cannot build from here (the remote protocol has no build)`, 60_000);

      // A pull onto the remote host, from the registry only it reaches.
      tui.send('P');
      await tui.waitFor(`Pull an image onto ${hostName}`, 60_000);
      tui.type(reference);
      tui.send('Enter');
      await tui.waitFor(`pulled ${reference} onto ${hostName}`, 180_000, 'the pull to end');
      expect(tui.capture()).toContain(`Pulling from ${reference}`);
      // Closes the pull view, then clears the filter.
      tui.send('Escape', 'Escape');
      await tui.waitFor(
        new RegExp(`${hostPattern}\\s+${reference.replace(/\./g, '\\.')}`),
        60_000,
        'the pulled image on the remote host',
      );
      expect(await imageNames(remote)).toContain(reference);
      expect(await imageNames(local)).not.toContain(reference);

      // Remove an unused remote image: gone from the remote root.
      const toolsId = (
        await remote.gantry(['image', 'inspect', '-f', '{{.Id}}', 'far-tools:v1'])
      ).stdout.trim();
      expect(toolsId).toMatch(/^sha256:[0-9a-f]{64}$/);
      selectImage('far-tools');
      tui.send('D');
      await tui.waitFor(`Remove image far-tools:v1 on ${hostName}?`, 60_000);
      tui.send('y');
      await tui.waitFor(`image far-tools:v1 removed on ${hostName}`, 60_000);
      expect(await imageNames(remote)).not.toContain('far-tools:v1');
      const byId = await remote.gantry(['image', 'inspect', toolsId]);
      expect(byId.exitCode).not.toBe(0);
      expect(byId.stderr).toContain(`image "${toolsId}" not found`);
      await tui.waitFor((screen) => !screen.includes('far-tools:v1'), 60_000, 'its row gone');

      // All hosts again; the remote host drops while its images are shown.
      tui.send('Escape', 'H');
      await tui.waitFor(/local\s+shipped:v1/, 60_000);
      sshd!.kill();
      await tui.waitFor(new RegExp(`✖ ${hostPattern} unreachable`), 90_000, 'the host shown unreachable');
      await tui.waitFor(new RegExp(`✖ ${hostPattern}\\s+demo:latest`), 60_000, 'its image rows marked');
      // This machine's images are still managed.
      selectImage('shipped');
      tui.send('D');
      await tui.waitFor('Remove image shipped:v1?', 60_000);
      tui.send('y');
      await tui.waitFor('image shipped:v1 removed', 60_000);
      expect(await imageNames(local)).not.toContain('shipped:v1');

      // Back: reconnected by itself, its rows current and unmarked.
      await sshd!.restart();
      tui.send('Escape');
      await tui.waitFor(
        (screen) =>
          !screen.includes('unreachable') &&
          new RegExp(`${hostPattern}\\s+${reference.replace(/\./g, '\\.')}`).test(screen) &&
          !screen.includes('✖'),
        120_000,
        'the host back with its images',
      );

      tui.send('q');
      expect(await tui.waitFor('GANTRY_EXIT=', 60_000, 'gantry to exit')).toContain('GANTRY_EXIT=0');
      await remote.gantry(['rm', '-f', 'far']);
    }, 900_000);
  },
);
