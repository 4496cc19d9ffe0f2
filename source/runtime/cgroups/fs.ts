/**
 * All kernel access of the cgroup drivers goes through `CgroupFs`, so unit tests can run the
 * real drivers on a fake tree (and make it refuse a value), and integration tests on the kernel.
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { hasCode, isErrnoException, SyscallError } from '../errors.js';
import type { PressureLine } from './types.js';
import { parsePressure } from './values.js';

export interface CgroupFs {
  readFile(file: string): Promise<string>;
  /**
   * Writes `data` with one write(2) to a file that must exist: cgroupfs acts on each write, and a
   * missing file means the kernel lacks the knob, so it must never be created.
   */
  writeFile(file: string, data: string): Promise<void>;
  /** mkdir(2) of one level; resolves false when the directory already exists. */
  mkdir(dir: string): Promise<boolean>;
  rmdir(dir: string): Promise<void>;
  readdir(dir: string): Promise<string[]>;
  exists(file: string): Promise<boolean>;
  /** Marks a directory as created by Gantry, so a later process may remove it when empty. */
  markCreated(dir: string): Promise<void>;
  createdByGantry(dir: string): Promise<boolean>;
  /**
   * Takes the lock of a hierarchy (held on its root directory, by every Gantry process) and
   * resolves to its release. Making a chain of directories is mkdir, then mark, then (v1 cpuset)
   * fill: another process must not see a parent between those steps, nor remove one under us.
   */
  lock?(dir: string): Promise<() => void>;
}

/**
 * The marker is an xattr on the cgroup directory itself: cgroupfs keeps xattrs in memory for as
 * long as the cgroup exists, and no other file can be created in a cgroup directory.
 */
export const CREATED_MARK_XATTR = 'trusted.gantry.created';

/** Turns a Node fs error into a SyscallError that names the call and path, keeping the cause. */
export function toSyscallError(error: unknown, syscall: string, file: string): unknown {
  if (!isErrnoException(error) || error instanceof SyscallError) return error;
  const wrapped = new SyscallError(syscall, Math.abs(error.errno ?? 0), error.code ?? 'EIO', file);
  wrapped.cause = error;
  return wrapped;
}

export function errorCode(error: unknown): string | undefined {
  if (error instanceof SyscallError) return error.code;
  return isErrnoException(error) ? error.code : undefined;
}

export const hostCgroupFs: CgroupFs = {
  async readFile(file) {
    try {
      // cgroupfs files are generated in memory and read in microseconds: one synchronous read
      // beats the thread pool's round trips (open, fstat, read, close) that made a stats sample
      // cost milliseconds per container.
      return fs.readFileSync(file, 'utf8');
    } catch (error) {
      throw toSyscallError(error, 'read', file);
    }
  },
  // Writes, mkdir and rmdir are synchronous too: cgroupfs acts in memory, and a container start
  // makes dozens of these calls, each of which would otherwise cost a thread-pool round trip.
  async writeFile(file, data) {
    let fd: number;
    try {
      // O_TRUNC without O_CREAT: a fake tree behaves like cgroupfs (replace, never create).
      fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_TRUNC);
    } catch (error) {
      throw toSyscallError(error, 'open', file);
    }
    try {
      // An empty value ("" in cpuset.cpus: the parent's CPUs) must still reach the kernel as a
      // write; a write of no bytes never does.
      fs.writeSync(fd, data === '' ? '\n' : data);
    } catch (error) {
      throw toSyscallError(error, 'write', file);
    } finally {
      fs.closeSync(fd);
    }
  },
  async mkdir(dir) {
    try {
      fs.mkdirSync(dir, 0o755);
      return true;
    } catch (error) {
      if (hasCode(error, 'EEXIST')) return false;
      throw toSyscallError(error, 'mkdir', dir);
    }
  },
  async rmdir(dir) {
    try {
      fs.rmdirSync(dir);
    } catch (error) {
      throw toSyscallError(error, 'rmdir', dir);
    }
  },
  async readdir(dir) {
    try {
      return fs.readdirSync(dir);
    } catch (error) {
      throw toSyscallError(error, 'readdir', dir);
    }
  },
  async exists(file) {
    return fs.existsSync(file);
  },
  async markCreated(dir) {
    const { lsetxattr } = await import('../sys/libc.js');
    lsetxattr(dir, CREATED_MARK_XATTR, Buffer.from('1'));
  },
  async createdByGantry(dir) {
    const { lgetxattr } = await import('../sys/libc.js');
    return lgetxattr(dir, CREATED_MARK_XATTR) !== undefined;
  },
  async lock(dir) {
    const { flock, LOCK_EX, LOCK_NB, LOCK_UN } = await import('../sys/libc.js');
    let fd: number;
    try {
      fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    } catch (error) {
      throw toSyscallError(error, 'open', dir);
    }
    try {
      // flock(2) works on a cgroupfs directory; waiting in steps keeps the event loop free.
      for (let delay = 1; !flock(fd, LOCK_EX | LOCK_NB, dir); delay = Math.min(delay * 2, 20))
        await sleep(delay);
    } catch (error) {
      fs.closeSync(fd);
      throw error;
    }
    return () => {
      try {
        flock(fd, LOCK_UN, dir);
      } finally {
        fs.closeSync(fd);
      }
    };
  },
};

/** The file's content, or undefined when the kernel does not have it (ENOENT, ENODEV). */
export async function readOptional(cgroupFs: CgroupFs, file: string): Promise<string | undefined> {
  try {
    return await cgroupFs.readFile(file);
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT' || code === 'ENODEV' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}

/** Whether the kernel has pressure stall information; false once a read says it has not. */
let pressureSupported = true;

/**
 * The PSI figures of a cgroup v2 directory, or undefined when the kernel runs without PSI. A
 * kernel booted with psi=0 answers every read with EOPNOTSUPP; that is remembered, so samples
 * taken every second do not pay for three failing reads each.
 */
export async function readPressure(
  cgroupFs: CgroupFs,
  dir: string,
): Promise<Record<string, { some?: PressureLine; full?: PressureLine }> | undefined> {
  if (!pressureSupported) return undefined;
  const pressure: Record<string, { some?: PressureLine; full?: PressureLine }> = {};
  for (const resource of ['cpu', 'memory', 'io']) {
    let text: string | undefined;
    try {
      text = await readOptional(cgroupFs, path.join(dir, `${resource}.pressure`));
    } catch (error) {
      const code = errorCode(error);
      if (code === 'EOPNOTSUPP' || code === 'ENOTSUP') {
        pressureSupported = false;
        return undefined;
      }
      continue;
    }
    if (text !== undefined) pressure[resource] = parsePressure(text);
  }
  return Object.keys(pressure).length > 0 ? pressure : undefined;
}
