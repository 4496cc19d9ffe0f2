/**
 * The blobs of one stored image, pinned for an export or a push: the stored manifest, config and
 * compressed layers exactly as they came in (so digests stay what the registry or archive had),
 * hard-linked into a work directory under the store's shared lock, so that removing the image
 * meanwhile cannot pull them from under a long transfer.
 *
 * A layer whose blob the store does not have (older stores, layers recorded without one) is made
 * again from its unpacked directory: a deterministic tar, gzip-compressed. If that tar differs
 * from the original diff_id, the config and manifest are rewritten to match, and the image gets a
 * new ID; `rewritten` says so.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { CorruptStateError, hasCode } from '../../errors.js';
import { writeUpperLayer } from '../commit/upper-tar.js';
import { digestHex, sha256Digest, shortId } from '../digest.js';
import { parseJson, validateManifest } from '../import/documents.js';
import { MEDIA_TYPE, ociManifestBytes } from '../media-types.js';
import { layerDiffPath } from '../records.js';
import type { ImageStore } from '../store.js';
import { TarWriter } from '../tar/writer.js';
import type { ImageRecord, OciImageConfig } from '../types.js';
import type { WorkDirectory } from '../work-directory.js';

export interface ContentBlob {
  mediaType: string;
  digest: string;
  size: number;
  /** A private link to (or copy of) the blob. */
  file: string;
}

export interface ContentLayer extends ContentBlob {
  diffId: string;
}

export interface ImageContent {
  record: ImageRecord;
  manifest: { bytes: Buffer; digest: string; mediaType: string };
  config: { bytes: Buffer; digest: string; value: OciImageConfig };
  layers: ContentLayer[];
  /** Some blobs had to be made again and the documents differ from the stored ones. */
  rewritten: boolean;
  /** The work directory holding the links; dispose it when done. */
  work: WorkDirectory;
}

async function readVerified(file: string, digest: string, what: string): Promise<Buffer | undefined> {
  let bytes: Buffer;
  try {
    bytes = await fsp.readFile(file);
  } catch (error) {
    if (hasCode(error, 'ENOENT')) return undefined;
    throw error;
  }
  if (sha256Digest(bytes) !== digest) {
    throw new CorruptStateError(`${what}: the stored blob ${digest} is damaged`, {
      hint: 'remove the image and import or pull it again',
    });
  }
  return bytes;
}

/** Links a store blob into the work directory; undefined when the store does not have it. */
async function pin(store: ImageStore, work: WorkDirectory, digest: string): Promise<string | undefined> {
  const target = path.join(work.path, `blob-${digestHex(digest)}`);
  try {
    await fsp.link(store.layout.blob(digest), target);
    return target;
  } catch (error) {
    if (hasCode(error, 'EEXIST')) return target;
    if (hasCode(error, 'ENOENT')) return undefined;
    throw error;
  }
}

/** Writes the layer at `index` of `record` again from its unpacked directory, gzip-compressed. */
async function synthesizeLayer(
  store: ImageStore,
  work: WorkDirectory,
  record: ImageRecord,
  index: number,
): Promise<ContentLayer> {
  const layer = record.layers[index]!;
  const directory = layerDiffPath(store.layout, layer.chainId);
  const lowers = record.layers.slice(0, index).map((lower) => layerDiffPath(store.layout, lower.chainId));
  for (const needed of [directory, ...lowers]) {
    if (!fs.existsSync(needed)) {
      throw new CorruptStateError(
        `image ${shortId(record.id)}: layer ${index + 1} has neither its blob nor its unpacked directory (${needed})`,
        { hint: 'remove the image and import or pull it again' },
      );
    }
  }
  const file = path.join(work.path, `synthesized-${index}.tar.gz`);
  const diffHash = createHash('sha256');
  const blobHash = createHash('sha256');
  let size = 0;
  const gzip = zlib.createGzip({ level: 6, chunkSize: 128 * 1024 });
  const written = pipeline(
    gzip,
    async function* (chunks: AsyncIterable<Buffer>) {
      for await (const chunk of chunks) {
        blobHash.update(chunk);
        size += chunk.length;
        yield chunk;
      }
    },
    fs.createWriteStream(file, { flags: 'wx' }),
  );
  const hashing = new PassThrough();
  hashing.on('data', (chunk: Buffer) => diffHash.update(chunk));
  hashing.pipe(gzip);
  const writer = new TarWriter(hashing);
  // The parents are the "lower" side: whiteouts and opaque markers are written where they hide
  // something below, exactly as a container's changes would be.
  await writeUpperLayer(writer, directory, lowers);
  await writer.finish();
  await written;
  return {
    mediaType: MEDIA_TYPE.ociLayerGzip,
    digest: `sha256:${blobHash.digest('hex')}`,
    size,
    file,
    diffId: `sha256:${diffHash.digest('hex')}`,
  };
}

/** Pins the blobs of `reference` into a new work directory (the caller disposes `work`). */
export async function openImageContent(store: ImageStore, reference: string): Promise<ImageContent> {
  const work = await store.createWorkDirectory('export');
  try {
    return await store.withSharedLock(async () => {
      const record = await store.resolve(reference);
      const what = `image ${shortId(record.id)}`;
      const configBytes = await readVerified(
        store.layout.blob(record.configDigest),
        record.configDigest,
        what,
      );
      if (!configBytes) {
        throw new CorruptStateError(`${what}: its config blob ${record.configDigest} is missing`, {
          hint: 'remove the image and import or pull it again',
        });
      }
      const config = JSON.parse(configBytes.toString('utf8')) as OciImageConfig;
      const manifestBytes = await readVerified(
        store.layout.blob(record.manifestDigest),
        record.manifestDigest,
        what,
      );
      const stored = manifestBytes
        ? validateManifest(parseJson(manifestBytes, `${what} manifest`), `${what} manifest`)
        : undefined;
      const manifestMediaType = manifestBytes
        ? (((JSON.parse(manifestBytes.toString('utf8')) as { mediaType?: unknown }).mediaType as
            string | undefined) ?? MEDIA_TYPE.ociManifest)
        : MEDIA_TYPE.ociManifest;

      let rewritten = manifestBytes === undefined;
      const layers: ContentLayer[] = [];
      for (const [index, layer] of record.layers.entries()) {
        const file = await pin(store, work, layer.blobDigest);
        if (file) {
          layers.push({
            mediaType: stored?.layers[index]?.mediaType ?? layer.blobMediaType,
            digest: layer.blobDigest,
            size: layer.blobSize,
            file,
            diffId: layer.diffId,
          });
          continue;
        }
        const made = await synthesizeLayer(store, work, record, index);
        if (made.diffId !== layer.diffId || made.digest !== layer.blobDigest) rewritten = true;
        layers.push(made);
      }
      if (!rewritten && manifestBytes) {
        return {
          record,
          manifest: { bytes: manifestBytes, digest: record.manifestDigest, mediaType: manifestMediaType },
          config: { bytes: configBytes, digest: record.configDigest, value: config },
          layers,
          rewritten: false,
          work,
        };
      }
      // New documents for what is exported: the config's diff_ids must name the tars we send.
      const diffIds = layers.map((layer) => layer.diffId);
      let newConfigBytes = configBytes;
      let newConfig = config;
      if (diffIds.some((diffId, index) => diffId !== config.rootfs.diff_ids[index])) {
        newConfig = { ...config, rootfs: { type: 'layers', diff_ids: diffIds } };
        newConfigBytes = Buffer.from(JSON.stringify(newConfig));
      }
      const configDigest = sha256Digest(newConfigBytes);
      const manifest = ociManifestBytes({ digest: configDigest, size: newConfigBytes.length }, layers);
      return {
        record,
        manifest: { bytes: manifest, digest: sha256Digest(manifest), mediaType: MEDIA_TYPE.ociManifest },
        config: { bytes: newConfigBytes, digest: configDigest, value: newConfig },
        layers,
        rewritten: true,
        work,
      };
    });
  } catch (error) {
    await work.dispose();
    throw error;
  }
}
