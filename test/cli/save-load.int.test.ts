/** docker's top-level `save` and `load` (and `image load`): an image archive out and back in. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { createTestEngine, engineForSuite, waitFor, type TestEngine } from '../support/engine.js';
import { describeUnless, needsRoot } from '../support/skip.js';

describeUnless(needsRoot(), 'gantry save / load', () => {
  const engine = engineForSuite('save-load');

  it('saves a docker-archive to stdout or -o, and loads it from stdin or -i into another root', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gantry-save-'));
    let other: TestEngine | undefined;
    try {
      const file = path.join(dir, 'demo.tar');
      const saved = await engine.gantry(['save', '-o', file, 'demo']);
      expect(saved.exitCode, saved.stderr).toBe(0);
      const streamed = path.join(dir, 'streamed.tar');
      const toStdout = await engine.gantry(['save', 'demo'], { stdout: { file: streamed } });
      expect(toStdout.exitCode, toStdout.stderr).toBe(0);
      expect(fs.readFileSync(streamed).equals(fs.readFileSync(file))).toBe(true);
      // A docker-archive: manifest.json names the image's config and tag.
      const listing = await engine.inNetns('tar', ['-xOf', file, 'manifest.json']);
      expect(JSON.parse(listing.stdout)[0].RepoTags).toEqual(['demo:latest']);
      const id = (await engine.gantry(['image', 'inspect', '-f', '{{.Id}}', 'demo'])).stdout.trim();

      other = await createTestEngine('save-load-to');
      const loaded = await other.gantry(['load'], { inputFile: streamed });
      expect(loaded.exitCode, loaded.stderr).toBe(0);
      expect(loaded.stdout).toBe('Loaded image: demo:latest\n');
      expect((await other.gantry(['image', 'inspect', '-f', '{{.Id}}', 'demo'])).stdout.trim()).toBe(id);
      expect((await other.gantry(['rmi', 'demo'])).exitCode).toBe(0);
      const fromFile = await other.gantry(['image', 'load', '-i', file, '-q']);
      expect(fromFile.exitCode, fromFile.stderr).toBe(0);
      expect(fromFile.stdout).toBe('');
      expect((await other.gantry(['images', '--format', '{{.Repository}}:{{.Tag}} {{.Id}}'])).stdout).toBe(
        `demo:latest ${id}\n`,
      );
      const missing = await other.gantry(['load', '-i', path.join(dir, 'nope.tar')]);
      expect(missing.exitCode).not.toBe(0);
      expect(missing.stderr).toMatch(/nope\.tar/);
    } finally {
      await other?.cleanup();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("spools stdin under the root's tmp/: gone after a refused archive, swept after SIGKILL", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gantry-spool-'));
    const other = await createTestEngine('load-spool');
    const tmp = path.join(other.root, 'tmp');
    const left = () => (fs.existsSync(tmp) ? fs.readdirSync(tmp) : []);
    try {
      const garbage = path.join(dir, 'garbage');
      fs.writeFileSync(garbage, 'not an image archive\n');
      for (const args of [['load'], ['image', 'import', '-', 'never:1']]) {
        const refused = await other.gantry(args, { inputFile: garbage });
        expect(refused.exitCode, `${args.join(' ')}: ${refused.stdout}`).not.toBe(0);
        expect(left(), args.join(' ')).toEqual([]);
      }

      // A load still reading its stdin, killed without warning: its spool stays until the next
      // command that takes a work directory sweeps it.
      const child = other.spawn(['load'], { stdin: 'pipe', stdout: 'ignore', stderr: 'ignore' });
      child.stdin?.write(Buffer.alloc(64 << 10));
      const spooled = await waitFor(
        () =>
          left().find((name) => {
            const file = path.join(tmp, name, 'image.tar');
            return fs.existsSync(file) && fs.statSync(file).size > 0;
          }),
        60_000,
        'the load to spool its stdin',
      );
      child.kill('SIGKILL');
      await child;
      expect(left()).toEqual([spooled]);
      const saved = path.join(dir, 'demo.tar');
      expect((await engine.gantry(['save', '-o', saved, 'demo'])).exitCode).toBe(0);
      const loaded = await other.gantry(['load', '-i', saved]);
      expect(loaded.exitCode, loaded.stderr).toBe(0);
      expect(left()).toEqual([]);
    } finally {
      await other.cleanup();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
