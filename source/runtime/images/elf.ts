/**
 * Just enough ELF to copy a dynamically linked program into an image: its interpreter
 * (PT_INTERP, the loader path that must be preserved) and the libraries it needs (DT_NEEDED,
 * with DT_RPATH/DT_RUNPATH). Reading the file ourselves avoids ldd, which runs the loader on it.
 */
import { ImageFormatError } from '../errors.js';

export interface ElfInfo {
  /** 32 or 64. */
  bits: 32 | 64;
  littleEndian: boolean;
  /** e_machine: binaries and libraries must agree on it. */
  machine: number;
  /** Program interpreter (the dynamic loader), absent for static binaries. */
  interpreter: string | undefined;
  /** DT_NEEDED sonames, in order. */
  needed: string[];
  rpath: string[];
  runpath: string[];
  /** No interpreter and no needed libraries (static, including static-pie). */
  isStatic: boolean;
}

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const DT_NULL = 0;
const DT_NEEDED = 1;
const DT_STRTAB = 5;
const DT_RPATH = 15;
const DT_RUNPATH = 29;

export function isElf(data: Uint8Array): boolean {
  return data.length >= 4 && data[0] === 0x7f && data[1] === 0x45 && data[2] === 0x4c && data[3] === 0x46;
}

/** Parses an ELF file held in memory; `file` names it in errors. */
export function parseElf(data: Buffer, file: string): ElfInfo {
  if (!isElf(data)) throw new ImageFormatError(`${file} is not an ELF file`);
  const bits = data[4] === 2 ? 64 : data[4] === 1 ? 32 : undefined;
  const littleEndian = data[5] === 1;
  if (bits === undefined || (data[5] !== 1 && data[5] !== 2))
    throw new ImageFormatError(`${file}: unknown ELF class or byte order`);
  const corrupt = (): ImageFormatError => new ImageFormatError(`${file}: truncated or corrupt ELF file`);

  const u16 = (offset: number): number => {
    if (offset + 2 > data.length) throw corrupt();
    return littleEndian ? data.readUInt16LE(offset) : data.readUInt16BE(offset);
  };
  const u32 = (offset: number): number => {
    if (offset + 4 > data.length) throw corrupt();
    return littleEndian ? data.readUInt32LE(offset) : data.readUInt32BE(offset);
  };
  const word = (offset: number): number => {
    if (bits === 32) return u32(offset);
    if (offset + 8 > data.length) throw corrupt();
    const value = littleEndian ? data.readBigUInt64LE(offset) : data.readBigUInt64BE(offset);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt();
    return Number(value);
  };

  const machine = u16(18);
  const phoff = word(bits === 64 ? 0x20 : 0x1c);
  const phentsize = u16(bits === 64 ? 0x36 : 0x2a);
  const phnum = u16(bits === 64 ? 0x38 : 0x2c);

  interface Segment {
    type: number;
    offset: number;
    vaddr: number;
    filesz: number;
  }
  const segments: Segment[] = [];
  for (let index = 0; index < phnum; index += 1) {
    const base = phoff + index * phentsize;
    segments.push(
      bits === 64
        ? { type: u32(base), offset: word(base + 8), vaddr: word(base + 16), filesz: word(base + 32) }
        : { type: u32(base), offset: u32(base + 4), vaddr: u32(base + 8), filesz: u32(base + 16) },
    );
  }

  const cString = (offset: number): string => {
    const end = data.indexOf(0, offset);
    if (offset >= data.length || end === -1) throw corrupt();
    return data.toString('utf8', offset, end);
  };
  const fileOffset = (address: number): number => {
    const load = segments.find(
      (segment) =>
        segment.type === PT_LOAD && address >= segment.vaddr && address < segment.vaddr + segment.filesz,
    );
    if (!load) throw corrupt();
    return address - load.vaddr + load.offset;
  };

  const interpSegment = segments.find((segment) => segment.type === PT_INTERP);
  const interpreter = interpSegment ? cString(interpSegment.offset) : undefined;

  const needed: string[] = [];
  const rpath: string[] = [];
  const runpath: string[] = [];
  const dynamic = segments.find((segment) => segment.type === PT_DYNAMIC);
  if (dynamic) {
    const entrySize = bits === 64 ? 16 : 8;
    const entries: Array<[number, number]> = [];
    for (
      let offset = dynamic.offset;
      offset + entrySize <= dynamic.offset + dynamic.filesz;
      offset += entrySize
    ) {
      const tag = word(offset);
      if (tag === DT_NULL) break;
      entries.push([tag, word(offset + entrySize / 2)]);
    }
    const strtab = entries.find(([tag]) => tag === DT_STRTAB);
    if (strtab) {
      const table = fileOffset(strtab[1]);
      for (const [tag, value] of entries) {
        if (tag === DT_NEEDED) needed.push(cString(table + value));
        else if (tag === DT_RPATH)
          rpath.push(
            ...cString(table + value)
              .split(':')
              .filter(Boolean),
          );
        else if (tag === DT_RUNPATH)
          runpath.push(
            ...cString(table + value)
              .split(':')
              .filter(Boolean),
          );
      }
    }
  }
  return {
    bits,
    littleEndian,
    machine,
    interpreter,
    needed,
    rpath,
    runpath,
    isStatic: interpreter === undefined && needed.length === 0,
  };
}
