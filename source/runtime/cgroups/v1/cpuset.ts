/**
 * v1 cpuset controller. A v1 cpuset cgroup starts with empty cpuset.cpus and cpuset.mems and
 * refuses tasks until both are set, so every directory Gantry creates is first given its
 * parent's values.
 */
import path from 'node:path';
import { ConflictError } from '../../errors.js';
import { readOptional, type CgroupFs } from '../fs.js';
import type { Resources } from '../types.js';
import { has, type V1ApplyContext, type V1ResourceController } from './controller.js';

const CPUS = 'cpuset.cpus';
const MEMS = 'cpuset.mems';

/**
 * Copies the parent's cpus and mems into `dir` where they are empty. `ours` says whether Gantry
 * may write to the directory (it created it); an empty foreign parent is reported, not fixed.
 */
export async function initialiseCpuset(cgroupFs: CgroupFs, dir: string, ours: boolean): Promise<void> {
  for (const file of [CPUS, MEMS]) {
    const current = ((await readOptional(cgroupFs, path.join(dir, file))) ?? '').trim();
    if (current !== '') continue;
    if (!ours) {
      throw new ConflictError(
        `the cgroup ${dir} has an empty ${file}, so no process can join a cgroup below it`,
        {
          hint: `Gantry does not change cgroups it did not create; set ${file} there or choose another --cgroup-parent`,
        },
      );
    }
    const parentValue = (await cgroupFs.readFile(path.join(path.dirname(dir), file))).trim();
    await cgroupFs.writeFile(path.join(dir, file), parentValue);
  }
}

async function available(context: V1ApplyContext, file: string): Promise<string> {
  const parent = path.dirname(context.dir);
  const effective = (
    await readOptional(context.fs, path.join(parent, file.replace('cpuset.', 'cpuset.effective_')))
  )?.trim();
  if (effective) return effective;
  return ((await readOptional(context.fs, path.join(parent, file))) ?? '').trim() || 'unknown';
}

export const cpusetController: V1ResourceController = {
  name: 'cpuset',
  wants: (r: Resources) => has(r.cpusetCpus) || has(r.cpusetMems),
  async apply(context, r) {
    const settings: Array<[string, string | undefined, string]> = [
      [CPUS, r.cpusetCpus, 'cpuset-cpus'],
      [MEMS, r.cpusetMems, 'cpuset-mems'],
    ];
    for (const [file, value, flag] of settings) {
      if (value === undefined || value === '') continue;
      await context.journal.write(path.join(context.dir, file), value, {
        what: `${flag} ${value}`,
        explain: async (code) =>
          code === 'EINVAL' || code === 'ERANGE'
            ? `${flag} ${value} names ${file === CPUS ? 'CPUs' : 'memory nodes'} the host (or the parent cgroup) does not have; available: ${await available(context, file)}`
            : undefined,
      });
    }
  },
};
