/** v2 cpuset controller: cpuset.cpus and cpuset.mems (empty means "the parent's"). */
import path from 'node:path';
import { readOptional } from '../fs.js';
import { has, type V2ResourceController } from './controller.js';

export const cpusetController: V2ResourceController = {
  name: 'cpuset',
  wants: (r) => has(r.cpusetCpus) || has(r.cpusetMems),
  async apply(context, r) {
    const settings: Array<[string, string | undefined, string]> = [
      ['cpuset.cpus', r.cpusetCpus, 'cpuset-cpus'],
      ['cpuset.mems', r.cpusetMems, 'cpuset-mems'],
    ];
    for (const [file, value, flag] of settings) {
      if (value === undefined) continue;
      const target = path.join(context.dir, file);
      const old = (await context.fs.readFile(target)).trim();
      const parentEffective = path.join(path.dirname(context.dir), `${file}.effective`);
      await context.journal.write(target, value, {
        what: `${flag} ${value}`,
        // Empty (the parent's) is what it held, but the kernel refuses to empty the set of a
        // cgroup with processes (ENOSPC): the parent's effective set is the same thing in force.
        restore: old === '' ? null : old,
        explain: async (code) => {
          if (code !== 'EINVAL' && code !== 'ERANGE') return undefined;
          const available = await readOptional(context.fs, parentEffective);
          return `${flag} ${value} names ${file === 'cpuset.cpus' ? 'CPUs' : 'memory nodes'} the host (or the parent cgroup) does not have; available: ${(available ?? 'unknown').trim()}`;
        },
      });
      if (old === '') {
        context.journal.addUndo(`${flag} (${target} = the parent's)`, async () => {
          try {
            await context.fs.writeFile(target, '');
          } catch {
            await context.fs.writeFile(target, (await context.fs.readFile(parentEffective)).trim());
          }
        });
      }
    }
  },
};
