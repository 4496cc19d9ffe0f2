/**
 * Random access to a tar file on disk: one pass over the headers only (seeking past the data)
 * builds an index, then any entry's content can be streamed by offset. Image archives are read
 * this way, so a multi-gigabyte `docker save` file is never extracted to disk.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { ImageFormatError } from '../../errors.js';
import {
  BLOCK_SIZE,
  HeaderAssembler,
  MAX_META_SIZE,
  META_TYPES,
  blocksFor,
  decodeRawHeader,
  isZeroBlock,
  type TarHeader,
} from './header.js';

export interface IndexedTarEntry {
  header: TarHeader;
  /** Offset of the first content byte. */
  dataOffset: number;
  /** Normalized path (no "./", no leading or trailing "/"). */
  path: string;
}

/**
 * Normalizes a path inside an archive, resolving "." and ".." lexically. Returns undefined
 * when ".." climbs above the archive root.
 */
export function normalizeArchivePath(name: string): string | undefined {
  const parts: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length === 0) return undefined;
      parts.pop();
    } else parts.push(part);
  }
  return parts.join('/');
}

const MAX_LINK_HOPS = 40;

export class TarFileIndex {
  private constructor(
    readonly file: string,
    readonly fileSize: number,
    private readonly entries: Map<string, IndexedTarEntry>,
  ) {}

  /** Indexes `file`; `label` names it in error messages. */
  static async open(file: string, label = file): Promise<TarFileIndex> {
    const handle = await fsp.open(file, 'r');
    try {
      const { size: fileSize } = await handle.stat();
      const entries = new Map<string, IndexedTarEntry>();
      const assembler = new HeaderAssembler();
      const block = Buffer.alloc(BLOCK_SIZE);
      const truncated = (what: string): ImageFormatError =>
        new ImageFormatError(`truncated tar archive ${label}: it ends (at byte ${fileSize}) inside ${what}`, {
          hint: 'the file was cut short (an interrupted download or copy?); get a complete copy',
        });
      let offset = 0;
      for (;;) {
        const { bytesRead } = await handle.read(block, 0, BLOCK_SIZE, offset);
        if (bytesRead === 0) break;
        if (bytesRead < BLOCK_SIZE) throw truncated(`the header at byte ${offset}`);
        if (isZeroBlock(block)) break;
        const raw = decodeRawHeader(block, offset);
        const dataOffset = offset + BLOCK_SIZE;
        if (META_TYPES.has(raw.typeflag)) {
          if (raw.size > MAX_META_SIZE) {
            throw new ImageFormatError(
              `corrupt tar archive ${label}: a ${raw.size}-byte extended header at byte ${offset}`,
            );
          }
          const data = Buffer.alloc(raw.size);
          const { bytesRead: metaRead } = await handle.read(data, 0, raw.size, dataOffset);
          if (metaRead < raw.size) throw truncated(`the extended header at byte ${offset}`);
          assembler.addMeta(raw.typeflag, data, offset);
          offset = dataOffset + blocksFor(raw.size);
          continue;
        }
        const { header, dataSize } = assembler.finish(raw, offset);
        if (dataOffset + dataSize > fileSize) {
          throw truncated(header ? `the content of "${header.path}"` : `the entry at byte ${offset}`);
        }
        if (header) {
          const normalized = normalizeArchivePath(header.path);
          if (normalized === undefined) {
            throw new ImageFormatError(
              `corrupt image archive ${label}: entry "${header.path}" points outside the archive`,
            );
          }
          // Later entries replace earlier ones with the same name, as when extracting.
          if (normalized !== '') entries.set(normalized, { header, dataOffset, path: normalized });
        }
        offset = dataOffset + blocksFor(dataSize);
      }
      return new TarFileIndex(file, fileSize, entries);
    } finally {
      await handle.close();
    }
  }

  /** Paths of all entries, in archive order. */
  paths(): string[] {
    return [...this.entries.keys()];
  }

  get(name: string): IndexedTarEntry | undefined {
    const normalized = normalizeArchivePath(name);
    return normalized === undefined ? undefined : this.entries.get(normalized);
  }

  /**
   * The entry at `name`, following symlinks and hard links inside the archive (`docker save`
   * links duplicate layers to one copy). Undefined when missing or when a link leaves the archive.
   */
  resolve(name: string): IndexedTarEntry | undefined {
    let current = normalizeArchivePath(name);
    for (let hop = 0; hop <= MAX_LINK_HOPS && current !== undefined; hop += 1) {
      const entry = this.entries.get(current);
      if (!entry) return undefined;
      const { type, linkPath } = entry.header;
      if (type === 'symlink') {
        current = linkPath.startsWith('/')
          ? normalizeArchivePath(linkPath)
          : normalizeArchivePath(path.posix.join(path.posix.dirname(current), linkPath));
      } else if (type === 'hardlink') {
        current = normalizeArchivePath(linkPath);
      } else {
        return entry;
      }
    }
    return undefined;
  }

  /** The content of an entry as a stream. */
  createReadStream(entry: IndexedTarEntry, highWaterMark = 1 << 20): Readable {
    if (entry.header.size === 0) return Readable.from([]);
    return fs.createReadStream(this.file, {
      start: entry.dataOffset,
      end: entry.dataOffset + entry.header.size - 1,
      highWaterMark,
    });
  }

  /** Reads a small entry into memory; refuses anything larger than `maxBytes`. */
  async readFile(entry: IndexedTarEntry, maxBytes: number): Promise<Buffer> {
    if (entry.header.size > maxBytes) {
      throw new ImageFormatError(
        `image archive ${this.file}: "${entry.path}" is ${entry.header.size} bytes, more than the ${maxBytes} allowed for it`,
      );
    }
    const handle = await fsp.open(this.file, 'r');
    try {
      const data = Buffer.alloc(entry.header.size);
      const { bytesRead } = await handle.read(data, 0, data.length, entry.dataOffset);
      if (bytesRead < data.length)
        throw new ImageFormatError(`truncated tar archive ${this.file}: "${entry.path}" is cut short`);
      return data;
    } finally {
      await handle.close();
    }
  }
}
