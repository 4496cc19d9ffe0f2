import { describe, expect, it } from 'vitest';
import { aggregateTree } from '../../../source/runtime/images/tree/aggregate.js';
import type { FileNode } from '../../../source/runtime/images/tree/types.js';
import { directory, file, fileTree, findNode, removedDirectory } from '../../support/file-tree.js';

/** Path -> change kind of every node below the root, depth first. */
function kinds(root: FileNode): Record<string, string> {
  const found: Record<string, string> = {};
  const visit = (node: FileNode): void => {
    for (const child of node.children ?? []) {
      found[child.path] = child.kind;
      visit(child);
    }
  };
  visit(root);
  return found;
}

// The change trees the layer walk gives for three layers.
const base = fileTree(
  directory('etc', 'added', [file('hosts', 'added', 10), file('passwd', 'added', 100)]),
  file('link', 'added', 0, { type: 'symlink', linkTarget: 'etc/passwd' }),
  file('swap', 'added', 5),
  directory('var', 'added', [
    directory('cache', 'added', [file('a', 'added', 1000), file('b', 'added', 500)]),
    directory('log', 'added', [file('old', 'added', 40)]),
  ]),
);
const second = fileTree(
  directory('etc', 'unchanged', [file('hosts', 'removed', 10), file('passwd', 'modified', 120)]),
  directory('swap', 'modified', [file('inner', 'added', 3)]),
  directory('usr', 'added', [directory('bin', 'added', [file('tool', 'added', 50)])]),
  directory('var', 'unchanged', [
    directory(
      'cache',
      'modified',
      [file('a', 'removed', 1000), file('b', 'removed', 500), file('c', 'added', 7)],
      { opaque: true },
    ),
    removedDirectory('log', 40),
  ]),
);
const third = fileTree(file('new', 'added', 1));

describe('aggregated layer trees', () => {
  it('shows the whole filesystem after the layer with its own changes marked', () => {
    const tree = aggregateTree([base, second]);
    expect(kinds(tree)).toEqual({
      '/etc': 'unchanged',
      '/etc/hosts': 'removed',
      '/etc/passwd': 'modified',
      '/link': 'unchanged',
      '/swap': 'modified',
      '/swap/inner': 'added',
      '/usr': 'added',
      '/usr/bin': 'added',
      '/usr/bin/tool': 'added',
      '/var': 'unchanged',
      '/var/cache': 'modified',
      '/var/cache/a': 'removed',
      '/var/cache/b': 'removed',
      '/var/cache/c': 'added',
      '/var/log': 'removed',
    });
    expect(findNode(tree, '/var/cache')).toMatchObject({ opaque: true, size: 7 });
    expect(findNode(tree, '/var/log')).toMatchObject({ type: 'directory', size: 40 });
    expect(findNode(tree, '/var/log')!.children).toBeUndefined();
    expect(findNode(tree, '/link')).toMatchObject({ type: 'symlink', linkTarget: 'etc/passwd' });
    // Removed paths hold no bytes any more: /etc is its new passwd, the root all that is visible.
    expect(findNode(tree, '/etc')!.size).toBe(120);
    expect(tree.size).toBe(120 + 3 + 50 + 7);
  });

  it('leaves what lower layers removed out, and marks nothing the top layer did not touch', () => {
    const tree = aggregateTree([base, second, third]);
    expect(kinds(tree)).toEqual({
      '/etc': 'unchanged',
      '/etc/passwd': 'unchanged',
      '/link': 'unchanged',
      '/new': 'added',
      '/swap': 'unchanged',
      '/swap/inner': 'unchanged',
      '/usr': 'unchanged',
      '/usr/bin': 'unchanged',
      '/usr/bin/tool': 'unchanged',
      '/var': 'unchanged',
      '/var/cache': 'unchanged',
      '/var/cache/c': 'unchanged',
    });
    expect(findNode(tree, '/var/cache')!.opaque).toBeUndefined();
    expect(findNode(tree, '/etc/passwd')!.size).toBe(120);
  });

  it('is the layer itself, all marked, for the bottom layer', () => {
    expect(aggregateTree([base])).toEqual(base);
  });
});
