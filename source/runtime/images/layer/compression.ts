/**
 * Layer compression, told by the first bytes rather than the media type: archives in the wild
 * (docker-archive in particular) label layers loosely.
 */
import fsp from 'node:fs/promises';
import type { Transform } from 'node:stream';
import zlib from 'node:zlib';
import { UnsupportedError } from '../../errors.js';

export type Compression = 'none' | 'gzip';

const GZIP = [0x1f, 0x8b];
const ZSTD = [0x28, 0xb5, 0x2f, 0xfd];
const XZ = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
const BZIP2 = [0x42, 0x5a, 0x68];

function startsWith(head: Uint8Array, magic: number[]): boolean {
  return head.length >= magic.length && magic.every((byte, index) => head[index] === byte);
}

/** Names the compression of a stream from its first bytes; `label` names it in errors. */
export function detectCompression(head: Uint8Array, label: string): Compression {
  if (startsWith(head, GZIP)) return 'gzip';
  if (startsWith(head, ZSTD)) {
    throw new UnsupportedError(`${label}: zstd layers are not supported yet`, {
      hint: 'convert the image to gzip layers, e.g. skopeo copy --dest-compress-format gzip',
    });
  }
  if (startsWith(head, XZ) || startsWith(head, BZIP2)) {
    throw new UnsupportedError(
      `${label}: ${startsWith(head, XZ) ? 'xz' : 'bzip2'}-compressed layers are not supported`,
      {
        hint: 'layers may be plain tar or gzip',
      },
    );
  }
  return 'none';
}

export async function readHead(file: string, offset: number, length: number): Promise<Buffer> {
  const handle = await fsp.open(file, 'r');
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, offset);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** A decompressing transform, or undefined for plain tar. */
export function createDecompressor(compression: Compression): Transform | undefined {
  // Larger output chunks than zlib's 16 KiB default: fewer hops through the tar reader.
  return compression === 'gzip' ? zlib.createGunzip({ chunkSize: 128 * 1024 }) : undefined;
}
