/**
 * Typed wrappers over the libc calls Node lacks. Each one is safe to make from Node's
 * multithreaded process (none of them changes per-thread namespace state). The library is
 * loaded on first use so commands that never need it do not pay for it.
 */
import { createRequire } from 'node:module';
import { constants as osConstants } from 'node:os';
import { SyscallError } from '../errors.js';

type KoffiFunction = (...args: unknown[]) => number;

interface Koffi {
  load(name: string): { func(prototype: string): KoffiFunction };
  errno(): number;
  alloc(type: string, length: number): unknown;
  free(pointer: unknown): void;
  view(pointer: unknown, length: number): ArrayBuffer;
  address(pointer: unknown): bigint;
}

interface Libc {
  koffi: Koffi;
  mount: KoffiFunction;
  umount2: KoffiFunction;
  flock: KoffiFunction;
  mknod: KoffiFunction;
  lsetxattr: KoffiFunction;
  lgetxattr: KoffiFunction;
  llistxattr: KoffiFunction;
  syscall: KoffiFunction;
  syncfs: KoffiFunction;
  openat: KoffiFunction;
  readlinkat: KoffiFunction;
  errno: () => number;
}

let libc: Libc | undefined;

function load(): Libc {
  if (libc) return libc;
  const require = createRequire(import.meta.url);
  const koffi = require('koffi') as Koffi;
  const lib = koffi.load('libc.so.6');
  libc = {
    koffi,
    mount: lib.func(
      'int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)',
    ),
    umount2: lib.func('int umount2(const char *target, int flags)'),
    flock: lib.func('int flock(int fd, int operation)'),
    mknod: lib.func('int mknod(const char *path, uint32_t mode, uint64_t dev)'),
    lsetxattr: lib.func(
      'int lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags)',
    ),
    lgetxattr: lib.func('long lgetxattr(const char *path, const char *name, _Out_ void *value, size_t size)'),
    llistxattr: lib.func('long llistxattr(const char *path, _Out_ void *list, size_t size)'),
    syscall: lib.func('long syscall(long number, ...)'),
    syncfs: lib.func('int syncfs(int fd)'),
    openat: lib.func('int openat(int dirfd, const char *path, int flags, ...)'),
    readlinkat: lib.func('long readlinkat(int dirfd, const char *path, _Out_ uint8_t *buffer, size_t size)'),
    errno: () => koffi.errno(),
  };
  return libc;
}

/**
 * errno names as node's own errors spell them: where two names share a number (EAGAIN and
 * EWOULDBLOCK, ENOTSUP and EOPNOTSUPP) the first, canonical one is kept, so callers can compare
 * `code` with the name libuv gives.
 */
const errnoNames = new Map<number, string>();
for (const [name, value] of Object.entries(osConstants.errno)) {
  if (!errnoNames.has(value)) errnoNames.set(value, name);
}

export function errnoName(errno: number): string {
  return errnoNames.get(errno) ?? `errno ${errno}`;
}

function check(result: number, syscall: string, path?: string, detail?: string): number {
  if (result < 0) {
    const errno = load().errno();
    throw new SyscallError(syscall, errno, errnoName(errno), path, detail);
  }
  return result;
}

export const MS_RDONLY = 0x1;
export const MS_NOSUID = 0x2;
export const MS_NODEV = 0x4;
export const MS_NOEXEC = 0x8;
export const MS_REMOUNT = 0x20;
export const MS_BIND = 0x1000;
export const MNT_DETACH = 0x2;

export function mount(
  source: string,
  target: string,
  fstype: string | null,
  flags: number,
  data: string | null,
): void {
  check(load().mount(source, target, fstype, flags, data), 'mount', target, fstype ?? undefined);
}

export function umount(target: string, flags = 0): void {
  check(load().umount2(target, flags), 'umount2', target);
}

export const LOCK_SH = 1;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;

/** flock(2). Returns false when LOCK_NB was given and the lock is held elsewhere. */
export function flock(fd: number, operation: number, path?: string): boolean {
  const lib = load();
  if (lib.flock(fd, operation) === 0) return true;
  const errno = lib.errno();
  if (errno === osConstants.errno.EWOULDBLOCK) return false;
  throw new SyscallError('flock', errno, errnoName(errno), path);
}

export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;
export const S_IFIFO = 0o010000;

export function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major);
  const mi = BigInt(minor);
  return ((ma & 0xfffff000n) << 32n) | ((ma & 0xfffn) << 8n) | ((mi & 0xffffff00n) << 12n) | (mi & 0xffn);
}

export function mknod(path: string, mode: number, major = 0, minor = 0): void {
  check(load().mknod(path, mode, makedev(major, minor)), 'mknod', path);
}

export function lsetxattr(path: string, name: string, value: Buffer): void {
  check(load().lsetxattr(path, name, value, value.length, 0), 'lsetxattr', path, name);
}

/** lgetxattr(2); undefined when the attribute is absent. */
export function lgetxattr(path: string, name: string): Buffer | undefined {
  const lib = load();
  const buffer = Buffer.alloc(4096);
  const size = lib.lgetxattr(path, name, buffer, buffer.length);
  if (size >= 0) return buffer.subarray(0, size);
  const errno = lib.errno();
  if (errno === osConstants.errno.ENODATA) return undefined;
  throw new SyscallError('lgetxattr', errno, errnoName(errno), path, name);
}

/** llistxattr(2): the names of a path's extended attributes (the link itself, not its target). */
export function llistxattr(path: string): string[] {
  const lib = load();
  for (let size = 4096; ; size *= 4) {
    const buffer = Buffer.alloc(size);
    const length = lib.llistxattr(path, buffer, buffer.length);
    if (length >= 0) {
      return buffer
        .subarray(0, length)
        .toString('utf8')
        .split('\0')
        .filter((name) => name !== '');
    }
    const errno = lib.errno();
    if (errno === osConstants.errno.ERANGE && size < 1 << 20) continue;
    if (errno === osConstants.errno.ENOTSUP) return [];
    throw new SyscallError('llistxattr', errno, errnoName(errno), path);
  }
}

const SYS_pidfd_send_signal = 424;
const SYS_pidfd_open = 434;

export function pidfdOpen(pid: number): number {
  return check(load().syscall(SYS_pidfd_open, 'int', pid, 'unsigned int', 0), 'pidfd_open', `pid ${pid}`);
}

export function pidfdSendSignal(pidfd: number, signal: number): void {
  check(
    load().syscall(SYS_pidfd_send_signal, 'int', pidfd, 'int', signal, 'void *', null, 'unsigned int', 0),
    'pidfd_send_signal',
  );
}

/**
 * Zeroed memory outside the JavaScript heap, for kernel structs that hold the addresses of other
 * buffers (union bpf_attr): the address stays valid until free().
 */
export interface NativeBuffer {
  /** A view of the memory (no copy); do not use it after free(). */
  readonly bytes: Buffer;
  readonly address: bigint;
  free(): void;
}

/** The koffi pointer behind each NativeBuffer, to pass it as a pointer argument. */
const nativePointers = new WeakMap<NativeBuffer, unknown>();

export function allocNative(size: number): NativeBuffer {
  const { koffi } = load();
  const pointer = koffi.alloc('uint8_t', Math.max(size, 1));
  const bytes = Buffer.from(koffi.view(pointer, Math.max(size, 1))).subarray(0, size);
  bytes.fill(0);
  let freed = false;
  const native: NativeBuffer = {
    bytes,
    address: koffi.address(pointer),
    free() {
      if (freed) return;
      freed = true;
      koffi.free(pointer);
    },
  };
  nativePointers.set(native, pointer);
  return native;
}

/** bpf(2)'s number per architecture (process.arch); the call is too recent for libc to wrap. */
const SYS_bpf: Partial<Record<string, number>> = {
  x64: 321,
  arm64: 280,
  riscv64: 280,
  loong64: 280,
  ppc64: 361,
  s390x: 351,
  arm: 386,
  ia32: 357,
};

/**
 * bpf(2) with `attr` as the command's part of union bpf_attr; `size` is how much of it the
 * command uses. Returns the result (an fd for the commands that make one). `name` is what a
 * SyscallError calls the call, e.g. "bpf(BPF_PROG_ATTACH)".
 */
export function bpf(command: number, attr: NativeBuffer, size: number, name: string, path?: string): number {
  const number = SYS_bpf[process.arch];
  if (number === undefined) {
    const errno = osConstants.errno.ENOSYS;
    throw new SyscallError(name, errno, errnoName(errno), path, `no bpf(2) number for ${process.arch}`);
  }
  return check(
    load().syscall(number, 'int', command, 'void *', nativePointers.get(attr), 'unsigned int', size),
    name,
    path,
  );
}

/**
 * syncfs(2): flushes the whole filesystem holding `fd`. One call after writing thousands of
 * files costs far less than an fsync per file.
 */
export function syncfs(fd: number, path?: string): void {
  check(load().syncfs(fd), 'syncfs', path);
}

/** open(2) flags Node's fs.constants lacks (the generic Linux values: x86, arm, riscv, loong, s390). */
export const O_PATH = 0o10000000;
export const O_CLOEXEC = 0o2000000;

/** openat2(2) resolve flags (linux/openat2.h). */
export const RESOLVE_NO_XDEV = 0x01;
export const RESOLVE_NO_MAGICLINKS = 0x02;
export const RESOLVE_NO_SYMLINKS = 0x04;
export const RESOLVE_BENEATH = 0x08;
export const RESOLVE_IN_ROOT = 0x10;

/** openat2 came after the syscall tables were unified: one number on every architecture. */
const SYS_openat2 = 437;

/** struct open_how: what openat2 opens and how it may resolve the path. */
export interface OpenHow {
  flags: number;
  mode?: number;
  resolve: number;
}

/**
 * openat2(2) (Linux 5.6+): opens `file` relative to the directory `dirfd` under the `resolve`
 * rules. Throws SyscallError; ENOSYS means the kernel lacks the call.
 */
export function openat2(dirfd: number, file: string, how: OpenHow): number {
  const openHow = Buffer.alloc(24);
  openHow.writeBigUInt64LE(BigInt(how.flags >>> 0), 0);
  openHow.writeBigUInt64LE(BigInt(how.mode ?? 0), 8);
  openHow.writeBigUInt64LE(BigInt(how.resolve), 16);
  return check(
    load().syscall(
      SYS_openat2,
      'int',
      dirfd,
      'const char *',
      file,
      'void *',
      openHow,
      'size_t',
      openHow.length,
    ),
    'openat2',
    file,
  );
}

/** openat(2): `file` relative to the directory `dirfd` (an absolute `file` ignores dirfd). */
export function openat(dirfd: number, file: string, flags: number, mode = 0): number {
  return check(load().openat(dirfd, file, flags, 'uint32_t', mode), 'openat', file);
}

/**
 * readlinkat(2): the target of the symlink `file` in the directory `dirfd`; with `file` empty,
 * of the symlink `dirfd` itself (an O_PATH|O_NOFOLLOW descriptor of it).
 */
export function readlinkat(dirfd: number, file: string): string {
  const lib = load();
  for (let size = 4096; ; size *= 4) {
    const buffer = Buffer.alloc(size);
    const length = Number(lib.readlinkat(dirfd, file, buffer, buffer.length));
    if (length < 0) {
      const errno = lib.errno();
      throw new SyscallError('readlinkat', errno, errnoName(errno), file === '' ? `fd ${dirfd}` : file);
    }
    // A target that fills the buffer may have been cut short.
    if (length < size) return buffer.subarray(0, length).toString('utf8');
  }
}
