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
      await context.journal.write(path.join(context.dir, file), value, {
        what: `${flag} ${value}`,
        explain: async (code) => {
          if (code !== 'EINVAL' && code !== 'ERANGE') return undefined;
          const available = await readOptional(
            context.fs,
            path.join(path.dirname(context.dir), `${file}.effective`),
          );
          return `${flag} ${value} names ${file === 'cpuset.cpus' ? 'CPUs' : 'memory nodes'} the host (or the parent cgroup) does not have; available: ${(available ?? 'unknown').trim()}`;
        },
      });
    }
  },
};
