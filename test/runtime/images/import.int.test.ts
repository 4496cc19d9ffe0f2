/**
 * Imports real images made by buildah (OCI layout, oci-archive, docker-archive) and crafted
 * ones, into a private state root, on the real filesystem (mknod, xattrs, chown need root).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  ConflictError,
  ImageFormatError,
  InvalidArgumentError,
  NotFoundError,
} from '../../../source/runtime/errors.js';
import { chainIds, sha256Digest } from '../../../source/runtime/images/digest.js';
import { MEDIA_TYPE } from '../../../source/runtime/images/media-types.js';
import { ImageStore } from '../../../source/runtime/images/store.js';
import { StateLayout } from '../../../source/runtime/paths.js';
import { lgetxattr, lsetxattr } from '../../../source/runtime/sys/libc.js';
import {
  Buildah,
  makeTempDirectory,
  storeContent,
  tarBuffer,
  writeImageBlobs,
  writeIndex,
  writeOciLayout,
  zstdFrame,
} from './support.js';
import { describeUnless, needsCommand, needsRoot } from '../../support/skip.js';

const missing = [needsRoot(), needsCommand('buildah')];

describeUnless(missing, 'image import (buildah-made images)', () => {
  let base: string;
  let buildah: Buildah;
  let ociDirectory: string;
  let ociArchive: string;
  let dockerArchive: string;
  let twoLayerDirectory: string;
  let siblingDirectory: string;
  let counter = 0;

  /** A fresh state root for one test. */
  function freshStore(options: ConstructorParameters<typeof ImageStore>[1] = {}): {
    store: ImageStore;
    root: string;
  } {
    counter += 1;
    const root = path.join(base, `state-${counter}`);
    return { store: new ImageStore(new StateLayout(root), options), root };
  }

  function layerDirectories(root: string): string[] {
    const layers = path.join(root, 'layers');
    return fs.existsSync(layers) ? fs.readdirSync(layers) : [];
  }

  function blobCount(root: string): number {
    const blobs = path.join(root, 'blobs', 'sha256');
    return fs.existsSync(blobs) ? fs.readdirSync(blobs).length : 0;
  }

  function tmpLeftovers(root: string): string[] {
    const tmp = path.join(root, 'tmp');
    return fs.existsSync(tmp) ? fs.readdirSync(tmp) : [];
  }

  beforeAll(async () => {
    base = makeTempDirectory('images-import');
    buildah = new Buildah(base);
    // Layer 1: files with owners, modes, a symlink, a hard link, a fifo, an xattr, a setuid file.
    await buildah.run('from', '--name', 'base', 'scratch');
    const mount = await buildah.run('mount', 'base');
    fs.mkdirSync(path.join(mount, 'etc'));
    fs.mkdirSync(path.join(mount, 'data/dir'), { recursive: true });
    fs.mkdirSync(path.join(mount, 'data/replaced'), { recursive: true });
    fs.mkdirSync(path.join(mount, 'bin'));
    fs.writeFileSync(path.join(mount, 'etc/hello'), 'hello\n');
    fs.writeFileSync(path.join(mount, 'data/dir/a'), 'a');
    fs.writeFileSync(path.join(mount, 'data/dir/b'), 'b');
    fs.writeFileSync(path.join(mount, 'data/replaced/inner'), 'inner');
    fs.writeFileSync(path.join(mount, 'data/owned'), 'owned');
    fs.chownSync(path.join(mount, 'data/owned'), 1234, 5678);
    fs.writeFileSync(path.join(mount, 'bin/tool'), '#!/bin/sh\n');
    fs.chmodSync(path.join(mount, 'bin/tool'), 0o4755);
    fs.symlinkSync('../etc/hello', path.join(mount, 'bin/hello-link'));
    fs.linkSync(path.join(mount, 'etc/hello'), path.join(mount, 'etc/hello-hard'));
    execFileSync('mkfifo', [path.join(mount, 'data/fifo')]);
    lsetxattr(path.join(mount, 'data/owned'), 'user.origin', Buffer.from('buildah'));
    fs.utimesSync(path.join(mount, 'etc/hello'), 1_000_000_000, 1_000_000_000);
    await buildah.run('commit', '--quiet', 'base', 'localhost/test/base:v1');

    // Layer 2: deletes a file, replaces a directory's content, replaces a directory by a file.
    await buildah.run('from', '--name', 'second', 'localhost/test/base:v1');
    const mount2 = await buildah.run('mount', 'second');
    fs.rmSync(path.join(mount2, 'etc/hello'));
    fs.rmSync(path.join(mount2, 'data/dir'), { recursive: true });
    fs.mkdirSync(path.join(mount2, 'data/dir'));
    fs.writeFileSync(path.join(mount2, 'data/dir/c'), 'c');
    fs.rmSync(path.join(mount2, 'data/replaced'), { recursive: true });
    fs.writeFileSync(path.join(mount2, 'data/replaced'), 'now a file');
    await buildah.run('commit', '--quiet', 'second', 'localhost/test/second:v1');

    // A sibling on the same base: shares layer 1 only.
    await buildah.run('from', '--name', 'sibling', 'localhost/test/base:v1');
    fs.writeFileSync(path.join(await buildah.run('mount', 'sibling'), 'sibling'), 'sibling');
    await buildah.run('commit', '--quiet', 'sibling', 'localhost/test/sibling:v1');

    ociDirectory = path.join(base, 'base-oci');
    ociArchive = path.join(base, 'base-oci.tar');
    dockerArchive = path.join(base, 'base-docker.tar');
    twoLayerDirectory = path.join(base, 'second-oci');
    siblingDirectory = path.join(base, 'sibling-oci');
    await buildah.run(
      'push',
      '--quiet',
      'localhost/test/base:v1',
      `oci:${ociDirectory}:localhost/test/base:v1`,
    );
    await buildah.run(
      'push',
      '--quiet',
      'localhost/test/base:v1',
      `oci-archive:${ociArchive}:localhost/test/base:v1`,
    );
    await buildah.run(
      'push',
      '--quiet',
      'localhost/test/base:v1',
      `docker-archive:${dockerArchive}:localhost/test/base:v1`,
    );
    await buildah.run(
      'push',
      '--quiet',
      'localhost/test/second:v1',
      `oci:${twoLayerDirectory}:localhost/test/second:v1`,
    );
    await buildah.run(
      'push',
      '--quiet',
      'localhost/test/sibling:v1',
      `oci:${siblingDirectory}:localhost/test/sibling:v1`,
    );
  });

  afterAll(async () => {
    await buildah?.cleanup();
    if (base) fs.rmSync(base, { recursive: true, force: true });
  });

  function expectBaseLayer(diff: string): void {
    expect(fs.readFileSync(path.join(diff, 'etc/hello'), 'utf8')).toBe('hello\n');
    expect(fs.statSync(path.join(diff, 'etc/hello')).mtimeMs).toBe(1_000_000_000_000);
    expect(fs.statSync(path.join(diff, 'etc/hello')).ino).toBe(
      fs.statSync(path.join(diff, 'etc/hello-hard')).ino,
    );
    expect(fs.readlinkSync(path.join(diff, 'bin/hello-link'))).toBe('../etc/hello');
    expect(fs.statSync(path.join(diff, 'bin/tool')).mode & 0o7777).toBe(0o4755);
    const owned = fs.statSync(path.join(diff, 'data/owned'));
    expect([owned.uid, owned.gid]).toEqual([1234, 5678]);
    expect(lgetxattr(path.join(diff, 'data/owned'), 'user.origin')?.toString()).toBe('buildah');
    expect(fs.lstatSync(path.join(diff, 'data/fifo')).isFIFO()).toBe(true);
  }

  it('imports an OCI layout directory', async () => {
    const { store, root } = freshStore();
    const [record] = await store.import(ociDirectory);
    expect(record?.names).toEqual(['localhost/test/base:v1']);
    expect(record?.layers).toHaveLength(1);
    const resolved = await store.resolveForRun('localhost/test/base:v1');
    expect(resolved.layerDirs).toEqual([
      path.join(root, 'layers', record!.layers[0]!.chainId.slice(7), 'diff'),
    ]);
    expect(resolved.config.rootfs.diff_ids).toEqual([record!.layers[0]!.diffId]);
    expectBaseLayer(resolved.layerDirs[0]!);
    expect(record!.size).toBeGreaterThan(0);
    expect(tmpLeftovers(root)).toEqual([]);
    // Blobs: manifest, config, layer.
    expect(blobCount(root)).toBe(3);
  });

  it('imports an oci-archive', async () => {
    const { store } = freshStore();
    const [record] = await store.import(ociArchive);
    expect(record?.names).toEqual(['localhost/test/base:v1']);
    expectBaseLayer((await store.resolveForRun(record!.id)).layerDirs[0]!);
  });

  it('imports a docker-archive (symlinked layer.tar) and shares the layer with the OCI import', async () => {
    const { store, root } = freshStore();
    const [fromOci] = await store.import(ociDirectory);
    const [fromDocker] = await store.import(dockerArchive);
    expect(fromDocker?.names).toContain('localhost/test/base:v1');
    expect(fromDocker?.id).toBe(fromOci?.id);
    expect(layerDirectories(root)).toHaveLength(1);
    expectBaseLayer((await store.resolveForRun('localhost/test/base:v1')).layerDirs[0]!);
  });

  it('imports a gzip-compressed docker-archive and takes the name argument over RepoTags', async () => {
    const { store, root } = freshStore();
    const compressed = path.join(base, 'base-docker.tar.gz');
    fs.writeFileSync(compressed, zlib.gzipSync(fs.readFileSync(dockerArchive)));
    const [record] = await store.import(compressed, { name: 'renamed' });
    expect(record?.names).toEqual(['renamed:latest']);
    expect(record?.manifestDigest).toMatch(/^sha256:/);
    const manifest = JSON.parse(
      fs.readFileSync(path.join(root, 'blobs', 'sha256', record!.manifestDigest.slice(7)), 'utf8'),
    );
    expect(manifest.layers[0].mediaType).toBe(MEDIA_TYPE.ociLayer);
    expect(tmpLeftovers(root)).toEqual([]);
  });

  it('imports the newer docker-archive layout that embeds an OCI layout', async () => {
    const { store } = freshStore();
    const layerTar = await tarBuffer([
      { entry: { path: 'hello', type: 'file' }, body: Buffer.from('new docker') },
    ]);
    const staging = path.join(base, 'docker25');
    const descriptor = writeImageBlobs(staging, { layers: [{ tar: layerTar }] });
    writeIndex(staging, [descriptor]);
    const manifest = JSON.parse(
      fs.readFileSync(path.join(staging, 'blobs/sha256', descriptor.digest.slice(7)), 'utf8'),
    );
    fs.writeFileSync(
      path.join(staging, 'manifest.json'),
      JSON.stringify([
        {
          Config: `blobs/sha256/${manifest.config.digest.slice(7)}`,
          RepoTags: ['docker25:latest'],
          Layers: [`blobs/sha256/${manifest.layers[0].digest.slice(7)}`],
        },
      ]),
    );
    const archive = path.join(base, 'docker25.tar');
    execFileSync('tar', ['-cf', archive, '-C', staging, '.']);
    const [record] = await store.import(archive);
    expect(record?.names).toEqual(['docker25:latest']);
    expect(
      fs.readFileSync(path.join((await store.resolveForRun('docker25')).layerDirs[0]!, 'hello'), 'utf8'),
    ).toBe('new docker');
  });

  it('turns whiteouts into 0/0 character devices', async () => {
    const { store } = freshStore();
    const [record] = await store.import(twoLayerDirectory);
    const { layerDirs } = await store.resolveForRun(record!.id);
    expect(layerDirs).toHaveLength(2);
    const upper = layerDirs[1]!;
    for (const deleted of ['etc/hello', 'data/dir/a', 'data/dir/b']) {
      const stats = fs.lstatSync(path.join(upper, deleted));
      expect(stats.isCharacterDevice(), deleted).toBe(true);
      expect(stats.rdev).toBe(0);
    }
    expect(fs.readFileSync(path.join(upper, 'data/dir/c'), 'utf8')).toBe('c');
    expect(fs.readFileSync(path.join(upper, 'data/replaced'), 'utf8')).toBe('now a file');
    expect(fs.readdirSync(upper).some((name) => name.startsWith('.wh.'))).toBe(false);
    expectBaseLayer(layerDirs[0]!);
  });

  it('marks opaque directories with trusted.overlay.opaque', async () => {
    const { store } = freshStore();
    const lower = await tarBuffer([
      { entry: { path: 'dir', type: 'directory' } },
      { entry: { path: 'dir/old', type: 'file' }, body: Buffer.from('old') },
    ]);
    const upper = await tarBuffer([
      { entry: { path: 'dir', type: 'directory', mode: 0o750, mtime: 1234 } },
      { entry: { path: 'dir/.wh..wh..opq', type: 'file' }, body: Buffer.alloc(0) },
      { entry: { path: 'dir/new', type: 'file' }, body: Buffer.from('new') },
    ]);
    const layout = writeOciLayout(path.join(base, 'opaque'), {
      layers: [{ tar: lower, gzip: true }, { tar: upper }],
      name: 'opaque:1',
    });
    await store.import(layout);
    const { layerDirs } = await store.resolveForRun('opaque:1');
    const directory = path.join(layerDirs[1]!, 'dir');
    expect(lgetxattr(directory, 'trusted.overlay.opaque')?.toString()).toBe('y');
    expect(fs.readdirSync(directory)).toEqual(['new']);
    expect(fs.statSync(directory).mode & 0o7777).toBe(0o750);
    expect(fs.statSync(directory).mtimeMs).toBe(1_234_000);
    expect(lgetxattr(path.join(layerDirs[0]!, 'dir'), 'trusted.overlay.opaque')).toBeUndefined();
  });

  it('shares layers between imports and frees them only when unused', async () => {
    const { store, root } = freshStore();
    const [base1] = await store.import(ociDirectory);
    await store.import(ociDirectory);
    expect(await store.list()).toHaveLength(1);
    expect(layerDirectories(root)).toHaveLength(1);
    const [second] = await store.import(twoLayerDirectory);
    const [sibling] = await store.import(siblingDirectory);
    // base layer + second's layer + sibling's layer, base shared three ways.
    expect(layerDirectories(root)).toHaveLength(3);
    expect(second!.layers[0]!.chainId).toBe(base1!.layers[0]!.chainId);
    expect(sibling!.layers[0]!.chainId).toBe(base1!.layers[0]!.chainId);

    const removed = await store.remove('localhost/test/second:v1');
    expect(removed.deleted).toBe(second!.id);
    expect(removed.removedLayers).toEqual([second!.layers[1]!.chainId]);
    expect(layerDirectories(root)).toHaveLength(2);

    await store.remove('localhost/test/base:v1');
    expect(layerDirectories(root)).toHaveLength(2);
    expect(fs.existsSync((await store.resolveForRun('localhost/test/sibling:v1')).layerDirs[0]!)).toBe(true);

    await store.remove(sibling!.id.slice(7, 19));
    expect(layerDirectories(root)).toEqual([]);
    expect(blobCount(root)).toBe(0);
    expect(await store.list()).toEqual([]);
    expect(tmpLeftovers(root)).toEqual([]);
  });

  it('resolves by name, ID, ID prefix and digest, and says how to list images when not found', async () => {
    const { store } = freshStore();
    const [record] = await store.import(ociDirectory);
    const id = record!.id;
    for (const reference of [
      'localhost/test/base:v1',
      id,
      id.slice(7),
      id.slice(7, 11),
      `sha256:${id.slice(7, 19)}`,
      `localhost/test/base@${record!.manifestDigest}`,
    ]) {
      expect((await store.resolve(reference)).id, reference).toBe(id);
    }
    const missing = store.resolve('nothere');
    await expect(missing).rejects.toThrow(NotFoundError);
    await expect(store.resolve('nothere')).rejects.toThrow('image "nothere" not found');
    await store
      .resolve('nothere')
      .catch((error: NotFoundError) => expect(error.hint).toContain('gantry image ls'));
    await expect(store.resolve('Bad Name')).rejects.toThrow(InvalidArgumentError);
  });

  it('tags and untags; removing an image a container uses needs force and keeps its content', async () => {
    let inUse = true;
    const { store, root } = freshStore({ imageUsers: async () => (inUse ? ['web'] : []) });
    const [record] = await store.import(ociDirectory);
    await store.tag('localhost/test/base:v1', 'other:tag');
    expect((await store.resolve('other:tag')).names).toEqual(['localhost/test/base:v1', 'other:tag']);
    // Removing one of two names only untags.
    expect((await store.remove('other:tag')).untagged).toEqual(['other:tag']);
    await expect(store.remove('localhost/test/base:v1')).rejects.toThrow(ConflictError);
    await expect(store.remove('localhost/test/base:v1')).rejects.toThrow('is used by container web');
    const forced = await store.remove('localhost/test/base:v1', { force: true });
    expect(forced.deleted).toBeUndefined();
    expect((await store.resolve(record!.id)).names).toEqual([]);
    expect(layerDirectories(root)).toHaveLength(1);
    inUse = false;
    expect((await store.remove(record!.id)).deleted).toBe(record!.id);
    expect(layerDirectories(root)).toEqual([]);
  });

  it('moves a name to the newly imported image, leaving the old one untagged', async () => {
    const { store } = freshStore();
    const [first] = await store.import(ociDirectory, { name: 'app' });
    const [second] = await store.import(siblingDirectory, { name: 'app' });
    expect((await store.resolve('app')).id).toBe(second!.id);
    expect((await store.resolve(first!.id)).names).toEqual([]);
  });

  it('refuses a layer whose bytes do not match the manifest, leaving the store unchanged', async () => {
    const { store, root } = freshStore();
    await store.import(siblingDirectory);
    const before = storeContent(root);
    const corrupt = path.join(base, 'corrupt-oci');
    fs.cpSync(twoLayerDirectory, corrupt, { recursive: true });
    const manifest = JSON.parse(
      fs.readFileSync(
        path.join(
          corrupt,
          'blobs/sha256',
          JSON.parse(fs.readFileSync(path.join(corrupt, 'index.json'), 'utf8')).manifests[0].digest.slice(7),
        ),
        'utf8',
      ),
    );
    const layerFile = path.join(corrupt, 'blobs/sha256', manifest.layers[1].digest.slice(7));
    const bytes = fs.readFileSync(layerFile);
    const middle = Math.floor(bytes.length / 2);
    bytes.writeUInt8(bytes.readUInt8(middle) ^ 0x55, middle);
    fs.writeFileSync(layerFile, bytes);
    const attempt = store.import(corrupt);
    await expect(attempt).rejects.toThrow(ImageFormatError);
    await expect(store.import(corrupt)).rejects.toThrow(
      /digest mismatch for layer 2 of 2 .*: expected sha256:[0-9a-f]{64}, got sha256:[0-9a-f]{64}/,
    );
    expect(storeContent(root)).toEqual(before);
  });

  it('refuses a config whose diff_ids do not match the layer content', async () => {
    const { store, root } = freshStore();
    const tar = await tarBuffer([{ entry: { path: 'f', type: 'file' }, body: Buffer.from('x') }]);
    const layout = writeOciLayout(path.join(base, 'bad-diffid'), {
      layers: [{ tar, gzip: true, diffId: sha256Digest('other') }],
    });
    await expect(store.import(layout)).rejects.toThrow(
      /digest mismatch for layer 1 of 1 .*diff_id.*expected/,
    );
    expect(layerDirectories(root)).toEqual([]);
    expect(blobCount(root)).toBe(0);
    expect(tmpLeftovers(root)).toEqual([]);
  });

  it.each([
    ['oci-archive', () => ociArchive],
    ['docker-archive', () => dockerArchive],
  ])('refuses a truncated %s, leaving the store unchanged', async (_format, archive) => {
    const { store, root } = freshStore();
    await store.import(siblingDirectory);
    const before = storeContent(root);
    const data = fs.readFileSync(archive());
    for (const fraction of [0.3, 0.6, 0.9]) {
      const truncated = path.join(base, `truncated-${_format}-${fraction}.tar`);
      fs.writeFileSync(truncated, data.subarray(0, Math.floor(data.length * fraction)));
      await expect(store.import(truncated)).rejects.toThrow(/truncated|missing|digest mismatch/);
      expect(storeContent(root)).toEqual(before);
    }
  });

  it('imports concurrently without duplicating layers or leaving temporary files', async () => {
    const { root } = freshStore();
    const stores = Array.from({ length: 4 }, () => new ImageStore(new StateLayout(root)));
    const results = await Promise.all(
      stores.map((store, index) => store.import(index % 2 === 0 ? twoLayerDirectory : dockerArchive)),
    );
    expect(new Set(results.map(([record]) => record!.layers[0]!.chainId)).size).toBe(1);
    expect(layerDirectories(root)).toHaveLength(2);
    expect(await stores[0]!.list()).toHaveLength(2);
    expect(tmpLeftovers(root)).toEqual([]);
  });
});

describeUnless(needsRoot(), 'image import (crafted documents)', () => {
  let base: string;
  let counter = 0;
  const host = process.arch === 'x64' ? 'amd64' : process.arch;

  beforeAll(() => {
    base = makeTempDirectory('images-docs');
  });
  afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

  function freshStore(): { store: ImageStore; root: string; directory: string } {
    counter += 1;
    const directory = path.join(base, `case-${counter}`);
    return {
      store: new ImageStore(new StateLayout(path.join(directory, 'state'))),
      root: path.join(directory, 'state'),
      directory,
    };
  }

  async function simpleLayer(content: string): Promise<Buffer> {
    return tarBuffer([{ entry: { path: 'which', type: 'file' }, body: Buffer.from(content) }]);
  }

  function writeJsonBlob(layout: string, value: unknown): { digest: string; size: number } {
    const bytes = Buffer.from(JSON.stringify(value));
    const digest = sha256Digest(bytes);
    fs.writeFileSync(path.join(layout, 'blobs/sha256', digest.slice(7)), bytes);
    return { digest, size: bytes.length };
  }

  it('picks the host platform from a multi-platform index', async () => {
    const { store, directory } = freshStore();
    const layout = path.join(directory, 'multi');
    const mine = writeImageBlobs(layout, {
      layers: [{ tar: await simpleLayer('host') }],
      architecture: host,
    });
    const other = writeImageBlobs(layout, {
      layers: [{ tar: await simpleLayer('other') }],
      architecture: 's390x',
    });
    const list = writeJsonBlob(layout, {
      schemaVersion: 2,
      mediaType: MEDIA_TYPE.ociIndex,
      manifests: [
        { ...other, platform: { os: 'linux', architecture: 's390x' } },
        { ...mine, platform: { os: 'linux', architecture: host } },
      ],
    });
    writeIndex(layout, [
      { mediaType: MEDIA_TYPE.ociIndex, ...list, annotations: { 'io.containerd.image.name': 'multi:1' } },
    ]);
    const [record] = await store.import(layout);
    expect(record?.names).toEqual(['multi:1']);
    const { layerDirs } = await store.resolveForRun('multi:1');
    expect(fs.readFileSync(path.join(layerDirs[0]!, 'which'), 'utf8')).toBe('host');
  });

  it('lists the available platforms when none fits', async () => {
    const { store, directory } = freshStore();
    const layout = path.join(directory, 'foreign');
    const a = writeImageBlobs(layout, { layers: [{ tar: await simpleLayer('a') }], architecture: 's390x' });
    const b = writeImageBlobs(layout, { layers: [{ tar: await simpleLayer('b') }], architecture: 'riscv64' });
    const list = writeJsonBlob(layout, {
      schemaVersion: 2,
      manifests: [
        { ...a, platform: { os: 'linux', architecture: 's390x' } },
        { ...b, platform: { os: 'linux', architecture: 'riscv64' } },
      ],
    });
    writeIndex(layout, [{ mediaType: MEDIA_TYPE.ociIndex, ...list }]);
    await expect(store.import(layout)).rejects.toThrow(
      /no image for linux\/[a-z0-9]+ .*available: linux\/s390x, linux\/riscv64/,
    );
  });

  it('refuses a document that is both a manifest and an index', async () => {
    const { store, directory, root } = freshStore();
    const layout = path.join(directory, 'both');
    const image = writeImageBlobs(layout, { layers: [{ tar: await simpleLayer('x') }] });
    const manifest = JSON.parse(
      fs.readFileSync(path.join(layout, 'blobs/sha256', image.digest.slice(7)), 'utf8'),
    );
    const both = writeJsonBlob(layout, { ...manifest, manifests: [] });
    writeIndex(layout, [{ mediaType: MEDIA_TYPE.ociManifest, ...both }]);
    await expect(store.import(layout)).rejects.toThrow(/both an image index .* and an image manifest/);
    expect(fs.existsSync(path.join(root, 'images'))).toBe(false);
  });

  it('refuses unknown media types', async () => {
    const { store, directory } = freshStore();
    const layout = writeOciLayout(path.join(directory, 'unknown-layer'), {
      layers: [{ tar: await simpleLayer('x'), mediaType: 'application/vnd.example.layer' }],
    });
    await expect(store.import(layout)).rejects.toThrow(
      /unknown layer media type application\/vnd.example.layer/,
    );
    const indexLayout = path.join(directory, 'unknown-manifest');
    const image = writeImageBlobs(indexLayout, { layers: [{ tar: await simpleLayer('x') }] });
    writeIndex(indexLayout, [{ ...image, mediaType: 'application/vnd.example.thing' }]);
    await expect(store.import(indexLayout)).rejects.toThrow(
      /unknown media type application\/vnd.example.thing/,
    );
  });

  it('refuses missing blobs and invalid digests', async () => {
    const { store, directory, root } = freshStore();
    const layout = writeOciLayout(path.join(directory, 'missing'), {
      layers: [{ tar: await simpleLayer('x') }],
    });
    const manifestDigest = JSON.parse(fs.readFileSync(path.join(layout, 'index.json'), 'utf8')).manifests[0]
      .digest;
    const manifest = JSON.parse(
      fs.readFileSync(path.join(layout, 'blobs/sha256', manifestDigest.slice(7)), 'utf8'),
    );
    fs.rmSync(path.join(layout, 'blobs/sha256', manifest.layers[0].digest.slice(7)));
    await expect(store.import(layout)).rejects.toThrow(
      /blob sha256:[0-9a-f]{64} \(layer 1 of 1 .*\) is missing/,
    );

    const traversal = path.join(directory, 'traversal');
    writeIndex(traversal, [
      { mediaType: MEDIA_TYPE.ociManifest, digest: 'sha256:../../../../etc/passwd', size: 10 },
    ]);
    await expect(store.import(traversal)).rejects.toThrow(/invalid digest/);
    expect(fs.existsSync(path.join(root, 'blobs'))).toBe(false);
  });

  it('imports zstd layers, and refuses a corrupt zstd stream without storing anything', async () => {
    const { store, root, directory } = freshStore();
    const tar = await simpleLayer('zstd content');
    const layout = writeOciLayout(path.join(directory, 'zstd'), {
      name: 'example.com/zstd:1',
      layers: [{ tar, blob: zstdFrame(tar), mediaType: MEDIA_TYPE.ociLayerZstd }],
    });
    const [record] = await store.import(layout);
    expect(record!.layers[0]!.blobMediaType).toBe(MEDIA_TYPE.ociLayerZstd);
    expect(record!.layers[0]!.diffId).toBe(sha256Digest(tar));

    const other = freshStore();
    const truncated = zstdFrame(tar).subarray(0, 600);
    const broken = writeOciLayout(path.join(other.directory, 'broken'), {
      layers: [{ tar, blob: truncated, mediaType: MEDIA_TYPE.ociLayerZstd }],
    });
    // The manifest describes the truncated blob, so only the zstd decoder can tell.
    await expect(other.store.import(broken)).rejects.toThrow(ImageFormatError);
    await expect(other.store.import(broken)).rejects.toThrow(/corrupt or truncated zstd stream/);
    expect(fs.existsSync(path.join(other.root, 'blobs'))).toBe(false);
    expect(fs.readdirSync(path.join(root, 'tmp'))).toEqual([]);
  });

  it('refuses input that is not an image', async () => {
    const { store, directory } = freshStore();
    const notImage = path.join(directory, 'plain.txt');
    fs.mkdirSync(directory, { recursive: true });
    fs.writeFileSync(notImage, 'hello');
    await expect(store.import(notImage)).rejects.toThrow(
      /neither an OCI image layout directory nor an image archive/,
    );
    await expect(store.import(directory)).rejects.toThrow(/neither oci-layout .* nor manifest.json/);
    await expect(store.import(path.join(directory, 'absent'))).rejects.toThrow(NotFoundError);
  });

  it('imports every image of a layout, and refuses one name for several images', async () => {
    const { store, directory } = freshStore();
    const layout = path.join(directory, 'two-images');
    const first = writeImageBlobs(layout, { layers: [{ tar: await simpleLayer('one') }] });
    const second = writeImageBlobs(layout, { layers: [{ tar: await simpleLayer('two') }] });
    writeIndex(layout, [
      { ...first, annotations: { 'org.opencontainers.image.ref.name': 'example.com/one:1' } },
      { ...second, annotations: { 'org.opencontainers.image.ref.name': 'latest' } },
    ]);
    await expect(store.import(layout, { name: 'both' })).rejects.toThrow(
      /holds 2 images; a name can only be given to one/,
    );
    expect(await store.list()).toEqual([]);
    const records = await store.import(layout);
    // A bare tag in ref.name names no repository, so the second image stays untagged.
    expect(records.map((record) => record.names)).toEqual([['example.com/one:1'], []]);
    await expect(store.import(layout, { name: 'Bad:Name' })).rejects.toThrow(InvalidArgumentError);
  });

  it('gives an image several chained layers the right ChainIDs', async () => {
    const { store } = freshStore();
    const directory = path.join(base, 'chain');
    const tars = [await simpleLayer('1'), await simpleLayer('2'), await simpleLayer('3')];
    const [record] = await store.import(
      writeOciLayout(directory, { layers: tars.map((tar) => ({ tar, gzip: true })) }),
    );
    const expected = chainIds(tars.map((tar) => sha256Digest(tar)));
    expect(record!.layers.map((layer) => layer.chainId)).toEqual(expected);
    expect(record!.layers[1]!.parent).toBe(expected[0]);
  });
});
