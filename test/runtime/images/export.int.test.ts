/**
 * `image export` in the three formats, read back by the peers (skopeo inspect/copy, umoci unpack)
 * and by our own import; zstd layers in and out; refused destinations leave nothing behind; a
 * layer whose blob is gone is rebuilt from its unpacked directory.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { InvalidArgumentError, NotFoundError } from '../../../source/runtime/errors.js';
import {
  exportImage,
  parseExportFormat,
  type ExportFormat,
} from '../../../source/runtime/images/export/write.js';
import { ImageStore } from '../../../source/runtime/images/store.js';
import { StateLayout } from '../../../source/runtime/paths.js';
import { buildSeedImages, type SeedImages } from './registry-support.js';
import { Buildah, makeTempDirectory } from './support.js';
import { describeUnless, needsCommand, needsRoot } from '../../support/skip.js';

const missing = [needsRoot(), needsCommand('buildah'), needsCommand('skopeo'), needsCommand('umoci')];

const TRANSPORT: Record<ExportFormat, string> = {
  oci: 'oci',
  'oci-archive': 'oci-archive',
  'docker-archive': 'docker-archive',
};

function skopeoInspect(transport: string): {
  Digest: string;
  Layers: string[];
  LayersData?: Array<{ MIMEType: string }>;
} {
  return JSON.parse(execFileSync('skopeo', ['inspect', transport], { encoding: 'utf8' })) as ReturnType<
    typeof skopeoInspect
  >;
}

function skopeoRawManifest(transport: string): { layers: Array<{ mediaType: string }> } {
  return JSON.parse(
    execFileSync('skopeo', ['inspect', '--raw', transport], { encoding: 'utf8' }),
  ) as ReturnType<typeof skopeoRawManifest>;
}

describeUnless(missing, 'image export (read by skopeo, umoci and import)', () => {
  let base: string;
  let buildah: Buildah;
  let seeds: SeedImages;
  let store: ImageStore;
  let counter = 0;
  const NAME = 'localhost/seed/app:v1';

  function output(name: string): string {
    counter += 1;
    return path.join(base, 'out', `${counter}-${name}`);
  }

  function freshStore(): ImageStore {
    counter += 1;
    return new ImageStore(new StateLayout(path.join(base, `state-${counter}`)), { durable: false });
  }

  beforeAll(async () => {
    base = makeTempDirectory('export');
    fs.mkdirSync(path.join(base, 'out'));
    buildah = new Buildah(base);
    seeds = await buildSeedImages(buildah, base);
    store = new ImageStore(new StateLayout(path.join(base, 'state')), { durable: false });
    await store.import(seeds.app, { name: NAME });
  });

  afterAll(async () => {
    await buildah?.cleanup();
    if (base) fs.rmSync(base, { recursive: true, force: true });
  });

  for (const format of ['oci', 'oci-archive', 'docker-archive'] as const) {
    it(`--format ${format}: skopeo inspects it and an import gives back the same image`, async () => {
      const record = await store.resolve(NAME);
      const target = output(format);
      const result = await exportImage(store, NAME, target, format);
      expect(result).toMatchObject({
        path: target,
        format,
        imageId: record.id,
        name: NAME,
        rewritten: false,
      });
      const reference = `${TRANSPORT[format]}:${target}${format === 'oci' ? ':v1' : ''}`;
      const inspected = skopeoInspect(reference);
      expect(inspected.Layers).toEqual(
        record.layers.map((layer) => (format === 'docker-archive' ? layer.diffId : layer.blobDigest)),
      );
      // OCI outputs carry the stored manifest byte for byte.
      if (format !== 'docker-archive') expect(inspected.Digest).toBe(record.manifestDigest);

      const other = freshStore();
      const [imported] = await other.import(target);
      expect(imported!.id).toBe(record.id);
      expect(imported!.names).toEqual([NAME]);
      // Nothing but the output next to it: the temporary name is gone.
      expect(fs.readdirSync(path.dirname(target)).filter((name) => name.startsWith('.'))).toEqual([]);
    });
  }

  it('umoci unpacks the OCI layout by its tag, and skopeo copies it to every other format', async () => {
    const layout = output('umoci');
    await exportImage(store, NAME, layout, 'oci');
    const index = JSON.parse(fs.readFileSync(path.join(layout, 'index.json'), 'utf8')) as {
      manifests: Array<{ annotations: Record<string, string> }>;
    };
    expect(index.manifests[0]!.annotations['org.opencontainers.image.ref.name']).toBe('v1');
    const bundle = output('bundle');
    execFileSync('umoci', ['unpack', '--image', `${layout}:v1`, bundle], { stdio: 'pipe' });
    expect(fs.readFileSync(path.join(bundle, 'rootfs/app/hello'), 'utf8')).toBe('hello from app\n');
    expect(fs.readlinkSync(path.join(bundle, 'rootfs/bin/sh'))).toBe('busybox');
    const record = await store.resolve(NAME);
    for (const transport of ['oci-archive', 'docker-archive', 'oci']) {
      const copy = output(`skopeo-${transport}`);
      execFileSync('skopeo', [
        'copy',
        '--quiet',
        `oci:${layout}:v1`,
        `${transport}:${copy}${transport === 'oci' ? ':v1' : ''}`,
      ]);
      const [imported] = await freshStore().import(copy);
      expect(imported!.id).toBe(record.id);
    }
  });

  it('keeps zstd layers in OCI outputs and decompresses them for docker-archive', async () => {
    const zstdLayout = output('zstd-source');
    execFileSync('skopeo', [
      'copy',
      '--quiet',
      '--dest-compress-format',
      'zstd',
      `oci:${seeds.base}:v1`,
      `oci:${zstdLayout}:v1`,
    ]);
    const zstdStore = freshStore();
    const [record] = await zstdStore.import(zstdLayout, { name: 'zstd/base:v1' });
    expect(record!.layers[0]!.blobMediaType).toBe('application/vnd.oci.image.layer.v1.tar+zstd');

    const archive = output('zstd.tar');
    await exportImage(zstdStore, 'zstd/base:v1', archive, 'oci-archive');
    expect(skopeoRawManifest(`oci-archive:${archive}`).layers[0]!.mediaType).toBe(
      'application/vnd.oci.image.layer.v1.tar+zstd',
    );

    const docker = output('zstd-docker.tar');
    await exportImage(zstdStore, 'zstd/base:v1', docker, 'docker-archive');
    expect(skopeoInspect(`docker-archive:${docker}`).Layers).toEqual([record!.layers[0]!.diffId]);
    const [again] = await freshStore().import(docker);
    expect(again!.id).toBe(record!.id);

    // umoci 0.4 reads no zstd: with gzip compression it unpacks, and the image ID is the same.
    const gzipLayout = output('zstd-as-gzip');
    await expect(
      exportImage(zstdStore, 'zstd/base:v1', output('no.tar'), 'docker-archive', { compression: 'gzip' }),
    ).rejects.toThrow('--compression-format applies to oci and oci-archive outputs');
    await exportImage(zstdStore, 'zstd/base:v1', gzipLayout, 'oci', { compression: 'gzip' });
    expect(skopeoRawManifest(`oci:${gzipLayout}:v1`).layers[0]!.mediaType).toBe(
      'application/vnd.oci.image.layer.v1.tar+gzip',
    );
    const bundle = output('zstd-as-gzip-bundle');
    execFileSync('umoci', ['unpack', '--image', `${gzipLayout}:v1`, bundle], { stdio: 'pipe' });
    expect(fs.existsSync(path.join(bundle, 'rootfs/bin/sh'))).toBe(true);
    const [regzipped] = await freshStore().import(gzipLayout);
    expect(regzipped!.id).toBe(record!.id);
  });

  it('rebuilds a layer whose blob is gone from its unpacked directory', async () => {
    const damaged = freshStore();
    const [record] = await damaged.import(seeds.app, { name: 'damaged/app:v1' });
    fs.rmSync(damaged.layout.blob(record!.layers[1]!.blobDigest));
    const layout = output('rebuilt');
    const result = await exportImage(damaged, 'damaged/app:v1', layout, 'oci');
    expect(result.rewritten).toBe(true);
    expect(skopeoInspect(`oci:${layout}:v1`).Digest).toBe(result.manifestDigest);
    const bundle = output('rebuilt-bundle');
    execFileSync('umoci', ['unpack', '--image', `${layout}:v1`, bundle], { stdio: 'pipe' });
    expect(fs.readFileSync(path.join(bundle, 'rootfs/app/hello'), 'utf8')).toBe('hello from app\n');
    expect(fs.readFileSync(path.join(bundle, 'rootfs/etc/release'), 'utf8')).toBe('base\n');
    // Deterministic: the same layer again gives the same digests.
    const second = await exportImage(damaged, 'damaged/app:v1', output('rebuilt-again'), 'oci');
    expect(second.manifestDigest).toBe(result.manifestDigest);
  });

  it('refuses bad destinations and formats, and writes nothing', async () => {
    expect(() => parseExportFormat('zip')).toThrow(InvalidArgumentError);
    expect(() => parseExportFormat('zip')).toThrow('accepted: oci, oci-archive, docker-archive');
    const occupied = output('occupied');
    fs.mkdirSync(occupied);
    fs.writeFileSync(path.join(occupied, 'keep'), 'x');
    await expect(exportImage(store, NAME, occupied, 'oci')).rejects.toThrow(
      'exists and is not an empty directory',
    );
    await expect(exportImage(store, NAME, occupied, 'docker-archive')).rejects.toThrow('it is a directory');
    await expect(
      exportImage(store, NAME, path.join(base, 'missing', 'x.tar'), 'oci-archive'),
    ).rejects.toBeInstanceOf(NotFoundError);
    await expect(
      exportImage(store, 'no/such:image', output('none.tar'), 'oci-archive'),
    ).rejects.toBeInstanceOf(NotFoundError);
    expect(fs.readdirSync(occupied)).toEqual(['keep']);
    expect(fs.readdirSync(path.join(base, 'out')).filter((name) => name.startsWith('.'))).toEqual([]);
    // An empty directory is a fine target for a layout.
    const empty = output('empty');
    fs.mkdirSync(empty);
    await exportImage(store, NAME, empty, 'oci');
    expect(fs.readdirSync(empty).sort()).toEqual(['blobs', 'index.json', 'oci-layout']);
  });
});
