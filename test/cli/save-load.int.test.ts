/** docker's top-level `save` and `load` (and `image load`): an image archive out and back in. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { createTestEngine, engineForSuite, type TestEngine } from '../support/engine.js';
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
});
