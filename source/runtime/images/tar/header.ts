/**
 * Tar headers: the 512-byte ustar/GNU block, pax extended records and GNU long names, decoded into
 * one `TarHeader` per real entry. Shared by the streaming reader and the random-access index so
 * both interpret an archive the same way.
 */
import { ImageFormatError } from '../../errors.js';

export const BLOCK_SIZE = 512;

export type TarEntryType = 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'directory' | 'fifo';

export interface TarHeader {
  /** Path as stored (may start with "./" or "/", directories may end with "/"). */
  path: string;
  type: TarEntryType;
  /** Permission bits including setuid, setgid and sticky (07777). */
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  /** Bytes of file content (0 for everything but regular files). */
  size: number;
  /** Seconds since the epoch; pax headers give sub-second precision. */
  mtime: number;
  atime: number | undefined;
  /** Target of a symlink or hard link. */
  linkPath: string;
  devMajor: number;
  devMinor: number;
  /** Extended attributes from pax records (SCHILY.xattr.*, LIBARCHIVE.xattr.*). */
  xattrs: Map<string, Buffer>;
}

/** The fields of one header block, before pax or GNU overrides apply. */
export interface RawHeader {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  typeflag: string;
  linkname: string;
  uname: string;
  gname: string;
  devMajor: number;
  devMinor: number;
  /** Whether data blocks follow (regular files and the metadata entries). */
  hasData: boolean;
}

/** Types whose data is metadata for the next entry. */
export const META_TYPES = new Set(['x', 'g', 'L', 'K']);
/** Pax and long-name data lives in memory; nothing legitimate comes close to this. */
export const MAX_META_SIZE = 64 << 20;

function readString(block: Buffer, start: number, length: number): string {
  const end = block.indexOf(0, start);
  const stop = end === -1 || end > start + length ? start + length : end;
  return block.toString('utf8', start, stop);
}

function readNumber(block: Buffer, start: number, length: number, field: string): number {
  const first = block[start] ?? 0;
  if (first & 0x80) {
    // GNU base-256: big-endian two's complement with the top bit of the first byte as a marker.
    const negative = (first & 0x40) !== 0;
    let value = BigInt(first & 0x7f) - (negative ? 0x80n : 0n);
    for (let index = start + 1; index < start + length; index += 1)
      value = (value << 8n) | BigInt(block[index] ?? 0);
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new ImageFormatError(`corrupt tar header: the ${field} field is out of range`);
    }
    return Number(value);
  }
  const text = block
    .toString('latin1', start, start + length)
    .replace(/[\0 ]+$/, '')
    .replace(/^[ \0]+/, '');
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) {
    throw new ImageFormatError(`corrupt tar header: the ${field} field is not an octal number ("${text}")`);
  }
  return parseInt(text, 8);
}

function checksumMatches(block: Buffer): boolean {
  const stored = readNumber(block, 148, 8, 'checksum');
  let unsigned = 0;
  let signed = 0;
  for (let index = 0; index < BLOCK_SIZE; index += 1) {
    const byte = index >= 148 && index < 156 ? 0x20 : (block[index] as number);
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  return stored === unsigned || stored === signed;
}

export function isZeroBlock(block: Buffer): boolean {
  for (let index = 0; index < BLOCK_SIZE; index += 1) if (block[index] !== 0) return false;
  return true;
}

/** Decodes one header block; `offset` is its position in the archive, for messages. */
export function decodeRawHeader(block: Buffer, offset: number): RawHeader {
  if (!checksumMatches(block)) {
    throw new ImageFormatError(`corrupt tar archive: bad header checksum at byte ${offset}`, {
      hint: 'the file is damaged or is not a tar archive',
    });
  }
  const magic = block.toString('latin1', 257, 263);
  const isPosixUstar = magic === 'ustar\0';
  let name = readString(block, 0, 100);
  // GNU tar ("ustar  \0") keeps atime/ctime where POSIX keeps the name prefix.
  if (isPosixUstar) {
    const prefix = readString(block, 345, 155);
    if (prefix !== '') name = `${prefix}/${name}`;
  }
  let typeflag = String.fromCharCode(block[156] ?? 0);
  if (typeflag === '\0') typeflag = '0';
  const size = readNumber(block, 124, 12, 'size');
  const hasData = typeflag === '0' || typeflag === '7' || typeflag === 'D' || META_TYPES.has(typeflag);
  return {
    name,
    mode: readNumber(block, 100, 8, 'mode'),
    uid: readNumber(block, 108, 8, 'uid'),
    gid: readNumber(block, 116, 8, 'gid'),
    size: hasData ? size : 0,
    mtime: readNumber(block, 136, 12, 'mtime'),
    typeflag,
    linkname: readString(block, 157, 100),
    uname: readString(block, 265, 32),
    gname: readString(block, 297, 32),
    devMajor: typeflag === '3' || typeflag === '4' ? readNumber(block, 329, 8, 'devmajor') : 0,
    devMinor: typeflag === '3' || typeflag === '4' ? readNumber(block, 337, 8, 'devminor') : 0,
    hasData,
  };
}

/** Pax records keep their values as bytes: xattr values are binary. */
export type PaxRecords = Map<string, Buffer>;

export function parsePaxRecords(data: Buffer, offset: number): PaxRecords {
  const records: PaxRecords = new Map();
  let position = 0;
  while (position < data.length) {
    // A NUL-padded tail is tolerated (some writers pad the record block).
    if (data[position] === 0) break;
    const space = data.indexOf(0x20, position);
    const lengthText = space === -1 ? '' : data.toString('latin1', position, space);
    const length = /^[0-9]+$/.test(lengthText) ? parseInt(lengthText, 10) : NaN;
    if (
      !Number.isFinite(length) ||
      length <= 0 ||
      position + length > data.length ||
      data[position + length - 1] !== 0x0a
    ) {
      throw new ImageFormatError(
        `corrupt tar archive: malformed pax record in the extended header at byte ${offset}`,
      );
    }
    const record = data.subarray(space + 1, position + length - 1);
    const equals = record.indexOf(0x3d);
    if (equals <= 0) {
      throw new ImageFormatError(`corrupt tar archive: pax record without a key at byte ${offset}`);
    }
    records.set(record.toString('utf8', 0, equals), Buffer.from(record.subarray(equals + 1)));
    position += length;
  }
  return records;
}

function paxNumber(value: Buffer, key: string, integer: boolean): number {
  const text = value.toString('latin1');
  const pattern = integer ? /^[0-9]+$/ : /^-?[0-9]+(\.[0-9]+)?$/;
  if (!pattern.test(text))
    throw new ImageFormatError(`corrupt tar archive: pax record ${key}="${text}" is not a number`);
  const number = Number(text);
  if (!Number.isSafeInteger(Math.trunc(number))) {
    throw new ImageFormatError(`corrupt tar archive: pax record ${key}="${text}" is out of range`);
  }
  return number;
}

const TYPE_BY_FLAG: Record<string, TarEntryType> = {
  '0': 'file',
  '7': 'file',
  '1': 'hardlink',
  '2': 'symlink',
  '3': 'char',
  '4': 'block',
  '5': 'directory',
  D: 'directory',
  '6': 'fifo',
};

/**
 * Turns the header blocks of an archive into entries: metadata entries (pax, GNU long names)
 * are remembered and applied to the next real entry.
 */
export class HeaderAssembler {
  private readonly globalPax: PaxRecords = new Map();
  private localPax: PaxRecords | undefined;
  private longName: string | undefined;
  private longLink: string | undefined;

  /** Records the data of a metadata entry (typeflag x, g, L or K). */
  addMeta(typeflag: string, data: Buffer, offset: number): void {
    switch (typeflag) {
      case 'x':
        this.localPax = parsePaxRecords(data, offset);
        break;
      case 'g':
        for (const [key, value] of parsePaxRecords(data, offset)) this.globalPax.set(key, value);
        break;
      case 'L':
        this.longName = cString(data);
        break;
      case 'K':
        this.longLink = cString(data);
        break;
    }
  }

  /**
   * The complete header of a real entry and the number of data bytes that follow it (a GNU
   * dumpdir has data but is a directory). `header` is undefined for volume labels.
   */
  finish(raw: RawHeader, offset: number): { header: TarHeader | undefined; dataSize: number } {
    const pax = new Map(this.globalPax);
    for (const [key, value] of this.localPax ?? []) pax.set(key, value);
    const longName = this.longName;
    const longLink = this.longLink;
    this.localPax = undefined;
    this.longName = undefined;
    this.longLink = undefined;
    if (raw.typeflag === 'V') return { header: undefined, dataSize: raw.size };

    let path = longName ?? raw.name;
    let linkPath = longLink ?? raw.linkname;
    const header: TarHeader = {
      path,
      type: 'file',
      mode: raw.mode & 0o7777,
      uid: raw.uid,
      gid: raw.gid,
      uname: raw.uname,
      gname: raw.gname,
      size: raw.size,
      mtime: raw.mtime,
      atime: undefined,
      linkPath,
      devMajor: raw.devMajor,
      devMinor: raw.devMinor,
      xattrs: new Map(),
    };
    for (const [key, value] of pax) {
      if (value.length === 0) continue;
      if (key === 'path') path = value.toString('utf8');
      else if (key === 'linkpath') linkPath = value.toString('utf8');
      else if (key === 'size' && raw.hasData) header.size = paxNumber(value, key, true);
      else if (key === 'uid') header.uid = paxNumber(value, key, true);
      else if (key === 'gid') header.gid = paxNumber(value, key, true);
      else if (key === 'mtime') header.mtime = paxNumber(value, key, false);
      else if (key === 'atime') header.atime = paxNumber(value, key, false);
      else if (key === 'uname') header.uname = value.toString('utf8');
      else if (key === 'gname') header.gname = value.toString('utf8');
      else if (key.startsWith('SCHILY.xattr.')) header.xattrs.set(key.slice('SCHILY.xattr.'.length), value);
      else if (key.startsWith('LIBARCHIVE.xattr.')) {
        header.xattrs.set(
          decodeURIComponent(key.slice('LIBARCHIVE.xattr.'.length)),
          Buffer.from(value.toString('latin1'), 'base64'),
        );
      } else if (key.startsWith('GNU.sparse.')) {
        throw new ImageFormatError(
          `unsupported tar entry "${path}" at byte ${offset}: GNU sparse files are not supported`,
        );
      }
    }
    header.path = path;
    header.linkPath = linkPath;

    const type = TYPE_BY_FLAG[raw.typeflag];
    if (type === undefined) {
      const reason =
        raw.typeflag === 'S'
          ? 'GNU sparse files are not supported'
          : `entry type '${printable(raw.typeflag)}' is not supported`;
      throw new ImageFormatError(`unsupported tar entry "${path}" at byte ${offset}: ${reason}`);
    }
    // Pre-POSIX archives mark directories only by the trailing slash.
    header.type = type === 'file' && raw.typeflag === '0' && path.endsWith('/') ? 'directory' : type;
    const dataSize = header.size;
    if (header.type !== 'file') header.size = 0;
    return { header, dataSize };
  }
}

function cString(data: Buffer): string {
  const end = data.indexOf(0);
  return data.toString('utf8', 0, end === -1 ? data.length : end);
}

function printable(flag: string): string {
  const code = flag.charCodeAt(0);
  return code >= 0x20 && code < 0x7f ? flag : `\\x${code.toString(16).padStart(2, '0')}`;
}

/** Number of bytes of padding after `size` bytes of data. */
export function paddingFor(size: number): number {
  const remainder = size % BLOCK_SIZE;
  return remainder === 0 ? 0 : BLOCK_SIZE - remainder;
}

/** Bytes a data entry of `size` occupies after its header (data plus padding). */
export function blocksFor(size: number): number {
  return size + paddingFor(size);
}
