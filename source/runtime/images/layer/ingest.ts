/**
 * One pass over a layer blob: copy the bytes to the blob store's temporary file, hash them,
 * decompress, hash the tar (the diff_id) and unpack it, all streamed together so the blob is
 * read once. Verification happens at the end; the caller throws the result away on failure.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ImageFormatError, isDiskFull, isErrnoException, nameFullDisk } from '../../errors.js';
import { digestFileRange } from '../digest.js';
import { readTar } from '../tar/reader.js';
import { createDecompressor, detectCompression, readHead, type Compression } from './compression.js';
import { unpackLayer } from './unpack.js';

/** Where a blob's bytes are: a whole file or a range of an archive. */
export interface BlobLocation {
  file: string;
  offset: number;
  length: number;
}

export interface IngestLayerOptions {
  source: BlobLocation;
  /** Names the layer in messages: "layer 2 of 3 (sha256:...)". */
  label: string;
  /** Digest and size the manifest claims for the blob; undefined when the source has no manifest. */
  expectedDigest: string | undefined;
  expectedSize: number | undefined;
  /** The config's rootfs.diff_ids entry for this layer. */
  expectedDiffId: string;
  /** Copy the blob to this new file. */
  blobPath: string | undefined;
  /** Unpack into this empty directory; when undefined the layer is only verified. */
  unpackTo: string | undefined;
}

export interface IngestLayerResult {
  digest: string;
  size: number;
  diffId: string;
  compression: Compression;
  /** Bytes of file content unpacked (0 when only verified). */
  contentBytes: number;
}

const READ_CHUNK = 1 << 20;

function writeAll(fd: number, chunk: Buffer): void {
  let offset = 0;
  while (offset < chunk.length) offset += fs.writeSync(fd, chunk, offset, chunk.length - offset);
}

function rangeStream(source: BlobLocation): Readable {
  if (source.length === 0) return Readable.from([]);
  return fs.createReadStream(source.file, {
    start: source.offset,
    end: source.offset + source.length - 1,
    highWaterMark: READ_CHUNK,
  });
}

export function digestMismatch(
  label: string,
  expected: string,
  actual: string,
  cause?: unknown,
): ImageFormatError {
  return new ImageFormatError(`digest mismatch for ${label}: expected ${expected}, got ${actual}`, {
    cause,
    hint: 'the image is damaged or was modified; get a fresh copy',
  });
}

export async function ingestLayer(options: IngestLayerOptions): Promise<IngestLayerResult> {
  const { source, label } = options;
  if (options.expectedSize !== undefined && options.expectedSize !== source.length) {
    throw new ImageFormatError(
      `size mismatch for ${label}: the manifest says ${options.expectedSize} bytes, the blob has ${source.length}`,
      { hint: 'the image is damaged or was modified; get a fresh copy' },
    );
  }
  const compression = detectCompression(await readHead(source.file, source.offset, 8), label);
  const blobHash = createHash('sha256');
  const diffHash = createHash('sha256');
  let blobSize = 0;
  let contentBytes = 0;
  const blobFd = options.blobPath === undefined ? undefined : fs.openSync(options.blobPath, 'wx', 0o644);

  const tapBlob = async function* (chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const chunk of chunks) {
      blobHash.update(chunk);
      blobSize += chunk.length;
      if (blobFd !== undefined) writeAll(blobFd, chunk);
      yield chunk;
    }
  };
  const tapDiff = async function* (chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const chunk of chunks) {
      diffHash.update(chunk);
      yield chunk;
    }
  };
  const consume = async (chunks: AsyncIterable<Buffer>): Promise<void> => {
    if (options.unpackTo === undefined) {
      for await (const _chunk of chunks);
      return;
    }
    const result = await unpackLayer(readTar(chunks, { drain: true, label }), options.unpackTo, { label });
    contentBytes = result.contentBytes;
  };

  try {
    const decompressor = createDecompressor(compression, label);
    if (decompressor) await pipeline(rangeStream(source), tapBlob, decompressor, tapDiff, consume);
    else await pipeline(rangeStream(source), tapBlob, consume);
  } catch (error) {
    if (isDiskFull(error))
      throw nameFullDisk(error, options.unpackTo ?? options.blobPath ?? path.dirname(source.file));
    // A corrupt blob shows up first as a gzip or tar error; say what is really wrong.
    if (options.expectedDigest !== undefined) {
      const actual = await digestFileRange(source.file, source.offset, source.length);
      if (actual.digest !== options.expectedDigest)
        throw digestMismatch(label, options.expectedDigest, actual.digest, error);
    }
    if (isErrnoException(error) && error.code?.startsWith('Z_')) {
      throw new ImageFormatError(`${label}: corrupt gzip stream (${error.message})`, { cause: error });
    }
    throw error;
  } finally {
    if (blobFd !== undefined) fs.closeSync(blobFd);
  }

  const digest = `sha256:${blobHash.digest('hex')}`;
  const diffId = compression === 'none' ? digest : `sha256:${diffHash.digest('hex')}`;
  if (options.expectedDigest !== undefined && digest !== options.expectedDigest) {
    throw digestMismatch(label, options.expectedDigest, digest);
  }
  if (diffId !== options.expectedDiffId) {
    throw digestMismatch(
      `${label} (uncompressed content vs the config's diff_id)`,
      options.expectedDiffId,
      diffId,
    );
  }
  return { digest, size: blobSize, diffId, compression, contentBytes };
}
