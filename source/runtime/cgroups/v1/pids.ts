/** v1 pids controller: the process limit, and the count for stats(). */
import path from 'node:path';
import { readOptional, type CgroupFs } from '../fs.js';
import type { CgroupStats } from '../types.js';
import { parseSingleNumber } from '../values.js';
import type { V1ResourceController } from './controller.js';

/** docker: 0 and -1 both mean "no limit", which the kernel spells "max". */
export function pidsMaxValue(limit: number): string {
  return limit <= 0 ? 'max' : String(limit);
}

export const pidsController: V1ResourceController = {
  name: 'pids',
  wants: (r) => r.pidsLimit !== undefined,
  async apply(context, r) {
    if (r.pidsLimit === undefined) return;
    await context.journal.write(path.join(context.dir, 'pids.max'), pidsMaxValue(r.pidsLimit), {
      what: `pids limit ${r.pidsLimit}`,
    });
  },
};

/** pids.current and pids.max; the same files on v1 and v2. */
export async function pidsStats(cgroupFs: CgroupFs, dir: string): Promise<CgroupStats['pids']> {
  const current = parseSingleNumber((await readOptional(cgroupFs, path.join(dir, 'pids.current'))) ?? '');
  if (current === undefined) return undefined;
  const limit = parseSingleNumber((await readOptional(cgroupFs, path.join(dir, 'pids.max'))) ?? '');
  return limit === undefined ? { current } : { current, limit };
}
