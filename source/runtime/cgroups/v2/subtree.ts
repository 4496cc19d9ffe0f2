/**
 * v2 controllers are available in a cgroup only when its parent lists them in
 * cgroup.subtree_control, so each ancestor of the container enables what the container needs.
 * Ancestors Gantry did not create only ever get controllers added, never removed.
 */
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

/**
 * Enables in `dir`'s subtree_control each controller of `wanted` that it offers. Failing to
 * enable one in `required` is an error; the rest are best effort.
 */
export async function enableControllers(
  cgroupFs: CgroupFs,
  dir: string,
  wanted: string[],
  required: Set<string>,
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
