/**
 * ADD of a local archive: telling a tar archive (plain, gzip, zstd, xz or bzip2) from any other
 * file by its content, as docker's ADD does, and writing its entries under the destination.
 * gzip and zstd are decoded in this process (zlib, fzstd); xz and bzip2 through Debian's `xz` and
 * `bzip2` programs, fed the file on stdin, since Node has no decoder for them.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import zlib from 'node:zlib';
import { ImageFormatError, InvalidArgumentError, UnsupportedError } from '../../errors.js';
import { createZstdDecompressor } from '../layer/compression.js';
import { layerPathComponents, WHITEOUT_PREFIX } from '../layer/unpack.js';
import { readTar } from '../tar/reader.js';
import type { LayerTarBuilder } from './layer-builder.js';

export type ArchiveKind = 'tar' | 'gzip' | 'zstd' | 'xz' | 'bzip2';

const MAGIC: Array<{ kind: ArchiveKind; bytes: number[] }> = [
  { kind: 'gzip', bytes: [0x1f, 0x8b] },
  { kind: 'zstd', bytes: [0x28, 0xb5, 0x2f, 0xfd] },
  { kind: 'xz', bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] },
  { kind: 'bzip2', bytes: [0x42, 0x5a, 0x68] },
];

/** The programs that decode what Node cannot, and the Debian package of each. */
const PROGRAMS: Partial<Record<ArchiveKind, { command: string; package: string }>> = {
  xz: { command: 'xz', package: 'xz-utils' },
  bzip2: { command: 'bzip2', package: 'bzip2' },
};

export function isTarHeader(block: Buffer): boolean {
  if (block.length < 512) return false;
  if (block.subarray(257, 262).toString('latin1') !== 'ustar') return false;
  let sum = 0;
  for (let index = 0; index < 512; index += 1)
    sum += index >= 148 && index < 156 ? 0x20 : (block[index] as number);
  const stored = parseInt(block.subarray(148, 156).toString('latin1').replace(/\0.*$/, '').trim(), 8);
  return stored === sum;
}

/** Runs `xz -dc` or `bzip2 -dc` on the file; its stdout is the decoded stream. */
function programStream(file: string, kind: ArchiveKind, label: string): Readable {
  const program = PROGRAMS[kind] as { command: string; package: string };
  const input = fs.openSync(file, 'r');
  const child = spawn(program.command, ['-dc'], { stdio: [input, 'pipe', 'pipe'] });
  fs.closeSync(input);
  const output = new PassThrough({ highWaterMark: 1 << 20 });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    if (stderr.length < 4096) stderr += chunk.toString('utf8');
  });
  child.stdout?.on('error', () => undefined);
  child.stdout?.pipe(output, { end: false });
  // The reader may stop early (detection reads one block): end the program with it.
  output.on('close', () => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  child.on('error', (error: NodeJS.ErrnoException) => {
    output.destroy(
      error.code === 'ENOENT'
        ? new UnsupportedError(`${label}: a ${kind} archive needs the ${program.command} program`, {
            hint: `install it (Debian package ${program.package}), or use a gzip or zstd tar`,
            cause: error,
          })
        : error,
    );
  });
  child.on('close', (code, signal) => {
    if (code === 0) output.end();
    else if (!output.destroyed)
      output.destroy(
        new ImageFormatError(
          `${label}: ${program.command} could not decode the archive (${signal ?? `exit ${code}`}): ${stderr.trim()}`,
          { hint: `check the file with ${program.command} -t` },
        ),
      );
  });
  return output;
}

/** The archive's tar stream, decompressed. */
export function openArchive(file: string, kind: ArchiveKind, label: string): Readable {
  const raw = (): Readable => fs.createReadStream(file, { highWaterMark: 1 << 20 });
  switch (kind) {
    case 'tar':
      return raw();
    case 'gzip':
      return raw().pipe(zlib.createGunzip({ chunkSize: 128 * 1024 }));
    case 'zstd':
      return raw().pipe(createZstdDecompressor(label));
    default:
      return programStream(file, kind, label);
  }
}

/** The first `length` bytes of a stream (fewer if it ends), then the stream is let go. */
async function firstBytes(stream: Readable, length: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of stream) {
      chunks.push(chunk as Buffer);
      total += (chunk as Buffer).length;
      if (total >= length) break;
    }
  } finally {
    stream.destroy();
  }
  return Buffer.concat(chunks).subarray(0, length);
}

/**
 * Tells whether the file is a tar archive, and how it is compressed, by its content. A compressed
 * file that does not hold a tar is no archive (ADD copies it as it is, as docker does); a
 * compressed file that cannot be decoded at all is not one either.
 */
export async function archiveKind(file: string, label: string): Promise<ArchiveKind | undefined> {
  const head = Buffer.alloc(512);
  const fd = fs.openSync(file, 'r');
  let count: number;
  try {
    count = fs.readSync(fd, head, 0, 512, 0);
  } finally {
    fs.closeSync(fd);
  }
  const kind = MAGIC.find(
    ({ bytes }) => count >= bytes.length && bytes.every((byte, i) => head[i] === byte),
  )?.kind;
  if (!kind) return count === 512 && isTarHeader(head) ? 'tar' : undefined;
  try {
    return isTarHeader(await firstBytes(openArchive(file, kind, label), 512)) ? kind : undefined;
  } catch (error) {
    // Without the program there is no telling: say so rather than copy the file silently.
    if (error instanceof UnsupportedError) throw error;
    return undefined;
  }
}

/** ADD of a local archive: its entries go under `target`, none may climb out. */
export async function extractArchive(
  builder: LayerTarBuilder,
  entry: { host: string; target: string; archive: ArchiveKind },
  owner: { uid: number; gid: number } | undefined,
  chmod: number | undefined,
): Promise<void> {
  const label = `ADD ${path.basename(entry.host)}`;
  const stream = openArchive(entry.host, entry.archive, label);
  const written = new Map<string, string>();
  try {
    for await (const item of readTar(stream, { label })) {
      const { header } = item;
      const components = layerPathComponents(header.path, label);
      if (components.length === 0) continue;
      const base = components.at(-1) as string;
      if (base.startsWith(WHITEOUT_PREFIX)) {
        throw new InvalidArgumentError(
          `${label}: the archive holds "${header.path}", a name image layers reserve for deletions`,
          {
            hint: 'rename the file; names starting with .wh. cannot be stored in a layer',
          },
        );
      }
      const imagePath = path.posix.join(entry.target, ...components);
      const common = {
        path: imagePath,
        mode: chmod ?? header.mode,
        uid: owner?.uid ?? header.uid,
        gid: owner?.gid ?? header.gid,
        mtime: Math.floor(header.mtime),
        ...(header.xattrs.size > 0 ? { xattrs: header.xattrs } : {}),
      };
      let target: string;
      switch (header.type) {
        case 'file':
          target = await builder.add({ ...common, type: 'file', size: header.size }, item.body());
          break;
        case 'directory':
          target = await builder.add({ ...common, type: 'directory' });
          break;
        case 'symlink':
          target = await builder.add({ ...common, type: 'symlink', linkPath: header.linkPath });
          break;
        case 'hardlink': {
          const linked = written.get(layerPathComponents(header.linkPath, label).join('/'));
          if (linked === undefined) {
            throw new InvalidArgumentError(
              `${label}: "${header.path}" is a hard link to "${header.linkPath}", which is not an earlier entry of the archive`,
            );
          }
          target = await builder.add({ ...common, type: 'hardlink', linkPath: linked });
          break;
        }
        default:
          target = await builder.add({
            ...common,
            type: header.type,
            devMajor: header.devMajor,
            devMinor: header.devMinor,
          });
      }
      written.set(components.join('/'), target.slice(1));
    }
  } finally {
    stream.destroy();
  }
}
