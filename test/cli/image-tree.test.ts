/** The text view of `gantry image tree`: markers, sizes, depth cut-off, the waste table. */
import { describe, expect, it } from 'vitest';
import { renderChanges, renderTree } from '../../source/cli/commands/image-tree.js';
import type { FileNode, LayerTree } from '../../source/runtime/images/tree/types.js';

const changes: FileNode = {
  name: '',
  path: '/',
  type: 'directory',
  kind: 'unchanged',
  size: 1_000_120,
  children: [
    {
      name: 'etc',
      path: '/etc',
      type: 'directory',
      kind: 'unchanged',
      size: 120,
      children: [
        { name: 'conf', path: '/etc/conf', type: 'file', kind: 'modified', size: 120 },
        { name: 'gone', path: '/etc/gone', type: 'file', kind: 'removed', size: 300 },
      ],
    },
    {
      name: 'opt',
      path: '/opt',
      type: 'directory',
      kind: 'modified',
      opaque: true,
      size: 1_000_000,
      children: [
        {
          name: 'deep',
          path: '/opt/deep',
          type: 'directory',
          kind: 'added',
          size: 1_000_000,
          children: [{ name: 'big', path: '/opt/deep/big', type: 'file', kind: 'added', size: 1_000_000 }],
        },
      ],
    },
    { name: 'link', path: '/link', type: 'symlink', kind: 'added', size: 0, linkTarget: 'opt/deep/big' },
  ],
};

describe('image tree text view', () => {
  it('draws the change tree with +, ~ and - markers and sizes', () => {
    expect(renderChanges(changes, 0)).toEqual([
      '  ├──   etc/  120B',
      '  │   ├── ~ conf  120B',
      '  │   └── - gone  300B',
      '  ├── ~ opt/ (replaced)  1MB',
      '  │   └── + deep/  1MB',
      '  │       └── + big  1MB',
      '  └── + link -> opt/deep/big',
    ]);
  });

  it('cuts the tree at --depth and says what is beneath', () => {
    expect(renderChanges(changes, 1)).toEqual([
      '  ├──   etc/  120B  [~1 -1 beneath]',
      '  ├── ~ opt/ (replaced)  1MB  [+2 beneath]',
      '  └── + link -> opt/deep/big',
    ]);
  });

  it('heads the output with size, efficiency and waste, and lists the wasteful paths', () => {
    const tree: LayerTree = {
      subject: { kind: 'image', id: `sha256:${'ab'.repeat(32)}`, names: ['demo:latest'] },
      layers: [
        {
          index: 0,
          digest: `sha256:${'01'.repeat(32)}`,
          chainId: `sha256:${'01'.repeat(32)}`,
          size: 1_000_420,
          createdBy: 'RUN   make\n  install',
          summary: {
            added: 3,
            modified: 1,
            removed: 1,
            addedBytes: 1_000_000,
            modifiedBytes: 120,
            removedBytes: 300,
          },
          changes,
        },
      ],
      totalBytes: 1_000_420,
      userBytes: 0,
      efficiency: 0.5,
      wastedBytes: 300,
      userWastedPercent: 0,
      inefficiencies: [
        { path: '/etc/gone', count: 2, cumulativeBytes: 300, wastedBytes: 300, layers: [0, 1] },
      ],
    };
    const text = renderTree(tree, { depth: 1, top: 10 });
    expect(text.split('\n').slice(0, 4)).toEqual([
      'IMAGE  demo:latest (abababababab)',
      'SIZE  1MB in 1 layer   EFFICIENCY  50.00%   WASTED  300B (0.0% of the 0B above the base layer)',
      '',
      'LAYER 1/1  010101010101  1MB  (+3 ~1 -1)  RUN make install',
    ]);
    expect(text).toContain(
      'WASTED BY        COPIES  LAYERS   PATH\n300B             2       1,2      /etc/gone\n',
    );
    expect(renderTree(tree, { depth: 1, top: 0 })).toContain('... and 1 more');
  });
});
