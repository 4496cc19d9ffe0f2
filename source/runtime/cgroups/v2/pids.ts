/** v2 pids controller: pids.max, and pids.current/max for stats(). */
import path from 'node:path';
import { readOptional, type CgroupFs } from '../fs.js';
import type { CgroupStats } from '../types.js';
import { parseSingleNumber } from '../values.js';
import type { V2ResourceController } from './controller.js';

export const pidsController: V2ResourceController = {
  name: 'pids',
  wants: (r) => r.pidsLimit !== undefined,
  async apply(context, r) {
    if (r.pidsLimit === undefined) return;
    // docker: 0 and -1 both mean no limit.
    await context.journal.write(
      path.join(context.dir, 'pids.max'),
      r.pidsLimit <= 0 ? 'max' : String(r.pidsLimit),
      {
        what: `pids limit ${r.pidsLimit}`,
      },
    );
  },
};

export async function pidsStats(cgroupFs: CgroupFs, dir: string): Promise<CgroupStats['pids']> {
  const current = parseSingleNumber((await readOptional(cgroupFs, path.join(dir, 'pids.current'))) ?? '');
  if (current === undefined) return undefined;
  const limit = parseSingleNumber((await readOptional(cgroupFs, path.join(dir, 'pids.max'))) ?? '');
  return limit === undefined ? { current } : { current, limit };
}
