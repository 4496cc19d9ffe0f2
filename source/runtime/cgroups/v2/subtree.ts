/**
 * v2 controllers are available in a cgroup only when its parent lists them in
 * cgroup.subtree_control, so each ancestor of the container enables what the container needs.
 * Ancestors Gantry did not create only get controllers added, and those are taken back when the
 * create that added them fails. A cgroup with processes cannot delegate (makeRoomForChildren).
 */
import fs from 'node:fs';
import path from 'node:path';
import { ConflictError, UnsupportedError } from '../../errors.js';
import { errorCode, readOptional, type CgroupFs } from '../fs.js';

/** Controllers a container gets when the host offers them (the same set runc enables). */
export const WANTED_CONTROLLERS = ['cpuset', 'cpu', 'io', 'memory', 'hugetlb', 'pids', 'rdma', 'misc'];

function words(text: string | undefined): string[] {
  return (text ?? '').trim().split(/\s+/).filter(Boolean);
}

export async function availableControllers(cgroupFs: CgroupFs, dir: string): Promise<string[]> {
  return words(await readOptional(cgroupFs, path.join(dir, 'cgroup.controllers')));
}

/** Controllers of `wanted` that `dir` offers but does not enable for its children yet. */
export async function missingControllers(
  cgroupFs: CgroupFs,
  dir: string,
  wanted: string[],
): Promise<string[]> {
  const available = new Set(await availableControllers(cgroupFs, dir));
  const enabled = new Set(words(await readOptional(cgroupFs, path.join(dir, 'cgroup.subtree_control'))));
  return wanted.filter((controller) => available.has(controller) && !enabled.has(controller));
}

/**
 * Enables in `dir`'s subtree_control each controller of `wanted` that it offers. Failing to
 * enable one in `required` is an error; the rest are best effort. Each controller this call
 * enabled is appended to `enabledNow` (also when a later one fails), so the caller can undo.
 */
export async function enableControllers(
  cgroupFs: CgroupFs,
  dir: string,
  wanted: string[],
  required: Set<string>,
  enabledNow: string[] = [],
): Promise<void> {
  const available = new Set(await availableControllers(cgroupFs, dir));
  const enabled = new Set(words(await readOptional(cgroupFs, path.join(dir, 'cgroup.subtree_control'))));
  for (const controller of wanted) {
    if (enabled.has(controller)) continue;
    if (!available.has(controller)) {
      if (required.has(controller)) {
        throw new UnsupportedError(
          `the cgroup ${dir} does not offer the ${controller} controller to its children`,
          {
            hint: `enable it in the parent's cgroup.subtree_control (echo +${controller} > .../cgroup.subtree_control)`,
          },
        );
      }
      continue;
    }
    try {
      await cgroupFs.writeFile(path.join(dir, 'cgroup.subtree_control'), `+${controller}`);
      enabledNow.push(controller);
    } catch (error) {
      if (!required.has(controller)) continue;
      if (errorCode(error) === 'EBUSY') {
        throw new ConflictError(
          `cannot enable the ${controller} controller below ${dir}: that cgroup has processes of its own (cgroup v2 lets only leaf cgroups hold processes)`,
          { cause: error, hint: 'choose a --cgroup-parent that holds no processes' },
        );
      }
      throw error;
    }
  }
}

/** Undoes enableControllers in a cgroup Gantry did not create (best effort, newest first). */
export async function disableControllers(
  cgroupFs: CgroupFs,
  dir: string,
  controllers: string[],
): Promise<void> {
  for (const controller of [...controllers].reverse()) {
    await cgroupFs
      .writeFile(path.join(dir, 'cgroup.subtree_control'), `-${controller}`)
      .catch(() => undefined);
  }
}

/** Where the processes of a cgroup namespace's root go so that it can delegate (podman's name). */
export const INIT_LEAF = 'init';

/**
 * v2's no-internal-processes rule: a cgroup other than the root that holds processes cannot
 * enable controllers for its children. Called before anything is enabled in `dir` (a cgroup
 * Gantry did not make). The root of the whole tree is exempt. When `dir` is the root of this
 * process's cgroup namespace (Gantry inside a container or as a delegated service's only user,
 * where /sys/fs/cgroup is its own cgroup), its processes move to a leaf `init` below it, as
 * podman and docker-in-docker do; any other cgroup with processes is refused before it is
 * changed.
 */
export async function makeRoomForChildren(
  cgroupFs: CgroupFs,
  dir: string,
  options: { namespaceRoot: boolean },
): Promise<void> {
  // Only the root cgroup has no cgroup.type.
  if (!(await cgroupFs.exists(path.join(dir, 'cgroup.type')))) return;
  const holders = async (): Promise<string[]> =>
    words(await readOptional(cgroupFs, path.join(dir, 'cgroup.procs')));
  let pids = await holders();
  if (pids.length === 0) return;
  if (options.namespaceRoot) {
    const leaf = path.join(dir, INIT_LEAF);
    await cgroupFs.mkdir(leaf);
    for (const pid of pids) {
      await cgroupFs.writeFile(path.join(leaf, 'cgroup.procs'), pid).catch((error: unknown) => {
        // A process that exited meanwhile is no obstacle.
        if (errorCode(error) !== 'ESRCH') throw error;
      });
    }
    pids = await holders();
    if (pids.length === 0) return;
  }
  const shown =
    pids.length > 5 ? `${pids.slice(0, 5).join(', ')} and ${pids.length - 5} more` : pids.join(', ');
  throw new ConflictError(
    `cannot make ${dir} a cgroup parent: it has processes of its own (${shown}), and cgroup v2 lets a cgroup enable controllers for child cgroups only while it holds no processes (the no-internal-processes rule)`,
    {
      hint: `choose a --cgroup-parent (or GANTRY_CGROUP_PARENT) that holds no processes; a missing one is made for you. Nothing was changed in ${dir}`,
    },
  );
}

/** This process's cgroup as /proc/self/cgroup names it ("/" at the root of its cgroup namespace). */
export function ownCgroup(): string | undefined {
  try {
    const line = fs
      .readFileSync('/proc/self/cgroup', 'utf8')
      .split('\n')
      .find((entry) => entry.startsWith('0::'));
    return line?.slice(3);
  } catch {
    return undefined;
  }
}
