import { afterEach, describe, expect, it, vi } from 'vitest';
import { aggregateTree } from '../../source/runtime/images/tree/aggregate.js';
import type { LayerTree, TreeLayer } from '../../source/runtime/images/tree/types.js';
import { EngineLayerTreeSource } from '../../source/tui/layers/engine-layer-tree-source.js';
import type { LayerSubject } from '../../source/tui/layers/layer-tree-source.js';
import { changeCounts, treeRows } from '../../source/tui/layers/tree-rows.js';
import { directory, file, fileTree } from '../support/file-tree.js';
import { FakeEngine } from './support/fake-engine.js';
import { container, image, layer } from './support/fixtures.js';

// A layer that modifies /etc/passwd, removes /etc/hosts, adds /usr/bin/tool and replaces /var/cache.
const tree = fileTree(
  directory('etc', 'unchanged', [file('hosts', 'removed', 10), file('passwd', 'modified', 120)]),
  directory('usr', 'added', [directory('bin', 'added', [file('tool', 'added', 50)])]),
  directory('var', 'unchanged', [directory('cache', 'modified', [file('c', 'added', 7)], { opaque: true })]),
);

describe('tree rows', () => {
  it('counts what a tree adds, modifies and removes', () => {
    expect(changeCounts(tree)).toEqual({ added: 2, modified: 1, removed: 1 });
  });

  it('lists depth first with guides, folding toggled directories', () => {
    const rows = treeRows(tree, { toggled: new Set() });
    expect(rows.map((row) => `${'  '.repeat(row.depth)}${row.node.name}`)).toEqual([
      'etc',
      '  hosts',
      '  passwd',
      'usr',
      '  bin',
      '    tool',
      'var',
      '  cache',
      '    c',
    ]);
    const folded = treeRows(tree, { toggled: new Set(['/usr']) });
    expect(folded.map((row) => row.node.name)).toEqual([
      'etc',
      'hosts',
      'passwd',
      'usr',
      'var',
      'cache',
      'c',
    ]);
    expect(folded.find((row) => row.node.name === 'usr')?.expanded).toBe(false);
  });

  it('opens only the first levels of big trees, and a toggle opens a closed one', () => {
    const rows = treeRows(tree, { toggled: new Set(), openDepth: 1 });
    expect(rows.map((row) => row.node.name)).toEqual([
      'etc',
      'hosts',
      'passwd',
      'usr',
      'bin',
      'var',
      'cache',
    ]);
    const opened = treeRows(tree, { toggled: new Set(['/usr/bin']), openDepth: 1 });
    expect(opened.map((row) => row.node.name)).toEqual([
      'etc',
      'hosts',
      'passwd',
      'usr',
      'bin',
      'tool',
      'var',
      'cache',
    ]);
  });

  it('filters to matching paths and the directories that lead to them', () => {
    const rows = treeRows(tree, { toggled: new Set(['/usr']), filter: 'TOOL' });
    expect(rows.map((row) => row.node.path)).toEqual(['/usr', '/usr/bin', '/usr/bin/tool']);
  });
});

type LayerFixture = Pick<TreeLayer, 'size' | 'createdBy' | 'changes'> & Partial<TreeLayer>;

/** A layer tree as the image engine reports it, with the waste figures the test cares about. */
function layerTreeFixture(
  subject: LayerTree['subject'],
  layers: LayerFixture[],
  waste: Pick<LayerTree, 'efficiency' | 'wastedBytes' | 'inefficiencies'>,
): LayerTree {
  const summary = { added: 0, modified: 0, removed: 0, addedBytes: 0, modifiedBytes: 0, removedBytes: 0 };
  const full = layers.map((item, index) => ({ index, digest: '', chainId: '', summary, ...item }));
  const totalBytes = full.reduce((sum, item) => sum + item.size, 0);
  return {
    subject,
    layers: full,
    totalBytes,
    userBytes: totalBytes - (full[0]?.size ?? 0),
    userWastedPercent: 0,
    ...waste,
  };
}

describe('the Layers pane source over the image engine’s layer trees', () => {
  const base = fileTree(
    directory('etc', 'added', [file('hosts', 'added', 10), file('passwd', 'added', 100)]),
  );
  const demo = image('demo', [layer('a', 110), layer('b', 170)]);
  const web = container('web', { image: demo.id });
  const waste = {
    efficiency: 0.75,
    wastedBytes: 110,
    inefficiencies: [
      { path: '/etc/passwd', count: 2, cumulativeBytes: 220, wastedBytes: 100, layers: [0, 1] },
    ],
  };
  const imageSubject: LayerSubject = { kind: 'image', id: demo.id, name: 'demo' };
  const containerSubject: LayerSubject = { kind: 'container', id: web.Id, name: 'web' };
  let engine: FakeEngine;
  afterEach(() => engine.cleanup());

  function setup(): EngineLayerTreeSource {
    engine = new FakeEngine([web], [demo]);
    engine.layerTrees.set(
      demo.id,
      layerTreeFixture(
        { kind: 'image', id: demo.id, names: demo.names },
        [
          { size: 110, createdBy: '', changes: base },
          { size: 170, createdBy: '', changes: tree },
        ],
        waste,
      ),
    );
    engine.layerTrees.set(
      web.Id,
      layerTreeFixture(
        { kind: 'container', id: web.Id, names: ['web'] },
        [
          { size: 110, createdBy: '/bin/sh -c #(nop) ADD file:abc in /', digest: 'sha256:aa', changes: base },
          { size: 170, createdBy: '', comment: 'made by hand', changes: tree },
          {
            size: 5,
            createdBy: 'writable layer of web',
            live: true,
            changes: fileTree(file('log', 'added', 5)),
          },
        ],
        waste,
      ),
    );
    return new EngineLayerTreeSource(engine);
  }

  it('reads an image’s stack from its record and history, without walking a layer', async () => {
    const source = setup();
    const stack = await source.stack(imageSubject);
    expect(stack.layers).toEqual([
      { index: 0, digest: demo.layers[0]!.diffId, size: 110, createdBy: 'ADD file:abc in /' },
      { index: 1, digest: demo.layers[1]!.diffId, size: 170, createdBy: '(no history)' },
    ]);
    expect(stack.totalBytes).toBe(280);
    expect(engine.calls).toEqual([]);
  });

  it('walks an image once for its efficiency and every tree', async () => {
    const source = setup();
    expect(await source.analyze(imageSubject)).toEqual(waste);
    expect(await source.tree(imageSubject, 1)).toBe(tree);
    expect(await source.tree(imageSubject, 1, { aggregated: true })).toEqual(aggregateTree([base, tree]));
    expect(await source.tree(imageSubject, 0, { aggregated: true })).toEqual(base);
    await expect(source.tree(imageSubject, 2)).rejects.toThrow('layer 3 does not exist');
    expect(engine.calls).toEqual(['layer tree demo:latest']);
  });

  it('walks a container once per refresh, and afresh after a second: its live layer on top', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const source = setup();
    const stack = await source.stack(containerSubject);
    expect(stack.layers.map((item) => [item.digest, item.createdBy, item.size])).toEqual([
      ['sha256:aa', 'ADD file:abc in /', 110],
      ['', 'made by hand', 170],
      ['live', 'writable layer of web (live)', 5],
    ]);
    expect(stack.layers[2]!.live).toBe(true);
    expect(await source.analyze(containerSubject)).toEqual(waste);
    expect((await source.tree(containerSubject, 2)).children?.map((child) => child.path)).toEqual(['/log']);
    expect(engine.calls).toEqual(['layer tree web']);
    vi.setSystemTime(Date.now() + 1500);
    try {
      await source.stack(containerSubject);
    } finally {
      vi.useRealTimers();
    }
    expect(engine.calls).toEqual(['layer tree web', 'layer tree web']);
  });

  it('says when the image is gone', async () => {
    const source = setup();
    engine.imageRecords = [];
    await expect(source.stack(imageSubject)).rejects.toThrow(/^image [0-9a-f]{12} is gone$/);
  });
});
