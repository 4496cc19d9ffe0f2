/**
 * Layers in another compression than they are stored in, for outputs that ask for one: export's
 * `--compression-format gzip` (readers without zstd) and push's `--compression-format` and
 * `--compression-level`, and push's default of gzip for layers stored uncompressed (an image
 * imported from a docker-archive), as docker pushes them. The config, and so the image ID, stay;
 * the manifest names the new blobs. gzip is zlib's; zstd is the `zstd` program's (Node 20 has no
 * zstd encoder).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { InvalidArgumentError, UnsupportedError } from '../../errors.js';
import { sha256Digest } from '../digest.js';
import { createDecompressor, detectCompression, readHead, type Compression } from '../layer/compression.js';
import { digestMismatch } from '../layer/ingest.js';
import { MEDIA_TYPE, ociManifestBytes } from '../media-types.js';
import type { ImageContent } from './content.js';

export type LayerCompression = 'gzip' | 'zstd';

export interface RecompressOptions {
  format: LayerCompression;
  /** gzip 1-9, zstd 1-19; default gzip 6, zstd 3 (their programs' defaults). */
  level?: number;
  /** Only layers stored uncompressed are changed (push without --compression-format). */
  onlyUncompressed?: boolean;
}

const LEVELS: Record<LayerCompression, { min: number; max: number; default: number }> = {
  gzip: { min: 1, max: 9, default: 6 },
  zstd: { min: 1, max: 19, default: 3 },
};

export function parseLayerCompression(value: string): LayerCompression {
  if (value === 'gzip' || value === 'zstd') return value;
  throw new InvalidArgumentError(
    `invalid --compression-format ${JSON.stringify(value)}: accepted: gzip, zstd`,
  );
}

export function parseCompressionLevel(value: string, format: LayerCompression): number {
  const { min, max } = LEVELS[format];
  const level = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(level >= min && level <= max)) {
    throw new InvalidArgumentError(
      `invalid --compression-level ${JSON.stringify(value)}: ${format} levels go from ${min} to ${max}`,
    );
  }
  return level;
}

/** The layer as an uncompressed tar file (the blob itself when it is one), checked against its diff_id. */
export async function uncompressedLayer(
  content: ImageContent,
  index: number,
): Promise<{ file: string; size: number }> {
  const layer = content.layers[index]!;
  const label = `layer ${index + 1} (${layer.digest})`;
  const compression = detectCompression(await readHead(layer.file, 0, 8), label);
  const decompressor = createDecompressor(compression, label);
  if (!decompressor) return { file: layer.file, size: layer.size };
  const file = path.join(content.work.path, `layer-${index}.tar`);
  const hash = createHash('sha256');
  let size = 0;
  await pipeline(
    fs.createReadStream(layer.file, { highWaterMark: 1 << 20 }),
    decompressor,
    async function* (chunks: AsyncIterable<Buffer>) {
      for await (const chunk of chunks) {
        hash.update(chunk);
        size += chunk.length;
        yield chunk;
      }
    },
    fs.createWriteStream(file, { flags: 'wx' }),
  );
  const diffId = `sha256:${hash.digest('hex')}`;
  if (diffId !== layer.diffId)
    throw digestMismatch(`${label}, uncompressed, vs the config's diff_id`, layer.diffId, diffId);
  return { file, size };
}

/** `zstd -LEVEL -c` over the file. */
function zstdStream(file: string, level: number): Readable {
  const input = fs.openSync(file, 'r');
  const child = spawn('zstd', ['-q', '-c', `-${level}`], { stdio: [input, 'pipe', 'pipe'] });
  fs.closeSync(input);
  const output = new PassThrough({ highWaterMark: 1 << 20 });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  child.stdout?.pipe(output, { end: false });
  child.on('error', (error: NodeJS.ErrnoException) =>
    output.destroy(
      error.code === 'ENOENT'
        ? new UnsupportedError('zstd layers need the zstd program', {
            hint: 'install it (Debian package zstd), or use --compression-format gzip',
            cause: error,
          })
        : error,
    ),
  );
  child.on('close', (code) => {
    if (code === 0) output.end();
    else output.destroy(new Error(`zstd failed (exit ${code}): ${stderr.trim()}`));
  });
  return output;
}

export async function recompressLayers(
  content: ImageContent,
  options: RecompressOptions,
): Promise<ImageContent> {
  const level = options.level ?? LEVELS[options.format].default;
  const layers = [...content.layers];
  let changed = false;
  for (const [index, layer] of content.layers.entries()) {
    const stored: Compression = detectCompression(await readHead(layer.file, 0, 8), `layer ${index + 1}`);
    if (options.onlyUncompressed ? stored !== 'none' : stored === options.format) continue;
    const tar = await uncompressedLayer(content, index);
    const file = path.join(
      content.work.path,
      `layer-${index}.tar.${options.format === 'gzip' ? 'gz' : 'zst'}`,
    );
    const hash = createHash('sha256');
    let size = 0;
    const count = async function* (chunks: AsyncIterable<Buffer>) {
      for await (const chunk of chunks) {
        hash.update(chunk);
        size += chunk.length;
        yield chunk;
      }
    };
    const output = fs.createWriteStream(file, { flags: 'wx' });
    if (options.format === 'gzip') {
      await pipeline(
        fs.createReadStream(tar.file, { highWaterMark: 1 << 20 }),
        zlib.createGzip({ level, chunkSize: 128 * 1024 }),
        count,
        output,
      );
    } else {
      await pipeline(zstdStream(tar.file, level), count, output);
    }
    layers[index] = {
      mediaType: options.format === 'gzip' ? MEDIA_TYPE.ociLayerGzip : MEDIA_TYPE.ociLayerZstd,
      digest: `sha256:${hash.digest('hex')}`,
      size,
      file,
      diffId: layer.diffId,
    };
    changed = true;
  }
  if (!changed) return content;
  const manifest = ociManifestBytes(
    { digest: content.config.digest, size: content.config.bytes.length },
    layers,
  );
  return {
    ...content,
    layers,
    manifest: { bytes: manifest, digest: sha256Digest(manifest), mediaType: MEDIA_TYPE.ociManifest },
  };
}
