/**
 * Hostile layers: every trick to write outside the layer directory is refused with a message
 * naming the entry, nothing lands outside, and the store is left as it was.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ImageFormatError } from '../../../source/runtime/errors.js';
import { unpackLayer } from '../../../source/runtime/images/layer/unpack.js';
import { ImageStore } from '../../../source/runtime/images/store.js';
import { readTar } from '../../../source/runtime/images/tar/reader.js';
import { StateLayout } from '../../../source/runtime/paths.js';
import {
  makeTempDirectory,
  snapshot,
  storeContent,
  tarBuffer,
  writeOciLayout,
  type CraftedEntry,
} from './support.js';
import { describeUnless, needsRoot } from '../../support/skip.js';

describeUnless(needsRoot(), 'layer unpacking refuses to write outside the layer', () => {
  let base: string;
  let outside: string;
  let victim: string;
  let root: string;
  let store: ImageStore;
  let counter = 0;
  let outsideBefore: string[];

  beforeAll(async () => {
    base = makeTempDirectory('images-safety');
    outside = path.join(base, 'outside');
    victim = path.join(outside, 'victim');
    fs.mkdirSync(outside);
    fs.writeFileSync(victim, 'original');
    outsideBefore = snapshot(outside);
    root = path.join(base, 'state');
    store = new ImageStore(new StateLayout(root));
    // Something already in the store, which must survive every refused import untouched.
    await store.import(
      writeOciLayout(path.join(base, 'good'), {
        layers: [
          { tar: await tarBuffer([{ entry: { path: 'ok', type: 'file' }, body: Buffer.from('ok') }]) },
        ],
        name: 'good:1',
      }),
    );
  });

  afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

  function expectNothingOutside(): void {
    expect(snapshot(outside)).toEqual(outsideBefore);
    expect(fs.readFileSync(victim, 'utf8')).toBe('original');
    expect(fs.statSync(victim).nlink).toBe(1);
    expect(fs.existsSync(path.join(base, 'escape'))).toBe(false);
    expect(fs.existsSync('/escape-gantry-test')).toBe(false);
  }

  const cases: Array<[string, CraftedEntry[], RegExp]> = [
    [
      'a ".." path',
      [{ entry: { path: '../escape', type: 'file' }, body: Buffer.from('x') }],
      /entry "\.\.\/escape" contains a "\.\." component/,
    ],
    [
      'an absolute path that climbs out',
      [{ entry: { path: '/abs/../../escape-gantry-test', type: 'file' }, body: Buffer.from('x') }],
      /entry "\/abs\/\.\.\/\.\.\/escape-gantry-test" contains a "\.\." component/,
    ],
    [
      'a ".." hidden in the middle',
      [{ entry: { path: 'a/b/../../../escape', type: 'directory' } }],
      /contains a "\.\." component/,
    ],
    [
      'a write through an absolute symlink planted earlier',
      [
        { entry: { path: 'evil', type: 'symlink', linkPath: '' } },
        { entry: { path: 'evil/pwned', type: 'file' }, body: Buffer.from('x') },
      ],
      /entry "evil\/pwned" would be written through the symlink "evil"/,
    ],
    [
      'a write through a relative symlink planted earlier',
      [
        { entry: { path: 'up', type: 'symlink', linkPath: '../../../../../../../..' } },
        { entry: { path: 'up/escape-gantry-test', type: 'file' }, body: Buffer.from('x') },
      ],
      /would be written through the symlink "up"/,
    ],
    [
      'a directory replaced by a symlink, then written through',
      [
        { entry: { path: 'dir', type: 'directory' } },
        { entry: { path: 'dir/inside', type: 'file' }, body: Buffer.from('x') },
        { entry: { path: 'dir', type: 'symlink', linkPath: '' } },
        { entry: { path: 'dir/victim', type: 'file' }, body: Buffer.from('pwned') },
      ],
      /entry "dir\/victim" would be written through the symlink "dir"/,
    ],
    [
      'a symlinked directory used for a whiteout',
      [
        { entry: { path: 'evil', type: 'symlink', linkPath: '' } },
        { entry: { path: 'evil/.wh.victim', type: 'file' }, body: Buffer.alloc(0) },
      ],
      /"evil\/\.wh\.victim" would be written through the symlink "evil"/,
    ],
    [
      'a symlinked directory used for an opaque marker',
      [
        { entry: { path: 'evil', type: 'symlink', linkPath: '' } },
        { entry: { path: 'evil/.wh..wh..opq', type: 'file' }, body: Buffer.alloc(0) },
      ],
      /would be written through the symlink "evil"/,
    ],
    [
      'a hard link to a file outside the layer',
      [{ entry: { path: 'link', type: 'hardlink', linkPath: '' } }],
      /entry "link" is a hard link to ".*victim", which is not an earlier entry of this layer/,
    ],
    [
      'a hard link that climbs out with ".."',
      [{ entry: { path: 'link', type: 'hardlink', linkPath: '../../outside/victim' } }],
      /contains a "\.\." component/,
    ],
    [
      'a hard link through a symlink',
      [
        { entry: { path: 'evil', type: 'symlink', linkPath: '' } },
        { entry: { path: 'link', type: 'hardlink', linkPath: 'evil/victim' } },
      ],
      /entry "link" is a hard link through a symlink \("evil\/victim"\)/,
    ],
    [
      'a hard link to a symlink',
      [
        { entry: { path: 'evil', type: 'symlink', linkPath: '' } },
        { entry: { path: 'link', type: 'hardlink', linkPath: 'evil' } },
      ],
      /entry "link" is a hard link to the symlink "evil"/,
    ],
    [
      'a whiteout named ".."',
      [{ entry: { path: 'a/.wh...', type: 'file' }, body: Buffer.alloc(0) }],
      /whiteout without a name/,
    ],
    [
      'a file under a regular file',
      [
        { entry: { path: 'file', type: 'file' }, body: Buffer.from('x') },
        { entry: { path: 'file/child', type: 'file' }, body: Buffer.from('x') },
      ],
      /parent "file" that is not a directory/,
    ],
  ];

  it.each(cases)('refuses %s', async (_label, entries, message) => {
    // Absolute symlink targets point at the victim's directory, filled in here.
    const resolved = entries.map(({ entry, body }) => ({
      entry: {
        ...entry,
        linkPath: entry.linkPath === '' ? (entry.type === 'hardlink' ? victim : outside) : entry.linkPath,
      },
      ...(body ? { body } : {}),
    }));
    const before = storeContent(root);
    counter += 1;
    const layout = writeOciLayout(path.join(base, `case-${counter}`), {
      layers: [{ tar: await tarBuffer(resolved), gzip: counter % 2 === 0 }],
    });
    const attempt = store.import(layout);
    await expect(attempt).rejects.toThrow(ImageFormatError);
    await expect(store.import(layout)).rejects.toThrow(message);
    expectNothingOutside();
    expect(storeContent(root)).toEqual(before);
    expect((await store.list()).map((record) => record.names)).toEqual([['good:1']]);
  });

  it('keeps legitimate absolute and "./" paths inside the layer', async () => {
    const tar = await tarBuffer([
      { entry: { path: './', type: 'directory', mode: 0o755 } },
      { entry: { path: '/etc/abs', type: 'file' }, body: Buffer.from('abs') },
      { entry: { path: './etc/dot', type: 'file' }, body: Buffer.from('dot') },
      { entry: { path: 'etc//double/./x', type: 'file' }, body: Buffer.from('x') },
      { entry: { path: 'link-out', type: 'symlink', linkPath: '/etc/passwd' } },
      { entry: { path: 'hard', type: 'hardlink', linkPath: '/etc/abs' } },
      { entry: { path: 'etc/replaced', type: 'file' }, body: Buffer.from('first') },
      { entry: { path: 'etc/replaced', type: 'file' }, body: Buffer.from('second') },
    ]);
    const [record] = await store.import(
      writeOciLayout(path.join(base, 'legit'), { layers: [{ tar }], name: 'legit:1' }),
    );
    const { layerDirs } = await store.resolveForRun(record!.id);
    const diff = layerDirs[0]!;
    expect(fs.readFileSync(path.join(diff, 'etc/abs'), 'utf8')).toBe('abs');
    expect(fs.readFileSync(path.join(diff, 'etc/dot'), 'utf8')).toBe('dot');
    expect(fs.readFileSync(path.join(diff, 'etc/double/x'), 'utf8')).toBe('x');
    // A symlink may point anywhere: it is only ever resolved inside the container.
    expect(fs.readlinkSync(path.join(diff, 'link-out'))).toBe('/etc/passwd');
    expect(fs.statSync(path.join(diff, 'hard')).ino).toBe(fs.statSync(path.join(diff, 'etc/abs')).ino);
    expect(fs.readFileSync(path.join(diff, 'etc/replaced'), 'utf8')).toBe('second');
    expectNothingOutside();
  });

  it('unpackLayer itself refuses without touching anything outside', async () => {
    const target = path.join(base, 'direct');
    fs.mkdirSync(target);
    const tar = await tarBuffer([
      { entry: { path: 'evil', type: 'symlink', linkPath: outside } },
      { entry: { path: 'evil/victim', type: 'file' }, body: Buffer.from('pwned') },
    ]);
    await expect(unpackLayer(readTar([tar]), target, { label: 'layer 1 of 1' })).rejects.toThrow(
      /layer 1 of 1: entry "evil\/victim" would be written through the symlink "evil"; refusing to unpack it/,
    );
    expectNothingOutside();
  });
});
