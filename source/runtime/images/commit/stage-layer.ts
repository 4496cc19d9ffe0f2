/**
 * Turns a layer made here (a container's changes, a build step) into what an import would have
 * produced: a gzip blob with its digest, the diff_id of the tar, and the layer unpacked into
 * overlay format by the same unpacker imports use. Everything goes into a private work
 * directory; the store commits it with the image (ImageStore.addImage), or it is thrown away.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { sha256Digest } from '../digest.js';
import { unpackLayer } from '../layer/unpack.js';
import { MEDIA_TYPE } from '../media-types.js';
import { readTar } from '../tar/reader.js';
import { TarWriter } from '../tar/writer.js';
import type { LayerRecord } from '../types.js';
import type { WorkDirectory } from '../work-directory.js';

/** A layer ready to be committed: its record, its blob file and its unpacked directory. */
export interface StagedLayer {
  record: LayerRecord;
  /** The gzip blob, named by nothing yet. */
  blobFile: string;
  /** Holds diff/ (the unpacked layer) and layer.json, as layers/<chain id>/ will. */
  directory: string;
}

let stagedCounter = 0;

/** The ChainID of a layer with `diffId` on top of the layer `parent`. */
export function chainIdOf(parent: string | undefined, diffId: string): string {
  return parent === undefined ? diffId : sha256Digest(`${parent} ${diffId}`);
}

/**
 * Writes a layer with `produce` (which adds entries to the tar writer it is given), then reads
 * the tar once to gzip it and to unpack it. `parentChainId` is the ChainID of the layer below.
 */
export async function stageLayer(
  work: WorkDirectory,
  parentChainId: string | undefined,
  produce: (writer: TarWriter) => Promise<void>,
  options: { label?: string } = {},
): Promise<StagedLayer> {
  stagedCounter += 1;
  const base = path.join(work.path, `staged-${process.pid}-${stagedCounter}`);
  const tarFile = `${base}.tar`;
  const blobFile = `${base}.blob`;
  const directory = base;
  const diffDirectory = path.join(directory, 'diff');
  await fsp.mkdir(diffDirectory, { recursive: true, mode: 0o755 });

  const output = fs.createWriteStream(tarFile, { flags: 'wx', highWaterMark: 1 << 20 });
  const writer = new TarWriter(output);
  try {
    await produce(writer);
    await writer.finish();
  } catch (error) {
    output.destroy();
    throw error;
  }

  const diffHash = createHash('sha256');
  const blobHash = createHash('sha256');
  let blobSize = 0;
  const gzip = zlib.createGzip({ chunkSize: 128 * 1024 });
  const blobWritten = pipeline(
    gzip,
    async function* (chunks: AsyncIterable<Buffer>) {
      for await (const chunk of chunks) {
        blobHash.update(chunk);
        blobSize += chunk.length;
        yield chunk;
      }
    },
    fs.createWriteStream(blobFile, { flags: 'wx' }),
  );
  // If writing the blob fails, the tee below must not wait for a drain that never comes.
  let blobError: unknown;
  blobWritten.catch((error: unknown) => {
    blobError = error;
    gzip.emit('drain');
  });
  const tee = async function* (chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const chunk of chunks) {
      diffHash.update(chunk);
      if (!gzip.write(chunk)) await once(gzip, 'drain');
      if (blobError) throw blobError;
      yield chunk;
    }
    gzip.end();
  };
  let contentBytes = 0;
  try {
    await pipeline(fs.createReadStream(tarFile, { highWaterMark: 1 << 20 }), tee, async (chunks) => {
      const label = options.label ?? 'new layer';
      contentBytes = (await unpackLayer(readTar(chunks, { drain: true, label }), diffDirectory, { label }))
        .contentBytes;
    });
    await blobWritten;
  } catch (error) {
    gzip.destroy();
    await blobWritten.catch(() => undefined);
    throw error;
  } finally {
    await fsp.rm(tarFile, { force: true });
  }

  const diffId = `sha256:${diffHash.digest('hex')}`;
  const record: LayerRecord = {
    diffId,
    chainId: chainIdOf(parentChainId, diffId),
    ...(parentChainId === undefined ? {} : { parent: parentChainId }),
    blobDigest: `sha256:${blobHash.digest('hex')}`,
    blobSize,
    blobMediaType: MEDIA_TYPE.ociLayerGzip,
    size: contentBytes,
  };
  await fsp.writeFile(path.join(directory, 'layer.json'), `${JSON.stringify(record, null, 2)}\n`);
  return { record, blobFile, directory };
}
