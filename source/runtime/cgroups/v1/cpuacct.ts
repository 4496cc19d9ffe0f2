/** v1 cpuacct controller: CPU time used, in total and split into user and system. */
import path from 'node:path';
import { readOptional, type CgroupFs } from '../fs.js';
import { parseKeyValues, parseSingleNumber } from '../values.js';

/**
 * cpuacct.stat counts in USER_HZ ticks, which Linux fixes at 100 per second for userspace
 * whatever the kernel's HZ (sysconf(_SC_CLK_TCK) is always 100 on Linux).
 */
const NANOS_PER_USER_HZ_TICK = 1e9 / 100;

export async function cpuacctStats(
  cgroupFs: CgroupFs,
  dir: string,
  options: { summary?: boolean } = {},
): Promise<{ usageNanos: number; userNanos?: number; systemNanos?: number } | undefined> {
  const usage = parseSingleNumber((await readOptional(cgroupFs, path.join(dir, 'cpuacct.usage'))) ?? '');
  if (usage === undefined) return undefined;
  const result: { usageNanos: number; userNanos?: number; systemNanos?: number } = { usageNanos: usage };
  if (options.summary) return result;
  const stat = await readOptional(cgroupFs, path.join(dir, 'cpuacct.stat'));
  if (stat !== undefined) {
    const ticks = parseKeyValues(stat);
    const user = ticks.get('user');
    const system = ticks.get('system');
    if (user !== undefined) result.userNanos = user * NANOS_PER_USER_HZ_TICK;
    if (system !== undefined) result.systemNanos = system * NANOS_PER_USER_HZ_TICK;
  }
  return result;
}
