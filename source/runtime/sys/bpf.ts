/**
 * Typed wrappers over the bpf(2) commands the cgroup v2 device filter needs: load a program,
 * attach it to a cgroup, list and detach what is attached there. Each command's part of
 * union bpf_attr is laid out by hand in memory outside the JavaScript heap, because the kernel
 * reads the addresses of other buffers (instructions, license, log) from it. None of these calls
 * changes per-thread state, so they are safe from Node's multithreaded process.
 */
import fs from 'node:fs';
import { endianness } from 'node:os';
import { SyscallError } from '../errors.js';
import { allocNative, bpf, type NativeBuffer } from './libc.js';

const BPF_PROG_LOAD = 5;
const BPF_PROG_ATTACH = 8;
const BPF_PROG_DETACH = 9;
const BPF_PROG_GET_FD_BY_ID = 13;
const BPF_PROG_QUERY = 16;

export const BPF_PROG_TYPE_CGROUP_DEVICE = 15;
export const BPF_CGROUP_DEVICE = 6;
export const BPF_F_ALLOW_MULTI = 2;

/** BPF_OBJ_NAME_LEN: a program name has at most 15 characters and a NUL. */
const OBJ_NAME_LEN = 16;
/** A cgroup holds at most 64 programs per attach type (BPF_CGROUP_MAX_PROGS). */
const MAX_CGROUP_PROGRAMS = 64;
const VERIFIER_LOG_SIZE = 256 * 1024;

/** Runs `use` with zeroed native buffers of the given sizes, freed afterwards. */
function withNative<T>(sizes: number[], use: (...buffers: NativeBuffer[]) => T): T {
  const buffers = sizes.map((size) => allocNative(size));
  try {
    return use(...buffers);
  } finally {
    for (const buffer of buffers) buffer.free();
  }
}

// union bpf_attr is in the host's byte order.
const littleEndian = endianness() === 'LE';

function putU32(bytes: Buffer, value: number, offset: number): void {
  if (littleEndian) bytes.writeUInt32LE(value, offset);
  else bytes.writeUInt32BE(value, offset);
}

function putU64(bytes: Buffer, value: bigint, offset: number): void {
  if (littleEndian) bytes.writeBigUInt64LE(value, offset);
  else bytes.writeBigUInt64BE(value, offset);
}

function getU32(bytes: Buffer, offset: number): number {
  return littleEndian ? bytes.readUInt32LE(offset) : bytes.readUInt32BE(offset);
}

function cString(text: string): Buffer {
  return Buffer.from(`${text}\0`, 'utf8');
}

export interface LoadProgramOptions {
  /** BPF_PROG_TYPE_*. */
  type: number;
  /** struct bpf_insn[] as encoded for this host. */
  instructions: Buffer;
  /** Decides which helpers the program may call; a program that calls none can name any. */
  license: string;
  /** Shown by bpftool; letters, digits, "_" and "." only, at most 15. */
  name?: string;
  /** BPF_* attach type, where the program type wants one at load time. */
  expectedAttachType?: number;
}

/** A program the verifier refused, with what the verifier said. */
export class BpfVerifierError extends SyscallError {
  readonly log: string;

  constructor(errno: number, code: string, log: string) {
    super('bpf(BPF_PROG_LOAD)', errno, code, undefined, `verifier: ${lastLines(log, 8)}`);
    this.log = log;
  }
}

function lastLines(log: string, count: number): string {
  const lines = log.split('\n').filter((line) => line.trim() !== '');
  return lines.length === 0 ? 'no log' : lines.slice(-count).join(' | ');
}

function loadOnce(
  options: LoadProgramOptions,
  logSize: number,
): { fd: number } | { error: SyscallError; log: string } {
  const { instructions } = options;
  const license = cString(options.license);
  // union bpf_attr, the BPF_PROG_LOAD part up to expected_attach_type (Linux 4.17).
  return withNative([72, instructions.length, license.length, logSize], (attr, insns, lic, log) => {
    instructions.copy(insns.bytes);
    license.copy(lic.bytes);
    const a = attr.bytes;
    putU32(a, options.type, 0); // prog_type
    putU32(a, instructions.length / 8, 4); // insn_cnt
    putU64(a, insns.address, 8); // insns
    putU64(a, lic.address, 16); // license
    if (logSize > 0) {
      putU32(a, 1, 24); // log_level
      putU32(a, logSize, 28); // log_size
      putU64(a, log.address, 32); // log_buf
    }
    if (options.name) a.write(options.name.slice(0, OBJ_NAME_LEN - 1), 48, 'utf8'); // prog_name
    putU32(a, options.expectedAttachType ?? 0, 68); // expected_attach_type
    try {
      return { fd: bpf(BPF_PROG_LOAD, attr, 72, 'bpf(BPF_PROG_LOAD)') };
    } catch (error) {
      if (!(error instanceof SyscallError)) throw error;
      const end = log.bytes.indexOf(0);
      return { error, log: log.bytes.subarray(0, end < 0 ? undefined : end).toString('utf8') };
    }
  });
}

/**
 * bpf(BPF_PROG_LOAD): returns the program's fd (the caller closes it). A program the verifier
 * refuses throws BpfVerifierError with the verifier's log; other failures a SyscallError.
 */
export function loadProgram(options: LoadProgramOptions): number {
  if (options.instructions.length === 0 || options.instructions.length % 8 !== 0) {
    throw new RangeError(
      `a BPF program is a whole number of 8-byte instructions, not ${options.instructions.length} bytes`,
    );
  }
  // Without a log first: a log too small for a program the verifier accepts fails the load
  // (ENOSPC), and the log is only wanted to explain a refusal.
  const first = loadOnce(options, 0);
  if ('fd' in first) return first.fd;
  const { error } = first;
  if (error.code !== 'EINVAL' && error.code !== 'EACCES') throw error;
  const retry = loadOnce(options, VERIFIER_LOG_SIZE);
  if ('fd' in retry) return retry.fd;
  if (retry.log.trim() === '') throw error;
  throw new BpfVerifierError(error.errno, error.code, retry.log);
}

function attachAttr(targetFd: number, programFd: number, attachType: number, flags: number, a: Buffer): void {
  putU32(a, targetFd, 0); // target_fd
  putU32(a, programFd, 4); // attach_bpf_fd
  putU32(a, attachType, 8); // attach_type
  putU32(a, flags, 12); // attach_flags
}

/** bpf(BPF_PROG_ATTACH): attaches `programFd` to `targetFd` (a cgroup directory's fd). */
export function attachProgram(
  targetFd: number,
  programFd: number,
  attachType: number,
  flags: number,
  path?: string,
): void {
  withNative([16], (attr) => {
    attachAttr(targetFd, programFd, attachType, flags, attr.bytes);
    bpf(BPF_PROG_ATTACH, attr, 16, 'bpf(BPF_PROG_ATTACH)', path);
  });
}

/** bpf(BPF_PROG_DETACH) of one program attached with BPF_F_ALLOW_MULTI. */
export function detachProgram(targetFd: number, programFd: number, attachType: number, path?: string): void {
  withNative([16], (attr) => {
    attachAttr(targetFd, programFd, attachType, 0, attr.bytes);
    bpf(BPF_PROG_DETACH, attr, 16, 'bpf(BPF_PROG_DETACH)', path);
  });
}

/** bpf(BPF_PROG_QUERY): the ids of the programs attached to `targetFd` itself (not inherited). */
export function queryPrograms(targetFd: number, attachType: number, path?: string): number[] {
  return withNative([32, MAX_CGROUP_PROGRAMS * 4], (attr, ids) => {
    const a = attr.bytes;
    putU32(a, targetFd, 0); // target_fd
    putU32(a, attachType, 4); // attach_type
    putU64(a, ids.address, 16); // prog_ids
    putU32(a, MAX_CGROUP_PROGRAMS, 24); // prog_cnt: in, room; out, how many
    bpf(BPF_PROG_QUERY, attr, 32, 'bpf(BPF_PROG_QUERY)', path);
    const count = Math.min(getU32(a, 24), MAX_CGROUP_PROGRAMS);
    return Array.from({ length: count }, (_, index) => getU32(ids.bytes, index * 4));
  });
}

/** bpf(BPF_PROG_GET_FD_BY_ID): an fd for an attached program (the caller closes it). */
export function programFdById(id: number): number {
  return withNative([12], (attr) => {
    putU32(attr.bytes, id, 0); // prog_id
    return bpf(BPF_PROG_GET_FD_BY_ID, attr, 12, 'bpf(BPF_PROG_GET_FD_BY_ID)', `program ${id}`);
  });
}

/** open(2) of a cgroup directory, for the commands that take its fd. */
export function openCgroupDirectory(dir: string): number {
  try {
    return fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  } catch (error) {
    const { errno, code } = error as NodeJS.ErrnoException;
    const wrapped = new SyscallError('open', Math.abs(errno ?? 0), code ?? 'EIO', dir);
    wrapped.cause = error;
    throw wrapped;
  }
}

export function closeFd(fd: number): void {
  fs.closeSync(fd);
}
