/**
 * Tar writer for building layers. Output is POSIX pax: plain ustar headers while a value fits,
 * a pax extended header (sorted records, fixed name) when it does not, so the same input always
 * gives the same bytes and therefore the same layer digest.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { InvalidArgumentError, nameFullDisk } from '../../errors.js';
import { BLOCK_SIZE, paddingFor, type RawHeader, type TarEntryType } from './header.js';

export interface TarEntryInput {
  path: string;
  type: TarEntryType;
  /** Permission bits (07777); defaults to 0644 for files, 0755 for directories, 0777 for symlinks. */
  mode?: number;
  uid?: number;
  gid?: number;
  uname?: string;
  gname?: string;
  /** Seconds since the epoch; fractional and negative values are kept via pax. Default 0. */
  mtime?: number;
  /** Content size of a regular file; taken from a Buffer body when omitted. */
  size?: number;
  linkPath?: string;
  devMajor?: number;
  devMinor?: number;
  xattrs?: ReadonlyMap<string, Uint8Array> | Record<string, Uint8Array | string>;
}

const TYPEFLAG: Record<TarEntryType, string> = {
  file: '0',
  hardlink: '1',
  symlink: '2',
  char: '3',
  block: '4',
  directory: '5',
  fifo: '6',
};

const MAX_OCTAL_7 = 0o7777777;
const MAX_OCTAL_11 = 0o77777777777;

function isAscii(text: string): boolean {
  return /^[\x20-\x7e]*$/.test(text);
}

function writeString(block: Buffer, text: string, start: number, length: number): void {
  block.write(text, start, length, 'utf8');
}

function writeOctal(block: Buffer, value: number, start: number, length: number): void {
  block.write(`${value.toString(8).padStart(length - 1, '0')}\0`, start, length, 'latin1');
}

/** Splits a long path into ustar prefix and name at a "/", if one split fits both fields. */
function splitUstarPath(path: string): { prefix: string; name: string } | undefined {
  if (Buffer.byteLength(path) <= 100) return { prefix: '', name: path };
  for (let index = path.indexOf('/'); index !== -1; index = path.indexOf('/', index + 1)) {
    const prefix = path.slice(0, index);
    const name = path.slice(index + 1);
    if (prefix.length <= 155 && name.length > 0 && name.length <= 100) return { prefix, name };
    if (prefix.length > 155) break;
  }
  return undefined;
}

function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`, 'utf8'), value, Buffer.from('\n')]);
  // The length prefix counts its own digits.
  let length = body.length + 1;
  while (String(length).length + body.length !== length) length = String(length).length + body.length;
  return Buffer.concat([Buffer.from(String(length), 'latin1'), body]);
}

function xattrEntries(xattrs: TarEntryInput['xattrs']): Array<[string, Buffer]> {
  if (!xattrs) return [];
  const pairs: Array<[string, Uint8Array | string]> =
    xattrs instanceof Map ? [...(xattrs as ReadonlyMap<string, Uint8Array>)] : Object.entries(xattrs);
  return pairs.map(([name, value]) => [
    name,
    typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value),
  ]);
}

/** A header block: the fields header.ts reads back, the name split into ustar's prefix and name. */
function headerBlock(fields: Omit<RawHeader, 'hasData'> & { prefix: string }): Buffer {
  const block = Buffer.alloc(BLOCK_SIZE);
  writeString(block, fields.name, 0, 100);
  writeOctal(block, fields.mode, 100, 8);
  writeOctal(block, fields.uid, 108, 8);
  writeOctal(block, fields.gid, 116, 8);
  writeOctal(block, fields.size, 124, 12);
  writeOctal(block, fields.mtime, 136, 12);
  block.write(fields.typeflag, 156, 1, 'latin1');
  writeString(block, fields.linkname, 157, 100);
  block.write('ustar\0' + '00', 257, 8, 'latin1');
  writeString(block, fields.uname, 265, 32);
  writeString(block, fields.gname, 297, 32);
  writeOctal(block, fields.devMajor, 329, 8);
  writeOctal(block, fields.devMinor, 337, 8);
  writeString(block, fields.prefix, 345, 155);
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return block;
}

/**
 * Header blocks for one entry: a pax extended header when needed, then the ustar header.
 * Pure, so tests and other writers can use it directly.
 */
export function encodeTarHeader(entry: TarEntryInput, size = entry.size ?? 0): Buffer {
  if (entry.path === '') throw new InvalidArgumentError('tar entry path is empty');
  const isFile = entry.type === 'file';
  const dataSize = isFile ? size : 0;
  const pax = new Map<string, Buffer>();
  let path = entry.path;
  if (entry.type === 'directory' && !path.endsWith('/')) path += '/';

  let split = isAscii(path) ? splitUstarPath(path) : undefined;
  if (!split) {
    pax.set('path', Buffer.from(path, 'utf8'));
    split = {
      prefix: '',
      name: Buffer.from(path, 'utf8')
        .subarray(0, 100)
        .toString('latin1')
        .replace(/[^\x20-\x7e]/g, '_'),
    };
  }
  let linkname = entry.linkPath ?? '';
  if (Buffer.byteLength(linkname) > 100 || !isAscii(linkname)) {
    pax.set('linkpath', Buffer.from(linkname, 'utf8'));
    linkname = '';
  }
  const uid = entry.uid ?? 0;
  const gid = entry.gid ?? 0;
  if (uid > MAX_OCTAL_7) pax.set('uid', Buffer.from(String(uid)));
  if (gid > MAX_OCTAL_7) pax.set('gid', Buffer.from(String(gid)));
  if (dataSize > MAX_OCTAL_11) pax.set('size', Buffer.from(String(dataSize)));
  const mtime = entry.mtime ?? 0;
  const wholeMtime = Math.floor(mtime);
  if (mtime !== wholeMtime || mtime < 0 || mtime > MAX_OCTAL_11) {
    pax.set('mtime', Buffer.from(formatPaxTime(mtime)));
  }
  let uname = entry.uname ?? '';
  let gname = entry.gname ?? '';
  if (Buffer.byteLength(uname) > 32 || !isAscii(uname)) {
    pax.set('uname', Buffer.from(uname, 'utf8'));
    uname = '';
  }
  if (Buffer.byteLength(gname) > 32 || !isAscii(gname)) {
    pax.set('gname', Buffer.from(gname, 'utf8'));
    gname = '';
  }
  for (const [name, value] of xattrEntries(entry.xattrs)) pax.set(`SCHILY.xattr.${name}`, value);

  const defaultMode = entry.type === 'directory' ? 0o755 : entry.type === 'symlink' ? 0o777 : 0o644;
  const main = headerBlock({
    name: split.name,
    prefix: split.prefix,
    mode: (entry.mode ?? defaultMode) & 0o7777,
    uid: Math.min(uid, MAX_OCTAL_7),
    gid: Math.min(gid, MAX_OCTAL_7),
    size: Math.min(dataSize, MAX_OCTAL_11),
    mtime: Math.min(Math.max(wholeMtime, 0), MAX_OCTAL_11),
    typeflag: TYPEFLAG[entry.type],
    linkname,
    uname,
    gname,
    devMajor: entry.devMajor ?? 0,
    devMinor: entry.devMinor ?? 0,
  });
  if (pax.size === 0) return main;

  const records = Buffer.concat([...pax.keys()].sort().map((key) => paxRecord(key, pax.get(key) as Buffer)));
  const baseName = path.replace(/\/+$/, '').split('/').pop() ?? 'entry';
  const paxName = `PaxHeaders/${Buffer.from(baseName, 'utf8')
    .subarray(0, 80)
    .toString('latin1')
    .replace(/[^\x20-\x7e]/g, '_')}`;
  const paxHeader = headerBlock({
    name: paxName,
    prefix: '',
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: records.length,
    mtime: Math.min(Math.max(wholeMtime, 0), MAX_OCTAL_11),
    typeflag: 'x',
    linkname: '',
    uname: '',
    gname: '',
    devMajor: 0,
    devMinor: 0,
  });
  return Buffer.concat([paxHeader, records, Buffer.alloc(paddingFor(records.length)), main]);
}

function formatPaxTime(seconds: number): string {
  // Nanosecond precision at most, without float noise ("1.5", not "1.50000000001").
  const fixed = seconds.toFixed(9).replace(/0+$/, '').replace(/\.$/, '');
  return fixed === '-0' ? '0' : fixed;
}

/** The two zero blocks that end an archive. */
export const END_OF_ARCHIVE = Buffer.alloc(BLOCK_SIZE * 2);

/** Writes entries to a stream, honouring backpressure. */
export class TarWriter {
  private written = 0;
  private finished = false;
  /** The output's failure (a full disk), thrown by the next write instead of crashing the process. */
  private failure: unknown;

  constructor(private readonly output: Writable) {
    // A write that fails after write() returned true is reported by an 'error' event; without a
    // listener Node would end the process with a stack trace.
    output.on('error', (error) => (this.failure ??= this.named(error)));
  }

  /** A full disk names the file being written (a file stream knows its path). */
  private named(error: unknown): unknown {
    const file = (this.output as Writable & { path?: unknown }).path;
    return typeof file === 'string' ? nameFullDisk(error, file) : error;
  }

  /** Bytes written so far. */
  get bytesWritten(): number {
    return this.written;
  }

  private async write(chunk: Buffer): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    if (chunk.length === 0) return;
    this.written += chunk.length;
    if (!this.output.write(chunk)) {
      try {
        await once(this.output, 'drain');
      } catch (error) {
        throw this.named(error);
      }
    }
  }

  /**
   * Adds one entry. A regular file's content is a Buffer or a stream of chunks whose total
   * length must equal `entry.size`.
   */
  async add(entry: TarEntryInput, body?: Uint8Array | AsyncIterable<Uint8Array>): Promise<void> {
    if (this.finished) throw new Error('tar writer already finished');
    if (entry.type !== 'file') {
      if (body !== undefined)
        throw new InvalidArgumentError(`tar entry "${entry.path}": only regular files have content`);
      await this.write(encodeTarHeader(entry, 0));
      return;
    }
    const size = entry.size ?? (body instanceof Uint8Array ? body.length : undefined);
    if (size === undefined)
      throw new InvalidArgumentError(`tar entry "${entry.path}": a streamed body needs a size`);
    await this.write(encodeTarHeader(entry, size));
    let count = 0;
    if (body instanceof Uint8Array) {
      count = body.length;
      if (count === size) await this.write(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
    } else if (body !== undefined) {
      for await (const chunk of body) {
        count += chunk.length;
        if (count > size) break;
        await this.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      }
    }
    if (count !== size) {
      throw new InvalidArgumentError(
        `tar entry "${entry.path}": content has ${count} bytes, the header says ${size}`,
      );
    }
    await this.write(Buffer.alloc(paddingFor(size)));
  }

  /** Writes the end-of-archive marker and ends the output stream. */
  async finish(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    await this.write(END_OF_ARCHIVE);
    this.output.end();
    // Waits for 'close' too when the stream has one, so a file is complete on disk afterwards.
    try {
      await finished(this.output);
    } catch (error) {
      throw this.named(error);
    }
  }
}
