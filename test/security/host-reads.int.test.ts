/**
 * Attacks on the host-side reads of a container's files, performed by real containers: a
 * /etc/passwd that is a symlink to a host file (for `exec -u NAME` and an image's USER), and a
 * directory swapped for a symlink to a host directory while `commit --pause=false`, `diff
 * --pause=false` and `image tree` read the live writable layer. The host directory holds a
 * recognisable secret; nothing gantry prints or stores may ever contain it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { engineForSuite, testName, waitFor } from '../support/engine.js';
import { describeUnless, needsRoot } from '../support/skip.js';

describeUnless(needsRoot(), 'host-side reads stay inside the container', () => {
  const engine = engineForSuite('host-reads');
  let host: string;
  let marker: string;

  beforeAll(() => {
    host = fs.mkdtempSync(path.join(os.tmpdir(), `${testName('host-secret')}-`));
    marker = `secret${path.basename(host).slice(-6)}`;
    fs.writeFileSync(path.join(host, 'passwd'), `intruder:x:4242:4242:${marker}:/${marker}:/bin/sh\n`);
    fs.writeFileSync(path.join(host, 'group'), `intruders:x:4343:intruder\n`);
    fs.writeFileSync(path.join(host, `${marker}.txt`), `${marker}\n`);
    fs.writeFileSync(path.join(host, 'file'), `${marker}\n`);
  });

  afterAll(() => {
    if (host) fs.rmSync(host, { recursive: true, force: true });
  });

  async function ok(args: string[]): Promise<string> {
    const result = await engine.gantry(args);
    expect(result.exitCode, `gantry ${args.join(' ')}: ${result.stderr}`).toBe(0);
    return result.stdout;
  }

  /** Every byte of every regular file under `directory`, symlinks not followed. */
  function contentUnder(directory: string): string {
    let all = '';
    for (const entry of fs.readdirSync(directory, { withFileTypes: true, recursive: true })) {
      const file = path.join(entry.parentPath, entry.name);
      all += `${file}\n`;
      if (entry.isFile()) all += fs.readFileSync(file, 'latin1');
    }
    return all;
  }

  it('exec -u NAME does not read a host /etc/passwd the container linked to', async () => {
    await ok([
      'run',
      '-d',
      '--name',
      'passwd-link',
      'demo',
      'sh',
      '-c',
      `rm -f /etc/passwd /etc/group && ln -s ${host}/passwd /etc/passwd && ln -s ${host}/group /etc/group && touch /planted && exec sleep 600`,
    ]);
    await waitFor(
      async () =>
        (await engine.gantry(['exec', 'passwd-link', 'test', '-e', '/planted'])).exitCode === 0 || undefined,
      60_000,
      'the planted symlinks',
    );
    const exec = await engine.gantry(['exec', '-u', 'intruder', 'passwd-link', 'id']);
    expect(exec.exitCode).not.toBe(0);
    expect(exec.stderr).toContain('unable to find user intruder');
    expect(exec.stdout).not.toContain('4242');
    const withGroup = await engine.gantry(['exec', '-u', '0:intruders', 'passwd-link', 'id', '-g']);
    expect(withGroup.stderr).toContain('unable to find group intruders');
    // Numbers need no lookup, and still work.
    expect((await ok(['exec', '-u', '4242', 'passwd-link', 'id', '-u'])).trim()).toBe('4242');
    await engine.gantry(['rm', '-f', 'passwd-link']);
  });

  it("an image's USER does not resolve through a /etc/passwd linked to a host file", async () => {
    // /etc/passwd -> /hostlink/passwd and /hostlink -> the host directory: a host-side lookup that
    // lets the kernel resolve /hostlink (in a layer, or in /proc/PID/root) lands on the host.
    await ok([
      'run',
      '--name',
      'user-maker',
      'demo',
      'sh',
      '-c',
      `ln -s ${host} /hostlink && rm /etc/passwd && ln -s /hostlink/passwd /etc/passwd`,
    ]);
    await ok(['commit', '--change', 'USER intruder', 'user-maker', 'evil-user:1']);
    const run = await engine.gantry(['run', '--rm', 'evil-user:1', 'id', '-u']);
    expect(run.exitCode).toBe(125);
    expect(run.stderr).toContain('unable to find user intruder');
    expect(run.stdout).not.toContain('4242');
    // The same file inside the image is found: links are followed, inside the image's root.
    await ok([
      'run',
      '--name',
      'inside-maker',
      'demo',
      'sh',
      '-c',
      'mkdir /real && echo "inside:x:1234:1234::/home/inside:/bin/sh" > /real/passwd && rm /etc/passwd && ln -s ../real/passwd /etc/passwd',
    ]);
    await ok(['commit', '--change', 'USER inside', 'inside-maker', 'inside-user:1']);
    expect((await ok(['run', '--rm', 'inside-user:1', 'sh', '-c', 'id -u; echo $HOME'])).trim()).toBe(
      '1234\n/home/inside',
    );
    await engine.gantry(['rm', '-f', 'user-maker', 'inside-maker']);
    await engine.gantry(['image', 'rm', 'evil-user:1', 'inside-user:1']);
  });

  it(
    'commit --pause=false, diff --pause=false and image tree never read through a swapped symlink',
    { timeout: 300_000 },
    async () => {
      // A symlink to the host directory planted before, and a directory swapped for one in a loop.
      const id = (
        await ok([
          'run',
          '-d',
          '--name',
          'swapper',
          'demo',
          'sh',
          '-c',
          `mkdir -p /data/real && echo inside > /data/real/file && ln -s ${host} /data/planted && touch /data/ready && ` +
            `while :; do mv /data/real /data/aside; ln -s ${host} /data/real; rm /data/real; mv /data/aside /data/real; done`,
        ])
      ).trim();
      const upper = path.join(engine.root, 'containers', id, 'upper');
      await waitFor(
        () => fs.existsSync(path.join(upper, 'data', 'ready')) || undefined,
        60_000,
        'the swapper',
      );
      const layersBefore = new Set(fs.readdirSync(path.join(engine.root, 'layers')));
      for (let round = 0; round < 8; round += 1) {
        const diff = await ok(['diff', '--pause=false', 'swapper']);
        expect(diff).toContain('A /data/planted');
        expect(diff).not.toContain(marker);
        const tree = await ok(['image', 'tree', '--json', '--container', 'swapper']);
        expect(tree).not.toContain(marker);
        await ok(['commit', '--pause=false', 'swapper', `swapped:${round}`]);
      }
      const layersAfter = fs
        .readdirSync(path.join(engine.root, 'layers'))
        .filter((layer) => !layersBefore.has(layer));
      expect(layersAfter.length).toBeGreaterThan(0);
      for (const layer of layersAfter) {
        const content = contentUnder(path.join(engine.root, 'layers', layer));
        expect(content).toContain('planted');
        expect(content).not.toContain(marker);
      }
      // The committed symlink is a symlink: the image holds the link, not the host's files.
      const listed = await ok(['run', '--rm', 'swapped:0', 'readlink', '/data/planted']);
      expect(listed.trim()).toBe(host);
      await engine.gantry(['rm', '-f', 'swapper']);
      for (let round = 0; round < 8; round += 1) await engine.gantry(['image', 'rm', `swapped:${round}`]);
    },
  );

  it('diff freezes a running container while it reads the layer, as commit does', async () => {
    const id = (
      await ok([
        'run',
        '-d',
        '--name',
        'many-files',
        'demo',
        'sh',
        '-c',
        'mkdir /many && cd /many && seq 1 40000 | xargs touch && touch /done && exec sleep 600',
      ])
    ).trim();
    const upper = path.join(engine.root, 'containers', id, 'upper');
    await waitFor(() => fs.existsSync(path.join(upper, 'done')) || undefined, 60_000, 'the files');
    const stateFile = path.join(engine.root, 'containers', id, 'state.json');
    const diff = engine.spawn(['diff', 'many-files']);
    // The diff marks the pause as its own in the container's state while it reads.
    await waitFor(
      () => {
        const state = JSON.parse(fs.readFileSync(stateFile, 'utf8')) as {
          State: { Status: string };
          PausedBy?: { pid: number };
        };
        return (state.State.Status === 'paused' && state.PausedBy !== undefined) || undefined;
      },
      60_000,
      'the diff to pause the container',
    );
    const result = await diff;
    expect(result.exitCode).toBe(0);
    expect(String(result.stdout)).toContain('A /many/40000');
    expect((await ok(['inspect', '-f', '{{.State.Status}}', 'many-files'])).trim()).toBe('running');
    await engine.gantry(['rm', '-f', 'many-files']);
  });
});
