/**
 * Host-side access to trees a container or an image controls: a container's writable layer, its
 * root through /proc/PID/root, unpacked layers, a bundle's rootfs. Every path is resolved inside
 * its tree, so a symlink the container planted, or swaps in while we read, never leads the host to
 * one of its own files (runc's lesson from CVE-2021-30465; filepath-securejoin's approach).
 *
 * openInRoot does it with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) where the kernel has it
 * (5.6+). Elsewhere (ENOSYS) it walks one component at a time, each opened O_PATH|O_NOFOLLOW
 * relative to the directory descriptor it already holds, resolving symlinks itself against the
 * root: ".." never climbs above it and an absolute target starts again at it.
 *
 * Content is only ever read through descriptors: a file is opened O_PATH, checked on that
 * descriptor to be a regular file, and only then reopened for reading through /proc/self/fd, so a
 * FIFO (which would block) or a device node (whose open has effects) swapped in meanwhile is never
 * opened. A DirectoryHandle walks a tree the same way: each child is opened relative to its
 * parent's descriptor, never by a path that a swapped directory could redirect.
 */
import fs from 'node:fs';
import { constants as osConstants } from 'node:os';
import { GantryError, SyscallError } from './errors.js';
import {
  O_CLOEXEC,
  O_PATH,
  openat,
  openat2,
  readlinkat,
  RESOLVE_BENEATH,
  RESOLVE_IN_ROOT,
  RESOLVE_NO_MAGICLINKS,
  RESOLVE_NO_SYMLINKS,
} from './sys/libc.js';

const { O_RDONLY, O_NOFOLLOW, O_DIRECTORY, O_CREAT, O_TRUNC, O_WRONLY, O_RDWR } = fs.constants;
const AT_FDCWD = -100;
/** The kernel's own limit on symlinks in one resolution (MAXSYMLINKS). */
const MAX_SYMLINKS = 40;
/** openat2 answers EAGAIN when a rename raced a ".." in RESOLVE_IN_ROOT; it is worth retrying. */
const MAX_RETRIES = 32;
/** Files read whole from a container (passwd, group) are small; a huge one is refused, not read. */
const DEFAULT_MAX_BYTES = 16 << 20;

/** How symlinks on the way are treated. */
export type SymlinkRule =
  /** Followed as inside a chroot: absolute targets and ".." stop at the root. */
  | 'in-root'
  /** Refused (ELOOP): for paths that are known to be real directories all the way down. */
  | 'none';

export interface InRootOptions {
  /** Default 'in-root'. */
  symlinks?: SymlinkRule;
}

/** A file read from a container was larger than such a file can sensibly be. */
export class InRootFileTooLargeError extends GantryError {}

function syscallError(syscall: string, code: keyof typeof osConstants.errno, file: string): SyscallError {
  return new SyscallError(syscall, osConstants.errno[code], code, file);
}

function components(file: string): string[] {
  return file.split('/').filter((part) => part !== '' && part !== '.');
}

function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // already closed: nothing to release
  }
}

let openat2Missing = false;

/**
 * Opens `file` (absolute or relative: either way taken from the root) inside the directory whose
 * descriptor is `root`, with `flags` (O_NOFOLLOW keeps a symlink in the last component
 * unfollowed, as open does). Only for reading: O_CREAT, O_TRUNC and write access are refused.
 * Throws SyscallError (ENOENT, ENOTDIR, ELOOP, EXDEV for ".." out of the root with symlinks 'none').
 */
export function openInRoot(root: number, file: string, flags: number, options: InRootOptions = {}): number {
  if ((flags & (O_CREAT | O_TRUNC | O_WRONLY | O_RDWR)) !== 0) {
    throw new GantryError(`openInRoot opens for reading only (flags ${flags.toString(8)})`);
  }
  const rule = options.symlinks ?? 'in-root';
  if (!openat2Missing) {
    try {
      return openInRootByOpenat2(root, file, flags, rule);
    } catch (error) {
      if (!(error instanceof SyscallError) || error.code !== 'ENOSYS') throw error;
      openat2Missing = true;
    }
  }
  return openInRootByWalk(root, file, flags, rule);
}

/** The kernel does the resolution (Linux 5.6+). Exported so tests can hold it to the walk. */
export function openInRootByOpenat2(root: number, file: string, flags: number, rule: SymlinkRule): number {
  const resolve =
    RESOLVE_NO_MAGICLINKS | (rule === 'in-root' ? RESOLVE_IN_ROOT : RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS);
  const relative = components(file).join('/') || '.';
  for (let attempt = 0; ; attempt += 1) {
    try {
      return openat2(root, relative, { flags: flags | O_CLOEXEC, resolve });
    } catch (error) {
      if (!(error instanceof SyscallError) || error.errno !== osConstants.errno.EAGAIN) throw error;
      // Mounts and renames elsewhere on a busy host keep invalidating the kernel's check of "..";
      // the walk below is as safe and does not depend on them.
      if (attempt >= MAX_RETRIES) return openInRootByWalk(root, file, flags, rule);
    }
  }
}

/**
 * The fallback: filepath-securejoin's walk. Each component is opened O_PATH|O_NOFOLLOW relative to
 * the directory descriptor of the one before, so no path is ever resolved by the kernel across a
 * component we did not check; symlinks are read from their own descriptor and resolved here.
 */
export function openInRootByWalk(root: number, file: string, flags: number, rule: SymlinkRule): number {
  /** Descriptors of the directories below the root on the way, deepest last (the root is not ours). */
  const stack: number[] = [];
  const current = () => stack.at(-1) ?? root;
  let pending = components(file);
  let links = 0;
  let lastStats: fs.Stats | undefined;
  try {
    while (pending.length > 0) {
      const part = pending.shift()!;
      if (part === '..') {
        if (stack.length > 0) fs.closeSync(stack.pop()!);
        else if (rule === 'none') throw syscallError('openat', 'EXDEV', file);
        continue;
      }
      const last = pending.length === 0;
      const fd = openat(current(), part, O_PATH | O_NOFOLLOW | O_CLOEXEC);
      let stats: fs.Stats;
      try {
        stats = fs.fstatSync(fd);
      } catch (error) {
        closeQuietly(fd);
        throw error;
      }
      if (stats.isSymbolicLink() && !(last && (flags & O_NOFOLLOW) !== 0)) {
        let target: string;
        try {
          target = readlinkat(fd, '');
        } finally {
          closeQuietly(fd);
        }
        links += 1;
        if (rule === 'none' || links > MAX_SYMLINKS) throw syscallError('openat', 'ELOOP', file);
        if (target.startsWith('/')) while (stack.length > 0) closeQuietly(stack.pop()!);
        pending = [...components(target), ...pending];
        continue;
      }
      if (!last && !stats.isDirectory()) {
        closeQuietly(fd);
        throw syscallError('openat', 'ENOTDIR', file);
      }
      lastStats = stats;
      stack.push(fd);
    }
    const target = current();
    if (target === root) return openat(root, '.', flags | O_CLOEXEC);
    if ((flags & O_DIRECTORY) !== 0 && !lastStats?.isDirectory())
      throw syscallError('openat', 'ENOTDIR', file);
    if ((flags & O_PATH) !== 0) return stack.pop()!;
    // open(O_NOFOLLOW) of a symlink without O_PATH fails; so does this.
    if (lastStats?.isSymbolicLink()) throw syscallError('openat', 'ELOOP', file);
    // Reopening through our own descriptor opens exactly the inode the walk checked.
    return openat(AT_FDCWD, `/proc/self/fd/${target}`, (flags & ~O_NOFOLLOW) | O_CLOEXEC);
  } finally {
    for (const fd of stack) closeQuietly(fd);
  }
}

/**
 * Opens a directory the host names itself (a path under the state root, or /proc/PID/root, whose
 * magic link is the point) as the root of a tree to resolve in.
 */
export function openRoot(hostPath: string): number {
  return openat(AT_FDCWD, hostPath, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

/** Opens a regular file for reading from an O_PATH descriptor; undefined when it is not one. */
function reopenRegularFile(pathFd: number): { fd: number; stats: fs.Stats } | undefined {
  const stats = fs.fstatSync(pathFd);
  if (!stats.isFile()) return undefined;
  const fd = openat(AT_FDCWD, `/proc/self/fd/${pathFd}`, O_RDONLY | O_CLOEXEC);
  return { fd, stats };
}

function isAbsent(error: unknown): boolean {
  return error instanceof SyscallError && ['ENOENT', 'ENOTDIR', 'ELOOP', 'EXDEV'].includes(error.code);
}

/**
 * Reads the regular file `file` inside `root` (a host path such as /proc/PID/root or a layer
 * directory, or a descriptor from openRoot). Undefined when it is missing, is not a regular file,
 * or its path loops or (symlinks 'none') passes a symlink.
 */
export function readFileInRoot(
  root: string | number,
  file: string,
  options: InRootOptions & { maxBytes?: number } = {},
): Buffer | undefined {
  const rootFd = typeof root === 'number' ? root : openRoot(root);
  try {
    let pathFd: number;
    try {
      pathFd = openInRoot(rootFd, file, O_PATH, options);
    } catch (error) {
      if (isAbsent(error)) return undefined;
      throw error;
    }
    let opened: { fd: number; stats: fs.Stats } | undefined;
    try {
      opened = reopenRegularFile(pathFd);
    } finally {
      closeQuietly(pathFd);
    }
    if (!opened) return undefined;
    try {
      const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
      if (opened.stats.size > maxBytes) {
        throw new InRootFileTooLargeError(
          `${file} in ${typeof root === 'string' ? root : 'the container'} is ${opened.stats.size} bytes, more than the ${maxBytes} read from such a file`,
        );
      }
      return fs.readFileSync(opened.fd);
    } finally {
      closeQuietly(opened.fd);
    }
  } finally {
    if (typeof root === 'string') closeQuietly(rootFd);
  }
}

/** readFileInRoot as UTF-8 text. */
export function readTextInRoot(
  root: string | number,
  file: string,
  options: InRootOptions & { maxBytes?: number } = {},
): string | undefined {
  return readFileInRoot(root, file, options)?.toString('utf8');
}

function checkName(name: string): void {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw new GantryError(`not a directory entry name: ${JSON.stringify(name)}`);
  }
}

/**
 * An open directory of a tree being walked. Its children are opened relative to its descriptor
 * and never followed if they are symlinks, so a container swapping a directory for a symlink
 * mid-walk makes the walk skip that name, never list or read what the symlink points at.
 */
export class DirectoryHandle {
  private open = true;

  private constructor(
    /** O_RDONLY|O_DIRECTORY descriptor. */
    readonly fd: number,
    /** Host path, for messages only: never resolved again. */
    readonly path: string,
  ) {}

  /**
   * Takes over a directory descriptor opened inside a root (openInRoot with O_RDONLY|O_DIRECTORY):
   * the handle closes it.
   */
  static fromDescriptor(fd: number, label: string): DirectoryHandle {
    return new DirectoryHandle(fd, label);
  }

  /** Opens the top of a tree the host names itself; a symlink in its last component is refused. */
  static open(hostPath: string): DirectoryHandle {
    const fd = openat(AT_FDCWD, hostPath, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    return new DirectoryHandle(fd, hostPath);
  }

  /**
   * A path naming `name` in this directory for calls that act on the last component without
   * following it (lstat, readlink, lgetxattr, llistxattr, open with O_NOFOLLOW). The directory part
   * is our own descriptor, so nothing in it can be swapped. Valid while this handle is open.
   */
  entry(name: string): string {
    checkName(name);
    if (!this.open) throw new GantryError(`${this.path} was closed`);
    return `/proc/self/fd/${this.fd}/${name}`;
  }

  /** The names in the directory (none when it was removed meanwhile). */
  names(): string[] {
    if (!this.open) throw new GantryError(`${this.path} was closed`);
    try {
      return fs.readdirSync(`/proc/self/fd/${this.fd}`);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }

  /** lstat of a child; undefined when it is gone. */
  lstat(name: string): fs.Stats | undefined {
    try {
      return fs.lstatSync(this.entry(name));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw error;
    }
  }

  /** The target of a child symlink; undefined when it is gone or no longer a symlink. */
  readlink(name: string): string | undefined {
    try {
      return fs.readlinkSync(this.entry(name));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EINVAL') return undefined;
      throw error;
    }
  }

  /** Opens a child directory; undefined when it is gone or is no longer a real directory. */
  openDirectory(name: string): DirectoryHandle | undefined {
    checkName(name);
    try {
      const fd = openInRoot(this.fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, { symlinks: 'none' });
      return new DirectoryHandle(fd, `${this.path}/${name}`);
    } catch (error) {
      if (isAbsent(error)) return undefined;
      throw error;
    }
  }

  /**
   * Opens a child regular file for reading, with its stats from the open descriptor; undefined
   * when it is gone or is no longer a regular file (never opening a FIFO or device in its place).
   */
  openFile(name: string): { fd: number; stats: fs.Stats } | undefined {
    checkName(name);
    let pathFd: number;
    try {
      pathFd = openInRoot(this.fd, name, O_PATH | O_NOFOLLOW, { symlinks: 'none' });
    } catch (error) {
      if (isAbsent(error)) return undefined;
      throw error;
    }
    try {
      return reopenRegularFile(pathFd);
    } finally {
      closeQuietly(pathFd);
    }
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    closeQuietly(this.fd);
  }
}
