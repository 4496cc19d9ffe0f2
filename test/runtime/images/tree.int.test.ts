/**
 * The layer tree and the efficiency of real unpacked layers: a crafted image whose layers
 * overwrite a 1 MiB file, modify and remove files and make a directory opaque, imported into a
 * private store (whiteouts become 0/0 devices, the opaque marker an xattr) and analysed from the
 * unpacked directories, through the library API and through `gantry image tree/history`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ImageStore } from '../../../source/runtime/images/store.js';
import { aggregateTree } from '../../../source/runtime/images/tree/aggregate.js';
import { layerTree } from '../../../source/runtime/images/tree/layer-tree.js';
import type { LayerTree } from '../../../source/runtime/images/tree/types.js';
import { StateLayout } from '../../../source/runtime/paths.js';
import { engineForSuite } from '../../support/engine.js';
import { findNode } from '../../support/file-tree.js';
import { makeTempDirectory, tarBuffer, writeOciLayout, type CraftedEntry } from './support.js';
import { describeUnless, needsRoot } from '../../support/skip.js';

const MiB = 1024 * 1024;
const KiB = 1024;

function file(name: string, size: number, fill = 'x'): CraftedEntry {
  return { entry: { path: name, type: 'file', mode: 0o644 }, body: Buffer.alloc(size, fill) };
}
function directory(name: string): CraftedEntry {
  return { entry: { path: name, type: 'directory', mode: 0o755 } };
}

describeUnless(needsRoot(), 'layer tree and efficiency', () => {
  const engine = engineForSuite('tree');
  let temp: string;
  let tree: LayerTree;

  beforeAll(async () => {
    temp = makeTempDirectory('tree-layout');
    const layout = writeOciLayout(path.join(temp, 'layout'), {
      name: 'crafted:1',
      layers: [
        {
          tar: await tarBuffer([
            directory('etc'),
            file('etc/conf', 100),
            { entry: { path: 'etc/conf2', type: 'hardlink', linkPath: 'etc/conf' } },
            file('big', MiB),
            directory('d'),
            file('d/a', 200 * KiB),
            directory('d/sub'),
            file('d/sub/b', 50 * KiB),
            file('gone', 300),
            { entry: { path: 'link', type: 'symlink', linkPath: 'big' } },
          ]),
          gzip: true,
        },
        {
          tar: await tarBuffer([
            file('big', MiB, 'y'),
            directory('etc'),
            file('etc/conf', 120, 'z'),
            file('.wh.gone', 0),
          ]),
        },
        {
          tar: await tarBuffer([directory('d'), file('d/.wh..wh..opq', 0), file('d/c', 10)]),
        },
      ],
      config: {
        history: [
          { created: '2024-01-01T00:00:00Z', created_by: 'ADD base.tar /' },
          { created: '2024-01-02T00:00:00Z', created_by: 'ENV A=1', empty_layer: true },
          { created: '2024-01-03T00:00:00Z', created_by: 'RUN overwrite big, change conf, rm /gone' },
          {
            created: '2024-01-04T00:00:00Z',
            created_by: 'RUN rm -rf /d && mkdir /d && echo > /d/c',
            comment: 'replace d',
          },
        ],
      },
    });
    const imported = await engine.gantry(['image', 'import', layout]);
    expect(imported.exitCode, imported.stderr).toBe(0);
    const store = new ImageStore(new StateLayout(engine.root));
    tree = await layerTree(store, await store.resolve('crafted:1'));
  });

  afterAll(() => fs.rmSync(temp, { recursive: true, force: true }));

  it('gives every layer its digest, size and the instruction that made it (empty_layer entries skipped)', () => {
    expect(tree.layers.map((layer) => layer.createdBy)).toEqual([
      'ADD base.tar /',
      'RUN overwrite big, change conf, rm /gone',
      'RUN rm -rf /d && mkdir /d && echo > /d/c',
    ]);
    expect(tree.layers[2]!.comment).toBe('replace d');
    // The hard link is stored once.
    expect(tree.layers.map((layer) => layer.size)).toEqual([
      MiB + 100 + 200 * KiB + 50 * KiB + 300,
      MiB + 120,
      10,
    ]);
    for (const layer of tree.layers) {
      expect(layer.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(layer.chainId).toMatch(/^sha256:[0-9a-f]{64}$/);
    }
    expect(tree.layers[0]!.chainId).toBe(tree.layers[0]!.digest);
    expect(tree.totalBytes).toBe(tree.layers.reduce((sum, layer) => sum + layer.size, 0));
  });

  it('shows what each layer added, modified and removed, with sizes, as a tree', () => {
    const [first, second, third] = tree.layers.map((layer) => layer.changes);
    expect(findNode(first, '/big')).toMatchObject({ kind: 'added', type: 'file', size: MiB });
    expect(findNode(first, '/etc/conf2')).toMatchObject({
      kind: 'added',
      type: 'hardlink',
      size: 0,
      linkTarget: '/etc/conf',
    });
    expect(findNode(first, '/link')).toMatchObject({ kind: 'added', type: 'symlink', linkTarget: 'big' });
    expect(findNode(first, '/d')).toMatchObject({ kind: 'added', type: 'directory', size: 250 * KiB });

    expect(findNode(second, '/big')).toMatchObject({ kind: 'modified', size: MiB });
    expect(findNode(second, '/etc')).toMatchObject({ kind: 'unchanged', size: 120 });
    expect(findNode(second, '/etc/conf')).toMatchObject({ kind: 'modified', size: 120 });
    expect(findNode(second, '/gone')).toMatchObject({ kind: 'removed', type: 'file', size: 300 });
    expect(findNode(second, '/d')).toBeUndefined();
    expect(tree.layers[1]!.summary).toEqual({
      added: 0,
      modified: 2,
      removed: 1,
      addedBytes: 0,
      modifiedBytes: MiB + 120,
      removedBytes: 300,
    });

    // The opaque directory hides everything the lower /d had: shown as removed, with its bytes.
    expect(findNode(third, '/d')).toMatchObject({ kind: 'modified', opaque: true, size: 10 });
    expect(findNode(third, '/d/a')).toMatchObject({ kind: 'removed', type: 'file', size: 200 * KiB });
    expect(findNode(third, '/d/sub')).toMatchObject({ kind: 'removed', type: 'directory', size: 50 * KiB });
    expect(findNode(third, '/d/c')).toMatchObject({ kind: 'added', size: 10 });
    expect(third!.children!.map((child) => child.name)).toEqual(['d']);
  });

  // Issue 11, defect 11: a chmod-only change showed no reason.
  it('says what a modification changed: content, permission bits, owner', () => {
    const second = tree.layers[1]!.changes;
    expect(findNode(second, '/big')).toMatchObject({ kind: 'modified', reasons: ['content'], mode: 0o644 });
    expect(findNode(second, '/etc/conf')).toMatchObject({ reasons: ['content'] });
    expect(findNode(tree.layers[0]!.changes, '/etc/conf')).toMatchObject({ mode: 0o644, uid: 0, gid: 0 });
  });

  it('stacks the change trees into the whole filesystem of a layer (the aggregated view)', () => {
    const changes = tree.layers.map((layer) => layer.changes!);
    const second = aggregateTree(changes.slice(0, 2));
    expect(findNode(second, '/big')).toMatchObject({ kind: 'modified', size: MiB });
    expect(findNode(second, '/gone')).toMatchObject({ kind: 'removed', size: 300 });
    expect(findNode(second, '/d/sub/b')).toMatchObject({ kind: 'unchanged', size: 50 * KiB });
    const third = aggregateTree(changes);
    expect(findNode(third, '/gone')).toBeUndefined();
    expect(findNode(third, '/etc/conf')).toMatchObject({ kind: 'unchanged', size: 120 });
    expect(findNode(third, '/d')).toMatchObject({ kind: 'modified', opaque: true, size: 10 });
    expect(findNode(third, '/d/sub')).toMatchObject({ kind: 'removed', size: 50 * KiB });
    expect(findNode(third, '/d/c')).toMatchObject({ kind: 'added', size: 10 });
    expect(third.size).toBe(MiB + 120 + 10);
  });

  it('counts wasted bytes as all copies but the smallest, and honours the opaque directory', () => {
    const byPath = Object.fromEntries(tree.inefficiencies.map((item) => [item.path, item]));
    // Written in layer 1, overwritten in layer 2: one copy is wasted, not both (dive: 2 MiB).
    expect(byPath['/big']).toEqual({
      path: '/big',
      count: 2,
      cumulativeBytes: 2 * MiB,
      wastedBytes: MiB,
      layers: [0, 1],
    });
    expect(byPath['/etc/conf']).toMatchObject({ count: 2, wastedBytes: 120 });
    expect(byPath['/gone']).toMatchObject({ count: 2, wastedBytes: 300, layers: [0, 1] });
    // Hidden by the opaque /d of layer 3 (dive does not see these).
    expect(byPath['/d/a']).toMatchObject({ count: 2, wastedBytes: 200 * KiB, layers: [0, 2] });
    expect(byPath['/d/sub/b']).toMatchObject({ count: 2, wastedBytes: 50 * KiB, layers: [0, 2] });
    expect(tree.inefficiencies[0]!.path).toBe('/big');
    const wasted = MiB + 120 + 300 + 200 * KiB + 50 * KiB;
    expect(tree.wastedBytes).toBe(wasted);
    expect(tree.efficiency).toBeCloseTo(1 - wasted / tree.totalBytes, 12);
    expect(tree.userBytes).toBe(MiB + 130);
    expect(tree.userWastedPercent).toBeCloseTo((wasted / (MiB + 130)) * 100, 9);
  });

  it('prints the same through `gantry image tree --json` and a readable tree without it', async () => {
    const json = await engine.gantry(['image', 'tree', '--json', 'crafted:1']);
    expect(json.exitCode, json.stderr).toBe(0);
    const printed = JSON.parse(json.stdout) as LayerTree;
    expect(printed.wastedBytes).toBe(tree.wastedBytes);
    expect(printed.layers.map((layer) => layer.summary)).toEqual(tree.layers.map((layer) => layer.summary));
    const text = await engine.gantry(['image', 'tree', 'crafted:1']);
    expect(text.exitCode, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^IMAGE {2}crafted:1 \([0-9a-f]{12}\)$/m);
    expect(text.stdout).toContain('LAYER 3/3');
    expect(text.stdout).toMatch(/~ d\/ \(replaced\) {2}10B/);
    expect(text.stdout).toMatch(/- a {2}205kB/);
    expect(text.stdout).toMatch(/^1\.05MB +2 +1,2 +\/big$/m);
    const oneLayer = await engine.gantry(['image', 'tree', '--layer', '2', 'crafted:1']);
    expect(oneLayer.stdout).not.toContain('LAYER 1/3');
    expect(oneLayer.stdout).toContain('- gone  300B');
    const bad = await engine.gantry(['image', 'tree', '--layer', '9', 'crafted:1']);
    expect(bad.exitCode).not.toBe(0);
    expect(bad.stderr).toContain('invalid --layer 9: the image has layers 1 to 3');
  });

  it('lists the history like docker: newest first, empty layers 0B, --no-trunc and --json', async () => {
    const result = await engine.gantry(['image', 'history', 'crafted:1']);
    expect(result.exitCode, result.stderr).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^IMAGE +CREATED +CREATED BY +SIZE +COMMENT$/);
    expect(lines).toHaveLength(5);
    expect(lines[1]).toMatch(
      /^[0-9a-f]{12} +\S.* ago +RUN rm -rf \/d && mkdir \/d && echo > \/d\/c +10B +replace d$/,
    );
    expect(lines[2]).toMatch(/^<missing> .*RUN overwrite big, change conf, rm \/gone +1\.05MB/);
    expect(lines[3]).toMatch(/^<missing> .*ENV A=1 +0B/);
    const json = JSON.parse((await engine.gantry(['history', '--json', 'crafted:1'])).stdout) as Array<
      Record<string, unknown>
    >;
    expect(json.map((row) => row.Size)).toEqual([10, MiB + 120, 0, MiB + 100 + 200 * KiB + 50 * KiB + 300]);
    expect(json[0]!.ID).toMatch(/^sha256:/);
    expect(json[2]).toMatchObject({ ID: '<missing>', CreatedBy: 'ENV A=1', EmptyLayer: true });
  });

  it('gives a container its live writable layer on top, without the runtime mount stubs', async () => {
    const run = await engine.gantry([
      'run',
      '--name',
      'live',
      'demo',
      'sh',
      '-c',
      'dd if=/dev/zero of=/blob bs=1024 count=10 2>/dev/null; rm /etc/group; echo more >> /etc/passwd',
    ]);
    expect(run.exitCode, run.stderr).toBe(0);
    const result = await engine.gantry(['image', 'tree', '--container', '--json', 'live']);
    expect(result.exitCode, result.stderr).toBe(0);
    const live = JSON.parse(result.stdout) as LayerTree;
    expect(live.subject).toMatchObject({ kind: 'container', names: ['live'] });
    const top = live.layers.at(-1)!;
    expect(top).toMatchObject({ live: true, digest: '', chainId: '' });
    // The blob, and the copied-up /etc/passwd (82 bytes in the demo image, 5 appended).
    expect(top.size).toBe(10 * KiB + 87);
    expect(findNode(top.changes, '/blob')).toMatchObject({ kind: 'added', size: 10 * KiB });
    expect(findNode(top.changes, '/etc/group')).toMatchObject({ kind: 'removed' });
    expect(findNode(top.changes, '/etc/passwd')).toMatchObject({ kind: 'modified' });
    // /etc/hosts, /etc/hostname and /etc/resolv.conf are mount points the runtime made.
    expect(findNode(top.changes, '/etc')!.children!.map((child) => child.name)).toEqual(['group', 'passwd']);
    expect(live.inefficiencies.map((item) => item.path).sort()).toEqual(['/etc/group', '/etc/passwd']);
  });

  it('says a chmod or chown is a change of permission bits or owner only, files and directories alike', async () => {
    const run = await engine.gantry([
      'run',
      '--name',
      'perms',
      'demo',
      'sh',
      '-c',
      'chmod 600 /etc/passwd && chown 1000:1000 /etc/group && chmod 700 /etc',
    ]);
    expect(run.exitCode, run.stderr).toBe(0);
    const result = await engine.gantry(['image', 'tree', '--container', '--json', 'perms']);
    expect(result.exitCode, result.stderr).toBe(0);
    const top = (JSON.parse(result.stdout) as LayerTree).layers.at(-1)!;
    expect(findNode(top.changes, '/etc/passwd')).toMatchObject({
      kind: 'modified',
      reasons: ['mode'],
      mode: 0o600,
      previous: { mode: 0o644, uid: 0, gid: 0 },
    });
    expect(findNode(top.changes, '/etc/group')).toMatchObject({
      kind: 'modified',
      reasons: ['owner'],
      uid: 1000,
      gid: 1000,
      previous: { uid: 0, gid: 0 },
    });
    expect(findNode(top.changes, '/etc')).toMatchObject({ kind: 'modified', reasons: ['mode'], mode: 0o700 });
    expect(findNode(top.changes, '/etc')?.opaque).toBeUndefined();
  });

  it('shows a directory replaced by a file as ~ with its removed entries beneath it', async () => {
    const made = await engine.gantry([
      'run',
      '--name',
      'with-data',
      'demo',
      'sh',
      '-c',
      'mkdir -p /data/sub && echo aaa > /data/a && echo bb > /data/sub/b',
    ]);
    expect(made.exitCode, made.stderr).toBe(0);
    const committed = await engine.gantry(['commit', 'with-data', 'with-data:1']);
    expect(committed.exitCode, committed.stderr).toBe(0);
    const run = await engine.gantry([
      'run',
      '--name',
      'replaced',
      'with-data:1',
      'sh',
      '-c',
      'rm -rf /data && echo replaced > /data',
    ]);
    expect(run.exitCode, run.stderr).toBe(0);
    const result = await engine.gantry(['image', 'tree', '--container', '--json', 'replaced']);
    expect(result.exitCode, result.stderr).toBe(0);
    const top = (JSON.parse(result.stdout) as LayerTree).layers.at(-1)!;
    expect(findNode(top.changes, '/data')).toMatchObject({ kind: 'modified', type: 'file', size: 9 });
    expect(findNode(top.changes, '/data/a')).toMatchObject({ kind: 'removed', type: 'file', size: 4 });
    expect(findNode(top.changes, '/data/sub')).toMatchObject({ kind: 'removed', type: 'directory', size: 3 });
    expect(findNode(top.changes, '/data/sub/b')).toMatchObject({ kind: 'removed', type: 'file', size: 3 });
    const printed = await engine.gantry(['image', 'tree', '--container', 'replaced']);
    expect(printed.stdout).toMatch(/~ .*data/);
    expect(printed.stdout).toMatch(/- .*sub/);
  });
});
