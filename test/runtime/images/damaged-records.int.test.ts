/**
 * A damaged image record (garbage in images/<id>.json, written for real) blocks nothing: every
 * image command skips it with a warning that names the file, and `image rm` or `image prune`
 * removes it together with the layers and blobs only it used.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { engineForSuite, testName } from '../../support/engine.js';
import { leftovers } from '../../support/faults.js';
import { describeUnless, needsRoot } from '../../support/skip.js';

describeUnless(needsRoot(), 'damaged image records', () => {
  const engine = engineForSuite('damaged-images');
  const context = fs.mkdtempSync(path.join(os.tmpdir(), `${testName('damaged-images-context')}-`));
  fs.writeFileSync(path.join(context, 'Containerfile'), 'FROM demo\nRUN echo built > /built\n');
  afterAll(() => fs.rmSync(context, { recursive: true, force: true }));

  async function ok(args: string[]): Promise<string> {
    const result = await engine.gantry(args);
    expect(result.exitCode, `gantry ${args.join(' ')}:\n${result.stderr}`).toBe(0);
    return result.stdout.trim();
  }

  /** An image with a layer of its own; returns its ID and the file of its record. */
  async function imageWithOwnLayer(name: string): Promise<{ id: string; file: string; layers: string[] }> {
    await ok(['run', '--name', `${name}-src`, 'demo', 'sh', '-c', `echo ${name} > /${name}`]);
    const id = await ok(['commit', `${name}-src`, `${name}:1`]);
    await ok(['rm', `${name}-src`]);
    const file = path.join(engine.root, 'images', `${id.replace('sha256:', '')}.json`);
    const record = JSON.parse(fs.readFileSync(file, 'utf8')) as { layers: { chainId: string }[] };
    return { id, file, layers: record.layers.map((layer) => layer.chainId.replace('sha256:', '')) };
  }

  const layerExists = (chainId: string) => fs.existsSync(path.join(engine.root, 'layers', chainId));

  it('is skipped with a warning naming the file, and image rm removes it with what only it used', async () => {
    const broken = await imageWithOwnLayer('broken');
    fs.writeFileSync(broken.file, '{"id": "sha256:\u0000 garbage');
    const ls = await engine.gantry(['image', 'ls', '--format', '{{.Repository}}']);
    expect(ls.exitCode, ls.stderr).toBe(0);
    expect(ls.stdout).toContain('demo');
    expect(ls.stderr).toContain(`image record ${broken.file} is damaged`);
    expect(ls.stderr).toContain(`gantry image rm ${broken.id.slice(7, 19)}`);
    // Other images work: run, tag, build on them, and their removal.
    expect((await engine.gantry(['run', '--rm', 'demo', 'true'])).exitCode).toBe(0);
    await ok(['tag', 'demo', 'other:1']);
    await ok(['image', 'rm', 'other:1']);
    await ok(['build', '-t', 'built:1', context]);
    expect(await ok(['run', '--rm', 'built:1', 'cat', '/built'])).toBe('built');
    await ok(['image', 'rm', 'built:1']);
    const ownLayer = broken.layers.at(-1)!;
    // image rm by the ID the warning gives.
    const rm = await engine.gantry(['image', 'rm', broken.id.slice(7, 19)]);
    expect(rm.exitCode, rm.stderr).toBe(0);
    expect(fs.existsSync(broken.file)).toBe(false);
    expect(layerExists(ownLayer)).toBe(false);
    expect(leftovers(engine.root, engine.cgroupParent)).toEqual([]);
    expect((await engine.gantry(['image', 'ls'])).stderr).toBe('');
  });

  it('keeps what a damaged record names until it is removed; image prune removes it', async () => {
    const broken = await imageWithOwnLayer('pruned');
    fs.writeFileSync(broken.file, '[]');
    const ownLayer = broken.layers.at(-1)!;
    // A removal of something else collects unreferenced content, but not this layer.
    await ok(['tag', 'demo', 'another:1']);
    await ok(['image', 'rm', 'another:1']);
    expect(layerExists(ownLayer)).toBe(true);
    const prune = await engine.gantry(['image', 'prune', '-f']);
    expect(prune.exitCode, prune.stderr).toBe(0);
    expect(prune.stdout).toContain(broken.id);
    expect(fs.existsSync(broken.file)).toBe(false);
    expect(layerExists(ownLayer)).toBe(false);
    expect(leftovers(engine.root, engine.cgroupParent)).toEqual([]);
  });

  it('a FIFO in place of an image record hangs nothing', async () => {
    const broken = await imageWithOwnLayer('fifo');
    fs.rmSync(broken.file);
    execFileSync('mkfifo', [broken.file]);
    const ls = await engine.gantry(['image', 'ls'], { timeout: 60_000 });
    expect(ls.exitCode).toBe(0);
    expect(ls.stderr).toContain(`image record ${broken.file} is damaged: it is a FIFO, not a regular file`);
    expect((await engine.gantry(['image', 'rm', broken.id], { timeout: 60_000 })).exitCode).toBe(0);
    expect(leftovers(engine.root, engine.cgroupParent)).toEqual([]);
  });
});
