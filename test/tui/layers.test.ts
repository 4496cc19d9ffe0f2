import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  aggregatedTree,
  analyzeLayers,
  changeTree,
  mergeLayers,
  type LayerEntries,
  type LayerEntry,
} from '../../source/tui/layers/layer-entries.js';
import { walkLayer } from '../../source/tui/layers/fs-layer-tree-source.js';
import type { FileNode } from '../../source/tui/layers/layer-tree-source.js';
import { changeCounts, treeRows } from '../../source/tui/layers/tree-rows.js';

function entries(list: Record<string, Partial<LayerEntry> & { size?: number }>): LayerEntries {
  return new Map(
    Object.entries(list).map(([file, entry]) => [file, { kind: 'file', size: 0, ...entry } as LayerEntry]),
  );
}

function find(root: FileNode, file: string): FileNode | undefined {
  if (root.path === file) return root;
  for (const child of root.children ?? []) {
    const found = find(child, file);
    if (found) return found;
  }
  return undefined;
}

const dir = { kind: 'directory' as const };
const base = entries({
  '/etc': dir,
  '/etc/passwd': { size: 100 },
  '/etc/hosts': { size: 10 },
  '/var': dir,
  '/var/cache': dir,
  '/var/cache/a': { size: 1000 },
  '/var/cache/b': { size: 500 },
});
const second = entries({
  '/etc': dir,
  '/etc/passwd': { size: 120 },
  '/etc/hosts': { whiteout: true },
  '/usr': dir,
  '/usr/bin': dir,
  '/usr/bin/tool': { size: 50 },
  '/var': dir,
  '/var/cache': { kind: 'directory', opaque: true },
  '/var/cache/c': { size: 7 },
});

describe('layer change trees', () => {
  it('marks what a layer adds, modifies and removes, with sizes', () => {
    const tree = changeTree(mergeLayers([base]), second);
    expect(find(tree, '/etc/passwd')).toMatchObject({ change: 'modified', size: 120 });
    expect(find(tree, '/etc/hosts')).toMatchObject({ change: 'removed', size: 10 });
    expect(find(tree, '/usr')).toMatchObject({ change: 'added', size: 50 });
    expect(find(tree, '/usr/bin/tool')).toMatchObject({ change: 'added', size: 50 });
    expect(find(tree, '/etc')).toMatchObject({ change: 'unchanged', size: 130 });
    expect(find(tree, '/var/cache')).toMatchObject({ change: 'modified', opaque: true });
    expect(changeCounts(tree)).toEqual({ added: 2, modified: 1, removed: 1 });
  });

  it('stacks opaque directories and whiteouts the way overlayfs does', () => {
    const merged = mergeLayers([base, second]);
    expect(merged.has('/etc/hosts')).toBe(false);
    expect(merged.has('/var/cache/a')).toBe(false);
    expect(merged.get('/var/cache/c')?.size).toBe(7);
    expect(merged.get('/etc/passwd')?.size).toBe(120);
  });

  it('aggregated view: the whole filesystem with the layer marked and removals in place', () => {
    const tree = aggregatedTree(mergeLayers([base]), second);
    expect(find(tree, '/etc/passwd')?.change).toBe('modified');
    expect(find(tree, '/etc/hosts')?.change).toBe('removed');
    expect(find(tree, '/usr/bin/tool')?.change).toBe('added');
    expect(find(tree, '/var/cache/c')?.change).toBe('added');
    expect(find(tree, '/var/cache/a')).toBeUndefined();
  });

  it('measures efficiency and waste as dive does', () => {
    const analysis = analyzeLayers([base, second]);
    // /etc/passwd twice (100 + 120), /etc/hosts added then removed (10 + 10).
    expect(analysis.wastedBytes).toBe(240);
    expect(analysis.inefficiencies.map((item) => [item.path, item.count])).toEqual([
      ['/etc/passwd', 2],
      ['/etc/hosts', 2],
    ]);
    const minimum = 100 + 10 + 1000 + 500 + 50 + 7;
    const cumulative = 220 + 20 + 1000 + 500 + 50 + 7;
    expect(analysis.efficiency).toBeCloseTo(minimum / cumulative);
    expect(analyzeLayers([base]).efficiency).toBe(1);
  });
});

describe('tree rows', () => {
  const tree = changeTree(mergeLayers([base]), second);

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

describe('walking a layer directory', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gantry-tui-layer-'));
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('reads files, symlinks, tar-style whiteouts and opaque markers', async () => {
    fs.mkdirSync(path.join(root, 'etc/conf.d'), { recursive: true });
    fs.writeFileSync(path.join(root, 'etc/motd'), 'hello\n');
    fs.symlinkSync('motd', path.join(root, 'etc/issue'));
    fs.writeFileSync(path.join(root, 'etc/.wh.hosts'), '');
    fs.writeFileSync(path.join(root, 'etc/conf.d/.wh..wh..opq'), '');
    const walked = await walkLayer(root, (directory) => directory.endsWith('/never'));
    expect(walked.get('/etc/motd')).toEqual({ kind: 'file', size: 6 });
    expect(walked.get('/etc/issue')).toEqual({ kind: 'symlink', size: 4, linkTarget: 'motd' });
    expect(walked.get('/etc/hosts')).toEqual({ kind: 'file', size: 0, whiteout: true });
    expect(walked.get('/etc/conf.d')).toEqual({ kind: 'directory', size: 0, opaque: true });
  });

  it.skipIf(process.getuid?.() !== 0)('reads overlay whiteouts (0/0 character devices) as root', async () => {
    const { mknod, S_IFCHR } = await import('../../source/runtime/sys/libc.js');
    fs.mkdirSync(path.join(root, 'gone'), { recursive: true });
    mknod(path.join(root, 'gone/file'), S_IFCHR | 0o000, 0, 0);
    const walked = await walkLayer(root);
    expect(walked.get('/gone/file')).toEqual({ kind: 'file', size: 0, whiteout: true });
  });
});
