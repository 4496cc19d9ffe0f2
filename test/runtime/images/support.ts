/**
 * Helpers for the image integration tests: a private state root per test file, a buildah that
 * only ever touches its own temporary storage, and OCI layouts crafted from tar entries (for
 * layers no well-behaved tool would produce).
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import zlib from 'node:zlib';
import { sha256Digest } from '../../../source/runtime/images/digest.js';
import { MEDIA_TYPE } from '../../../source/runtime/images/media-types.js';
import { TarWriter, type TarEntryInput } from '../../../source/runtime/images/tar/writer.js';
import { testName } from '../../support/engine.js';

export const isRoot = process.getuid?.() === 0;

const execFileAsync = promisify(execFile);

export function hasCommand(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A temporary directory under /tmp named gantry-test-*, removed by `cleanup`. */
export function makeTempDirectory(label: string): string {
  return fs.mkdtempSync(path.join('/tmp', `${testName(label)}-`));
}

/** Runs buildah against private storage (vfs driver, temporary root/runroot); never the host's. */
export class Buildah {
  readonly base: string;

  constructor(parent: string) {
    this.base = path.join(parent, 'buildah');
    fs.mkdirSync(this.base, { recursive: true });
  }

  /**
   * `buildah ARGS`, its output trimmed. Asynchronous: a test worker blocked in a synchronous
   * child for a minute misses vitest's own messages (its worker RPC times out at 60 s).
   */
  async run(...args: string[]): Promise<string> {
    const { stdout } = await execFileAsync(
      'buildah',
      [
        '--root',
        path.join(this.base, 'root'),
        '--runroot',
        path.join(this.base, 'runroot'),
        '--storage-driver',
        'vfs',
        ...args,
      ],
      { encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, BUILDAH_ISOLATION: 'chroot' } },
    );
    return stdout.trim();
  }

  /** Removes containers and images, then the storage directory. */
  async cleanup(): Promise<void> {
    try {
      await this.run('rm', '--all');
      await this.run('rmi', '--all', '--force');
    } catch {
      // storage may be half-initialised; the directory goes anyway
    }
    fs.rmSync(this.base, { recursive: true, force: true });
  }
}

export interface CraftedEntry {
  entry: TarEntryInput;
  body?: Buffer;
}

export async function tarBuffer(entries: readonly CraftedEntry[]): Promise<Buffer> {
  const output = new PassThrough();
  const chunks: Buffer[] = [];
  output.on('data', (chunk: Buffer) => chunks.push(chunk));
  const writer = new TarWriter(output);
  for (const { entry, body } of entries) await writer.add(entry, body);
  await writer.finish();
  return Buffer.concat(chunks);
}

export interface CraftedLayer {
  /** The uncompressed tar. */
  tar: Buffer;
  gzip?: boolean;
  /** Overrides for what the manifest and config claim. */
  mediaType?: string;
  diffId?: string;
  blob?: Buffer;
}

export interface CraftedImage {
  layers: CraftedLayer[];
  name?: string;
  architecture?: string;
  config?: Record<string, unknown>;
}

function writeBlob(layoutDirectory: string, content: Buffer): { digest: string; size: number } {
  const digest = sha256Digest(content);
  fs.writeFileSync(path.join(layoutDirectory, 'blobs', 'sha256', digest.slice(7)), content);
  return { digest, size: content.length };
}

/** Writes the blobs of one image into a layout and returns its manifest descriptor. */
export function writeImageBlobs(
  layoutDirectory: string,
  image: CraftedImage,
): { mediaType: string; digest: string; size: number } {
  fs.mkdirSync(path.join(layoutDirectory, 'blobs', 'sha256'), { recursive: true });
  const layers = image.layers.map((layer) => {
    const blob = layer.blob ?? (layer.gzip ? zlib.gzipSync(layer.tar) : layer.tar);
    const written = writeBlob(layoutDirectory, blob);
    return {
      descriptor: {
        mediaType: layer.mediaType ?? (layer.gzip ? MEDIA_TYPE.ociLayerGzip : MEDIA_TYPE.ociLayer),
        ...written,
      },
      diffId: layer.diffId ?? sha256Digest(layer.tar),
    };
  });
  const config = writeBlob(
    layoutDirectory,
    Buffer.from(
      JSON.stringify({
        created: '2024-01-01T00:00:00Z',
        architecture: image.architecture ?? (process.arch === 'x64' ? 'amd64' : process.arch),
        os: 'linux',
        config: { Cmd: ['/bin/sh'] },
        rootfs: { type: 'layers', diff_ids: layers.map((layer) => layer.diffId) },
        ...image.config,
      }),
    ),
  );
  const manifest = writeBlob(
    layoutDirectory,
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPE.ociManifest,
        config: { mediaType: MEDIA_TYPE.ociConfig, ...config },
        layers: layers.map((layer) => layer.descriptor),
      }),
    ),
  );
  return { mediaType: MEDIA_TYPE.ociManifest, ...manifest };
}

export function writeIndex(layoutDirectory: string, manifests: unknown[]): void {
  fs.mkdirSync(layoutDirectory, { recursive: true });
  fs.writeFileSync(path.join(layoutDirectory, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  fs.writeFileSync(
    path.join(layoutDirectory, 'index.json'),
    JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPE.ociIndex, manifests }),
  );
}

/** An OCI layout directory holding one image made of the given layers. */
export function writeOciLayout(layoutDirectory: string, image: CraftedImage): string {
  fs.mkdirSync(layoutDirectory, { recursive: true });
  const manifest = writeImageBlobs(layoutDirectory, image);
  writeIndex(layoutDirectory, [
    {
      ...manifest,
      ...(image.name ? { annotations: { 'org.opencontainers.image.ref.name': image.name } } : {}),
    },
  ]);
  return layoutDirectory;
}

/** Every path under `directory` with its type and size, to prove nothing changed. */
export function snapshot(directory: string): string[] {
  const result: string[] = [];
  const walk = (current: string): void => {
    let names: string[];
    try {
      names = fs.readdirSync(current);
    } catch {
      return;
    }
    for (const name of names.sort()) {
      const file = path.join(current, name);
      const stats = fs.lstatSync(file);
      const kind = stats.isDirectory() ? 'd' : stats.isSymbolicLink() ? 'l' : stats.isFile() ? 'f' : 'o';
      result.push(`${kind} ${path.relative(directory, file)} ${stats.isFile() ? stats.size : ''}`);
      if (stats.isDirectory()) walk(file);
    }
  };
  walk(directory);
  return result;
}

/** The store's content, ignoring lock files and the journal's directory (they stay by design). */
export function storeContent(root: string): string[] {
  return snapshot(root).filter(
    (line) => !/^. locks(\/|$)|\/\.lock /.test(line) && !/^d (tmp|locks|journal)$/.test(line),
  );
}

/**
 * A valid zstd frame holding `data` in raw (stored) blocks: zstd without a zstd encoder, for
 * crafted zstd layers.
 */
export function zstdFrame(data: Buffer): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32LE(0xfd2fb528, 0);
  // Single segment, 8-byte content size, no checksum, no dictionary.
  header[4] = 0xe0;
  header.writeBigUInt64LE(BigInt(data.length), 5);
  const parts: Buffer[] = [header];
  const maxBlock = 128 * 1024;
  let offset = 0;
  do {
    const size = Math.min(maxBlock, data.length - offset);
    const last = offset + size >= data.length ? 1 : 0;
    const blockHeader = (size << 3) | last; // block type 0: raw
    parts.push(Buffer.from([blockHeader & 0xff, (blockHeader >> 8) & 0xff, (blockHeader >> 16) & 0xff]));
    parts.push(data.subarray(offset, offset + size));
    offset += size;
  } while (offset < data.length);
  return Buffer.concat(parts);
}
