/** The layer walk on plain directories: overlay opaque directories hide every lower level. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { OVERLAY_OPAQUE_XATTR } from '../../../source/runtime/images/diff/stack-view.js';
import { aggregateTree } from '../../../source/runtime/images/tree/aggregate.js';
import { analyzeLayers } from '../../../source/runtime/images/tree/analyze.js';
import { lsetxattr } from '../../../source/runtime/sys/libc.js';
import { findNode } from '../../support/file-tree.js';
import { describeUnless, needsRoot } from '../../support/skip.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gantry-analyze-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function write(file: string, content: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
}

// trusted.* extended attributes (the overlay opaque marker) need root.
describeUnless(
  needsRoot('overlay whiteouts: character devices and trusted.* xattrs'),
  'analysing layer directories',
  () => {
    it('hides what lower layers had beneath an opaque directory, at every depth', async () => {
      const lower = path.join(root, 'lower');
      const upper = path.join(root, 'upper');
      write(path.join(lower, 'd/x/old'), 'old');
      write(path.join(lower, 'd/gone'), 'gone');
      // `rm -rf /d && mkdir -p /d/x && echo new > /d/x/new`: only /d is marked opaque.
      write(path.join(upper, 'd/x/new'), 'new');
      lsetxattr(path.join(upper, 'd'), OVERLAY_OPAQUE_XATTR, Buffer.from('y'));
      const analysis = await analyzeLayers([{ directory: lower }, { directory: upper }]);
      const changes = analysis.layers[1]!.changes;
      expect(findNode(changes, '/d')).toMatchObject({ kind: 'modified', opaque: true });
      expect(findNode(changes, '/d/gone')).toMatchObject({ kind: 'removed', size: 4 });
      expect(findNode(changes, '/d/x/old')).toMatchObject({ kind: 'removed', size: 3 });
      expect(findNode(changes, '/d/x/new')).toMatchObject({ kind: 'added', size: 3 });
      expect(analysis.layers[1]!.summary).toMatchObject({ added: 1, removed: 2, removedBytes: 7 });
      expect(analysis.inefficiencies.map((item) => item.path).sort()).toEqual(['/d/gone', '/d/x/old']);
      const after = aggregateTree(analysis.layers.map((layer) => layer.changes!));
      expect(findNode(after, '/d/x')!.children!.map((child) => [child.name, child.kind])).toEqual([
        ['new', 'added'],
        ['old', 'removed'],
      ]);
    });

    it('shows a directory replaced by a file as ~ with the removed children beneath it', async () => {
      const lower = path.join(root, 'replaced-lower');
      const upper = path.join(root, 'replaced-upper');
      write(path.join(lower, 'd/a'), 'aaa');
      write(path.join(lower, 'd/sub/b'), 'bb');
      write(path.join(upper, 'd'), 'file');
      const analysis = await analyzeLayers([{ directory: lower }, { directory: upper }]);
      const changes = analysis.layers[1]!.changes;
      expect(findNode(changes, '/d')).toMatchObject({ kind: 'modified', type: 'file', size: 4 });
      expect(findNode(changes, '/d/a')).toMatchObject({ kind: 'removed', type: 'file', size: 3 });
      expect(findNode(changes, '/d/sub')).toMatchObject({ kind: 'removed', type: 'directory', size: 2 });
      expect(findNode(changes, '/d/sub/b')).toMatchObject({ kind: 'removed', type: 'file', size: 2 });
      expect(analysis.inefficiencies.map((item) => item.path).sort()).toEqual(['/d/a', '/d/sub/b']);
    });
  },
);
