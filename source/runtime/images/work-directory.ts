/**
 * Private temporary directories under the state root's tmp/ for imports, builds and deletions.
 * Each holds a flock on its own `.lock` for as long as its owner lives, so a later process can
 * tell the leftovers of a killed one (lock free) from work in progress (lock held) and remove
 * them: an interrupted import leaves nothing behind for long.
 *
 * A stream read out of order or twice (an archive on stdin for load, import or build -) is
 * spooled into one of these with spoolStream, so every stdin consumer leaves the same nothing
 * behind on every exit path, kill -9 included.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { hasCode } from '../errors.js';
import { FileLock } from '../fsutil.js';
import type { StateLayout } from '../paths.js';

const PREFIX = 'image-';
const LOCK_FILE = '.lock';
/** A directory without a lock file is only a leftover once it is clearly not being set up. */
const UNLOCKED_GRACE_MS = 60_000;

export class WorkDirectory {
  private disposed = false;

  private constructor(
    readonly path: string,
    private readonly lock: FileLock,
  ) {}

  static async create(layout: StateLayout, kind: string): Promise<WorkDirectory> {
    await fsp.mkdir(layout.tmp, { recursive: true, mode: 0o700 });
    const directory = await fsp.mkdtemp(path.join(layout.tmp, `${PREFIX}${kind}-`));
    try {
      const lock = await FileLock.acquire(path.join(directory, LOCK_FILE), { wait: false });
      return new WorkDirectory(directory, lock);
    } catch (error) {
      await fsp.rm(directory, { recursive: true, force: true });
      throw error;
    }
  }

  /** Removes the directory and everything in it. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    try {
      await fsp.rm(this.path, { recursive: true, force: true });
    } finally {
      this.lock.release();
    }
  }
}

/** A stream copied whole into a work directory of its own. */
export interface Spool {
  work: WorkDirectory;
  /** The copy: `work`/`fileName`, private to root. */
  file: string;
}

/**
 * Copies `input` into a new work directory from `createWork` (ImageStore.createWorkDirectory:
 * sweeps what killed processes left first). The caller disposes `work`; a copy that fails
 * (stream error, full disk) disposes it here.
 */
export async function spoolStream(
  createWork: (kind: string) => Promise<WorkDirectory>,
  kind: string,
  input: NodeJS.ReadableStream,
  fileName: string,
): Promise<Spool> {
  const work = await createWork(kind);
  try {
    const file = path.join(work.path, fileName);
    await pipeline(input, fs.createWriteStream(file, { flags: 'wx', mode: 0o600 }));
    return { work, file };
  } catch (error) {
    await work.dispose();
    throw error;
  }
}

/** Removes work directories whose owners are gone. Safe to run while other processes work. */
export async function sweepStaleWorkDirectories(layout: StateLayout): Promise<number> {
  let names: string[];
  try {
    names = await fsp.readdir(layout.tmp);
  } catch (error) {
    if (hasCode(error, 'ENOENT')) return 0;
    throw error;
  }
  let removed = 0;
  for (const name of names) {
    if (!name.startsWith(PREFIX)) continue;
    const directory = path.join(layout.tmp, name);
    const lockFile = path.join(directory, LOCK_FILE);
    let hasLockFile = true;
    try {
      await fsp.access(lockFile);
    } catch {
      hasLockFile = false;
    }
    if (!hasLockFile) {
      const stats = await fsp.lstat(directory).catch(() => undefined);
      if (stats && Date.now() - stats.mtimeMs > UNLOCKED_GRACE_MS) {
        await fsp.rm(directory, { recursive: true, force: true });
        removed += 1;
      }
      continue;
    }
    const lock = await FileLock.tryAcquire(lockFile, { wait: false }).catch(() => undefined);
    if (!lock) continue;
    try {
      await fsp.rm(directory, { recursive: true, force: true });
      removed += 1;
    } finally {
      lock.release();
    }
  }
  return removed;
}
