/**
 * Which ranges of the `gantry` subordinate ids each container holds (`--userns=auto`, keep-id):
 * <root>/userns/allocations.json, changed only under <root>/userns/lock and replaced atomically.
 * A range is held from create until the container is removed; an entry whose container
 * directory is gone (a create or rm killed half-way) is released by the next allocation, so a
 * kill -9 at any point leaks nothing for long.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { ConflictError, CorruptStateError, GantryError, hasCode } from '../errors.js';
import { atomicWriteJson, FileLock } from '../fsutil.js';
import { PRIVATE_DIRECTORY_MODE, PRIVATE_FILE_MODE } from '../state-permissions.js';
import { ensureSubidRanges, subidFiles, type SubidRange } from './subid.js';

export interface HeldRange {
  uid: number;
  gid: number;
  size: number;
}

interface AllocationState {
  version: 1;
  containers: Record<string, HeldRange>;
}

/** The ranges are all taken. */
export class NoFreeRangeError extends GantryError {}

function directory(root: string): string {
  return path.join(root, 'userns');
}

/** Runs `action` holding <root>/userns/lock (the ranges, and the chowned layer copies). */
export async function withUsernsLock<T>(root: string, action: () => Promise<T>): Promise<T> {
  await fsp.mkdir(directory(root), { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
  const lock = await FileLock.tryAcquire(path.join(directory(root), 'lock'), {
    wait: true,
    timeoutMs: 60_000,
  });
  if (!lock) {
    throw new ConflictError('the user namespace ranges are busy: another gantry process holds their lock', {
      hint: `try again; if it persists, see which process holds ${path.join(directory(root), 'lock')} (fuser)`,
    });
  }
  try {
    return await action();
  } finally {
    lock.release();
  }
}

function file(root: string): string {
  return path.join(directory(root), 'allocations.json');
}

async function readState(root: string): Promise<AllocationState> {
  let text: string;
  try {
    text = await fsp.readFile(file(root), 'utf8');
  } catch (error) {
    if (hasCode(error, 'ENOENT')) return { version: 1, containers: {} };
    throw error;
  }
  try {
    const state = JSON.parse(text) as AllocationState;
    if (state.version !== 1 || typeof state.containers !== 'object') throw new Error('unknown layout');
    return state;
  } catch (error) {
    throw new CorruptStateError(
      `the user namespace allocations ${file(root)} are damaged: ${(error as Error).message}`,
      {
        cause: error,
        hint: 'remove the file when no container with --userns=auto exists; it is rebuilt',
      },
    );
  }
}

/** The lowest start in `range` where `size` ids are free of every `taken` range. */
function firstFit(
  range: SubidRange,
  size: number,
  taken: readonly { start: number; size: number }[],
): number | undefined {
  let candidate = range.start;
  for (const held of [...taken].sort((a, b) => a.start - b.start)) {
    if (held.start + held.size <= candidate) continue;
    if (held.start >= candidate + size) break;
    candidate = held.start + held.size;
  }
  return candidate + size <= range.start + range.count ? candidate : undefined;
}

/**
 * Gives container `id` `size` ids of the uid range and of the gid range; `exists(id)` says
 * whether a container still exists (an entry of one that does not is released first).
 */
export async function allocateRange(
  root: string,
  id: string,
  size: number,
  exists: (id: string) => boolean,
): Promise<HeldRange> {
  return withUsernsLock(root, async () => {
    const state = await readState(root);
    for (const other of Object.keys(state.containers)) if (!exists(other)) delete state.containers[other];
    const ranges = ensureSubidRanges();
    const held = Object.values(state.containers);
    const uid = firstFit(
      ranges.uid,
      size,
      held.map((h) => ({ start: h.uid, size: h.size })),
    );
    const gid = firstFit(
      ranges.gid,
      size,
      held.map((h) => ({ start: h.gid, size: h.size })),
    );
    if (uid === undefined || gid === undefined) {
      const files = subidFiles();
      throw new NoFreeRangeError(
        `no free range of ${size} ids is left in the gantry entries of ${files.uid} and ${files.gid} (${held.length} containers hold one)`,
        { hint: 'remove containers made with --userns=auto, or make the gantry entries larger' },
      );
    }
    state.containers[id] = { uid, gid, size };
    await atomicWriteJson(file(root), state, PRIVATE_FILE_MODE);
    return state.containers[id];
  });
}

/** Releases the range of container `id` (removed, or its create failed). */
export async function releaseRange(root: string, id: string): Promise<void> {
  if (!fs.existsSync(file(root))) return;
  await withUsernsLock(root, async () => {
    const state = await readState(root);
    if (!state.containers[id]) return;
    delete state.containers[id];
    await atomicWriteJson(file(root), state, PRIVATE_FILE_MODE);
  });
}

/** The ranges held now (for tests and `inspect`-like views). */
export async function heldRanges(root: string): Promise<Record<string, HeldRange>> {
  return (await readState(root)).containers;
}
