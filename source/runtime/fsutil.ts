/**
 * Small filesystem helpers with the guarantees state needs: atomic replacement (write a temp
 * file, fsync, rename, fsync the directory) and advisory locks that die with their process.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CorruptStateError, hasCode, isErrnoException, nameFullDisk } from './errors.js';
import { flock, LOCK_EX, LOCK_NB, LOCK_SH, LOCK_UN, syncfs } from './sys/libc.js';

let tempCounter = 0;

function tempName(file: string): string {
  tempCounter += 1;
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${tempCounter}.tmp`);
}

/** A temporary file of tempName: `.NAME.PID.N.tmp`, PID its writer's. */
const TEMP_FILE = /^\..+\.(\d+)\.\d+\.tmp$/;

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return !hasCode(error, 'ESRCH');
  }
}

/**
 * Removes the temporary files of atomic writes whose writer is gone: a process killed between
 * its write and its rename (kill -9 of `tag`, `network create`...) leaves one that nothing else
 * would ever remove. A file whose writer still runs is left to it.
 */
export async function sweepDeadWriters(directory: string): Promise<void> {
  let names: string[];
  try {
    names = await fsp.readdir(directory);
  } catch (error) {
    if (hasCode(error, 'ENOENT')) return;
    throw error;
  }
  for (const name of names) {
    const match = TEMP_FILE.exec(name);
    if (match && !pidAlive(Number(match[1]))) await fsp.rm(path.join(directory, name), { force: true });
  }
}

/** Runs a write to `file`: a full disk becomes a NoSpaceError that names the file. */
export async function writingTo<T>(file: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    throw nameFullDisk(error, file);
  }
}

/** writingTo for synchronous writes. */
export function writingToSync<T>(file: string, action: () => T): T {
  try {
    return action();
  } catch (error) {
    throw nameFullDisk(error, file);
  }
}

/** Replaces `file` atomically: readers see the old content or the new, never a mix. */
export async function atomicWriteFile(file: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  return writingTo(file, () => replaceFile(file, data, mode));
}

async function replaceFile(file: string, data: string | Uint8Array, mode: number): Promise<void> {
  const temp = tempName(file);
  const handle = await fsp.open(temp, 'wx', mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await fsp.rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await fsp.rename(temp, file);
  } catch (error) {
    await fsp.rm(temp, { force: true });
    throw error;
  }
  await syncDirectory(path.dirname(file));
}

export function atomicWriteFileSync(file: string, data: string | Uint8Array, mode = 0o644): void {
  const temp = tempName(file);
  const fd = fs.openSync(temp, 'wx', mode);
  try {
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.renameSync(temp, file);
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw error;
  }
  const dirFd = fs.openSync(path.dirname(file), 'r');
  try {
    fs.fsyncSync(dirFd);
  } finally {
    fs.closeSync(dirFd);
  }
}

export async function atomicWriteJson(file: string, value: unknown, mode = 0o644): Promise<void> {
  await atomicWriteFile(file, `${JSON.stringify(value, null, 2)}\n`, mode);
}

export async function syncDirectory(directory: string): Promise<void> {
  const handle = await fsp.open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Flushes the filesystem that holds `file` (syncfs(2)): one call makes a whole tree durable. */
export function syncFilesystem(file: string): void {
  const fd = fs.openSync(file, fs.constants.O_RDONLY);
  try {
    syncfs(fd, file);
  } finally {
    fs.closeSync(fd);
  }
}

/** What a file that should be a regular one is instead ("a FIFO", "a directory"...). */
function fileKind(stats: fs.Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isSymbolicLink()) return 'a symbolic link';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

/** A state file that is something else than a regular file; `kind` says what it is. */
export class NotRegularFileError extends CorruptStateError {
  constructor(
    readonly path: string,
    readonly kind: string,
  ) {
    super(`${path} is ${kind}, not a regular file`);
  }
}

/** Why a file could not be read, in words: what stands in its place, or the errno. */
export function describeReadError(error: unknown): string {
  if (error instanceof NotRegularFileError) return `it is ${error.kind}, not a regular file`;
  if (isErrnoException(error)) return `${error.code}: ${error.message.replace(/^[A-Z]+: /, '')}`;
  return (error as Error).message;
}

/**
 * Reads a file the engine wrote itself (state.json, config.json, exit.json, image records).
 * Whatever else stands in its place is refused at once: a FIFO would block the reader for ever,
 * a symbolic link is never followed, a directory or a device is never opened as data. Errors
 * keep their errno code (ENOENT for a missing file) or are NotRegularFileError.
 */
export async function readRegularFile(file: string): Promise<string> {
  const before = await fsp.lstat(file);
  if (!before.isFile()) throw new NotRegularFileError(file, fileKind(before));
  const { O_RDONLY, O_NONBLOCK, O_NOFOLLOW } = fs.constants;
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(file, O_RDONLY | O_NONBLOCK | O_NOFOLLOW);
  } catch (error) {
    if (hasCode(error, 'ELOOP')) throw new NotRegularFileError(file, 'a symbolic link');
    throw error;
  }
  try {
    // Replaced between the lstat and the open: judged by what was opened.
    const stats = await handle.stat();
    if (!stats.isFile()) throw new NotRegularFileError(file, fileKind(stats));
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

/** readRegularFile for the few synchronous readers. */
export function readRegularFileSync(file: string): string {
  const before = fs.lstatSync(file);
  if (!before.isFile()) throw new NotRegularFileError(file, fileKind(before));
  const { O_RDONLY, O_NONBLOCK, O_NOFOLLOW } = fs.constants;
  let fd: number;
  try {
    fd = fs.openSync(file, O_RDONLY | O_NONBLOCK | O_NOFOLLOW);
  } catch (error) {
    if (hasCode(error, 'ELOOP')) throw new NotRegularFileError(file, 'a symbolic link');
    throw error;
  }
  try {
    const stats = fs.fstatSync(fd);
    if (!stats.isFile()) throw new NotRegularFileError(file, fileKind(stats));
    return fs.readFileSync(fd, 'utf8');
  } finally {
    fs.closeSync(fd);
  }
}

export async function readJsonIfExists<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readRegularFile(file)) as T;
  } catch (error) {
    if (hasCode(error, 'ENOENT')) return undefined;
    throw error;
  }
}

export async function exists(file: string): Promise<boolean> {
  try {
    await fsp.lstat(file);
    return true;
  } catch (error) {
    if (hasCode(error, 'ENOENT') || hasCode(error, 'ENOTDIR')) return false;
    throw error;
  }
}

/** A held flock(2). The kernel drops it if the process dies, so a kill -9 never wedges state. */
export class FileLock {
  private constructor(
    private readonly fd: number,
    readonly path: string,
  ) {}

  static async acquire(
    file: string,
    options: { shared?: boolean; timeoutMs?: number; wait?: boolean } = {},
  ): Promise<FileLock> {
    const lock = await FileLock.tryAcquire(file, options);
    if (lock) return lock;
    throw new Error(`timed out waiting for the lock ${file}`);
  }

  /** Returns undefined when `wait` is false (or the timeout passes) and someone else holds it. */
  static async tryAcquire(
    file: string,
    options: {
      shared?: boolean;
      timeoutMs?: number;
      wait?: boolean;
      makeDirectory?: boolean;
      /** false: a missing lock file is ENOENT, never made (a lock in a directory being deleted). */
      create?: boolean;
    } = {},
  ): Promise<FileLock | undefined> {
    // A lock inside what it guards (a container's directory) must not bring back a directory
    // that was removed meanwhile: then the open fails with ENOENT instead.
    if (options.makeDirectory !== false && options.create !== false)
      await fsp.mkdir(path.dirname(file), { recursive: true });
    const create = options.create === false ? 0 : fs.constants.O_CREAT;
    const fd = fs.openSync(file, fs.constants.O_RDWR | create, 0o600);
    const operation = (options.shared ? LOCK_SH : LOCK_EX) | LOCK_NB;
    const deadline = Date.now() + (options.timeoutMs ?? 30_000);
    let delay = 2;
    for (;;) {
      if (flock(fd, operation, file)) return new FileLock(fd, file);
      if (options.wait === false || Date.now() > deadline) {
        fs.closeSync(fd);
        return undefined;
      }
      await sleep(delay);
      delay = Math.min(delay * 2, 50);
    }
  }

  /** Whether the lock's path still names the file this lock holds (a remover may have unlinked it). */
  holdsPath(): boolean {
    const held = fs.fstatSync(this.fd);
    const current = fs.statSync(this.path, { throwIfNoEntry: false });
    return current !== undefined && current.ino === held.ino && current.dev === held.dev;
  }

  release(): void {
    try {
      flock(this.fd, LOCK_UN, this.path);
    } finally {
      fs.closeSync(this.fd);
    }
  }
}

export async function withLock<T>(
  file: string,
  action: () => Promise<T>,
  options?: { shared?: boolean },
): Promise<T> {
  const lock = await FileLock.acquire(file, options);
  try {
    return await action();
  } finally {
    lock.release();
  }
}
