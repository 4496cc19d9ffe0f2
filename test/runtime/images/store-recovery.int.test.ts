/**
 * Crashes: an import killed with SIGKILL, and a process that died inside a commit, leave nothing
 * behind once the next store operation has run.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FileLock } from '../../../source/runtime/fsutil.js';
import { ImageStore } from '../../../source/runtime/images/store.js';
import { StateLayout } from '../../../source/runtime/paths.js';
import { makeTempDirectory, tarBuffer, writeOciLayout, type CraftedEntry } from './support.js';
import { describeUnless, needsRoot } from '../../support/skip.js';

const gantry = path.resolve(import.meta.dirname, '..', '..', '..', 'bin', 'gantry.js');

describeUnless(needsRoot(), 'store recovery', () => {
  let base: string;
  let smallLayout: string;

  beforeAll(async () => {
    base = makeTempDirectory('images-recovery');
    smallLayout = writeOciLayout(path.join(base, 'small'), {
      layers: [
        { tar: await tarBuffer([{ entry: { path: 'small', type: 'file' }, body: Buffer.from('small') }]) },
      ],
      name: 'small:1',
    });
  });
  afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

  function listing(root: string, directory: string): string[] {
    const full = path.join(root, directory);
    return fs.existsSync(full) ? fs.readdirSync(full) : [];
  }

  it('sweeps what an import killed with SIGKILL left behind', async () => {
    const root = path.join(base, 'killed');
    // Many small files (a 10 MiB tar, cheap to make): creating each costs the unpack several
    // syscalls, so the kill lands while the layer is being unpacked, however fast the machine.
    const entries: CraftedEntry[] = [];
    for (let directory = 0; directory < 100; directory += 1) {
      entries.push({ entry: { path: `data/d${directory}`, type: 'directory' } });
      for (let file = 0; file < 200; file += 1)
        entries.push({ entry: { path: `data/d${directory}/f${file}`, type: 'file' }, body: Buffer.alloc(0) });
    }
    const bigLayout = writeOciLayout(path.join(base, 'big'), {
      layers: [{ tar: await tarBuffer(entries) }],
      name: 'big:1',
    });
    // The real CLI (built by the integration tests' global setup), killed mid-import.
    const child = spawn(process.execPath, [gantry, 'image', 'import', bigLayout], {
      stdio: 'ignore',
      env: { ...process.env, GANTRY_ROOT: root },
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      const deadline = Date.now() + 60_000;
      // Wait until the unpack has visibly started, then kill without warning.
      for (;;) {
        const work = listing(root, 'tmp').find((name) => name.startsWith('image-import-'));
        if (work && fs.readdirSync(path.join(root, 'tmp', work)).some((name) => name.startsWith('layer-')))
          break;
        if (Date.now() > deadline) throw new Error('the child import never started');
        await sleep(5);
      }
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    expect(listing(root, 'tmp').length).toBeGreaterThan(0);
    expect(listing(root, 'images')).toEqual([]);

    const store = new ImageStore(new StateLayout(root));
    await store.import(smallLayout);
    expect(listing(root, 'tmp')).toEqual([]);
    expect((await store.list()).map((record) => record.names)).toEqual([['small:1']]);
    expect(listing(root, 'layers')).toHaveLength(1);
    expect(listing(root, path.join('blobs', 'sha256'))).toHaveLength(3);
  });

  it('leaves alone the work directory of an import that is still running', async () => {
    const root = path.join(base, 'busy');
    const layout = new StateLayout(root);
    const busy = path.join(layout.tmp, 'image-import-busy');
    fs.mkdirSync(busy, { recursive: true });
    const lock = await FileLock.acquire(path.join(busy, '.lock'));
    try {
      fs.writeFileSync(path.join(busy, 'partial'), 'x');
      const dead = path.join(layout.tmp, 'image-import-dead');
      fs.mkdirSync(dead);
      fs.writeFileSync(path.join(dead, '.lock'), '');
      fs.writeFileSync(path.join(dead, 'partial'), 'x');
      const foreign = path.join(layout.tmp, 'someone-else');
      fs.mkdirSync(foreign);
      await new ImageStore(layout).import(smallLayout);
      expect(fs.readdirSync(layout.tmp).sort()).toEqual(['image-import-busy', 'someone-else']);
    } finally {
      lock.release();
    }
  });

  it('collects objects a process left in place when it died inside a commit', async () => {
    const root = path.join(base, 'mid-commit');
    const layout = new StateLayout(root);
    const store = new ImageStore(layout);
    await store.import(smallLayout);
    const orphanBlob = path.join(layout.blobs, 'sha256', 'f'.repeat(64));
    const orphanLayer = path.join(layout.layers, 'e'.repeat(64));
    fs.writeFileSync(orphanBlob, 'orphan');
    fs.mkdirSync(path.join(orphanLayer, 'diff'), { recursive: true });
    fs.writeFileSync(path.join(layout.images, '.commit-in-progress'), '');
    await store.tag('small:1', 'small:2');
    expect(fs.existsSync(orphanBlob)).toBe(false);
    expect(fs.existsSync(orphanLayer)).toBe(false);
    expect(fs.existsSync(path.join(layout.images, '.commit-in-progress'))).toBe(false);
    expect((await store.resolveForRun('small:2')).layerDirs).toHaveLength(1);
  });

  it('gc removes unreferenced content and keeps what images use', async () => {
    const root = path.join(base, 'gc');
    const layout = new StateLayout(root);
    const store = new ImageStore(layout);
    await store.import(smallLayout);
    fs.writeFileSync(path.join(layout.blobs, 'sha256', 'a'.repeat(64)), 'orphan');
    const freed = await store.gc();
    expect(freed.blobs).toEqual([`sha256:${'a'.repeat(64)}`]);
    expect(freed.layers).toEqual([]);
    expect((await store.resolveForRun('small:1')).layerDirs).toHaveLength(1);
  });
});
