/**
 * Directory work shared by both drivers: the container's path below a hierarchy root, creating
 * it (marking the parents Gantry made), removing it while exiting processes let go, and removing
 * empty parents that Gantry made.
 */
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConflictError, InvalidArgumentError } from '../errors.js';
import { errorCode, readOptional, type CgroupFs } from './fs.js';

const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_.:@-]*$/;

/** Checks a cgroup parent ("gantry", "a/b") and container name; returns the path segments. */
export function cgroupSegments(parent: string, name: string): { parent: string[]; all: string[] } {
  const parentSegments = parent.split('/').filter((segment) => segment !== '');
  for (const segment of parentSegments) {
    if (!SEGMENT.test(segment) || segment === '..' || segment === '.') {
      throw new InvalidArgumentError(`cgroup parent "${parent}" has the invalid part "${segment}"`, {
        hint: 'use names of letters, digits, "_", ".", "-", separated by "/"',
      });
    }
  }
  if (!SEGMENT.test(name)) {
    throw new InvalidArgumentError(`cgroup name "${name}" is not valid`, {
      hint: 'use letters, digits, "_", ".", "-" (no "/")',
    });
  }
  return { parent: parentSegments, all: [...parentSegments, name] };
}

export interface NewDirectory {
  dir: string;
  /** True for the container's own directory, false for a parent. */
  leaf: boolean;
}

/**
 * mkdir -p of `segments` below `mountPoint`. Calls `prepare` for every directory in the chain,
 * top-down (new or not), so a controller can initialise it before a child is made. Returns
 * the directories this call created, top-down.
 */
export async function ensureCgroupDirectory(
  cgroupFs: CgroupFs,
  mountPoint: string,
  segments: string[],
  prepare: (dir: string, created: boolean, leaf: boolean) => Promise<void>,
  warn: (message: string) => void,
): Promise<NewDirectory[]> {
  const release = await cgroupFs.lock?.(mountPoint);
  try {
    return await makeChain(cgroupFs, mountPoint, segments, prepare, warn);
  } finally {
    release?.();
  }
}

async function makeChain(
  cgroupFs: CgroupFs,
  mountPoint: string,
  segments: string[],
  prepare: (dir: string, created: boolean, leaf: boolean) => Promise<void>,
  warn: (message: string) => void,
): Promise<NewDirectory[]> {
  const created: NewDirectory[] = [];
  // Another Gantry process may remove an empty parent between our mkdir calls (removeParentIfEmpty
  // after its last container); start over a few times rather than fail.
  for (let attempt = 0; ; attempt += 1) {
    try {
      let dir = mountPoint;
      for (const [index, segment] of segments.entries()) {
        dir = path.join(dir, segment);
        const leaf = index === segments.length - 1;
        const isNew = await cgroupFs.mkdir(dir);
        if (isNew) {
          created.push({ dir, leaf });
          if (!leaf) {
            await cgroupFs.markCreated(dir).catch((error: unknown) => {
              warn(
                `could not mark ${dir} as created by Gantry, so it will not be removed when empty: ${String(error)}`,
              );
            });
          }
        }
        await prepare(dir, isNew, leaf);
      }
      return created;
    } catch (error) {
      if (errorCode(error) !== 'ENOENT' || attempt >= 3) {
        (error as { createdDirectories?: NewDirectory[] }).createdDirectories = created;
        throw error;
      }
    }
  }
}

/** Directories a failed ensureCgroupDirectory had made, so the caller can remove them. */
export function createdBeforeFailure(error: unknown): NewDirectory[] {
  return (error as { createdDirectories?: NewDirectory[] } | undefined)?.createdDirectories ?? [];
}

export async function readProcs(cgroupFs: CgroupFs, dir: string): Promise<number[]> {
  const text = await readOptional(cgroupFs, path.join(dir, 'cgroup.procs'));
  return (text ?? '')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map(Number);
}

/**
 * rmdir of a cgroup, retried while the kernel reports it busy: exiting processes (and zombies
 * not yet reaped) keep a cgroup busy for a moment after they were killed.
 */
export async function removeCgroupDirectory(
  cgroupFs: CgroupFs,
  dir: string,
  timeoutMs = 3000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let delay = 5;
  for (;;) {
    try {
      await cgroupFs.rmdir(dir);
      return;
    } catch (error) {
      const code = errorCode(error);
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || Date.now() > deadline) {
        if (code === 'EBUSY') {
          const pids = await readProcs(cgroupFs, dir).catch(() => []);
          throw new ConflictError(
            `the cgroup ${dir} is still in use${pids.length > 0 ? ` by processes ${pids.join(', ')}` : ' (it has child cgroups)'}`,
            { cause: error, hint: "stop the container's processes before removing its cgroup" },
          );
        }
        throw error;
      }
      await sleep(delay);
      delay = Math.min(delay * 2, 100);
    }
  }
}

/**
 * Removes the parent chain below `mountPoint`, deepest first, while each directory is empty and
 * marked as created by Gantry. Stops at the first one in use or not Gantry's.
 */
export async function removeEmptyParents(
  cgroupFs: CgroupFs,
  mountPoint: string,
  parentSegments: string[],
): Promise<void> {
  const release = await cgroupFs.lock?.(mountPoint);
  try {
    await removeChain(cgroupFs, mountPoint, parentSegments);
  } finally {
    release?.();
  }
}

async function removeChain(cgroupFs: CgroupFs, mountPoint: string, parentSegments: string[]): Promise<void> {
  for (let depth = parentSegments.length; depth > 0; depth -= 1) {
    const dir = path.join(mountPoint, ...parentSegments.slice(0, depth));
    if (!(await cgroupFs.exists(dir))) continue;
    let ours = false;
    try {
      ours = await cgroupFs.createdByGantry(dir);
    } catch {
      ours = false;
    }
    if (!ours) return;
    try {
      await cgroupFs.rmdir(dir);
    } catch (error) {
      const code = errorCode(error);
      if (code === 'ENOENT') continue;
      if (code === 'EBUSY' || code === 'ENOTEMPTY') return;
      throw error;
    }
  }
}
