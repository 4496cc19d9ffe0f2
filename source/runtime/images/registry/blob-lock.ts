/**
 * The lock of one blob of the pull cache (`<digest>.lock` beside `<digest>`), which leaves no
 * file behind: the holder unlinks the lock file before it lets go. A waiter that had opened the
 * unlinked file then holds a lock nobody else can see; it notices (the path names another file,
 * or none) and takes the lock again. `sweepStaleBlobLocks` removes lock files an older gantry or
 * a killed process left, for `image prune`; `sweepPullCache` removes every download nobody holds,
 * once a pull was killed.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { FileLock } from '../../fsutil.js';

const DAY_MS = 24 * 3600_000;

export interface BlobLock {
  release(): void;
}

function holdAndRemove(lockFile: string, lock: FileLock): BlobLock | undefined {
  if (!lock.holdsPath()) {
    lock.release();
    return undefined;
  }
  return {
    release() {
      try {
        // Unlinked while still held (synchronously: before the unlock), so whoever opens the path
        // next makes a new file and a new lock.
        fs.rmSync(lockFile, { force: true });
      } finally {
        lock.release();
      }
    },
  };
}

/** Waits for the lock of `file` (a blob's path in the cache). */
export async function acquireBlobLock(file: string): Promise<BlobLock> {
  const lockFile = `${file}.lock`;
  for (;;) {
    const held = await holdAndRemove(lockFile, await FileLock.acquire(lockFile, { timeoutMs: DAY_MS }));
    if (held) return held;
  }
}

/** Removes the lock files of the cache directory that nobody holds; returns how many. */
export async function sweepStaleBlobLocks(directory: string): Promise<number> {
  let names: string[];
  try {
    names = await fsp.readdir(directory);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names.filter((candidate) => candidate.endsWith('.lock'))) {
    const lockFile = path.join(directory, name);
    const lock = await FileLock.tryAcquire(lockFile, { wait: false, create: false }).catch(() => undefined);
    if (!lock) continue;
    if (lock.holdsPath()) {
      await fsp.rm(lockFile, { force: true });
      removed += 1;
    }
    lock.release();
  }
  return removed;
}

/**
 * Removes what a killed pull left in the cache: partial and complete downloads and their lock
 * files, each only while holding its lock (a pull under way holds the lock of what it downloads,
 * and has linked what it downloaded into its work directory). A pull that failed, rather than
 * being killed, leaves its partial download for the next pull to continue from; a kill leaves no
 * process to say the bytes are wanted, so they go. Returns how many blobs were removed.
 */
export async function sweepPullCache(directory: string): Promise<number> {
  let names: string[];
  try {
    names = await fsp.readdir(directory);
  } catch {
    return 0;
  }
  const blobs = new Set(names.map((name) => name.replace(/\.(partial|lock)$/, '')));
  let removed = 0;
  for (const blob of blobs) {
    const file = path.join(directory, blob);
    const lockFile = `${file}.lock`;
    const lock = await FileLock.tryAcquire(lockFile, { wait: false }).catch(() => undefined);
    if (!lock) continue;
    try {
      if (!lock.holdsPath()) continue;
      await fsp.rm(file, { force: true });
      await fsp.rm(`${file}.partial`, { force: true });
      fs.rmSync(lockFile, { force: true });
      removed += 1;
    } finally {
      lock.release();
    }
  }
  return removed;
}
