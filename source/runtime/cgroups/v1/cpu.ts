/**
 * v1 cpu controller: CFS shares, period and quota, and the throttling figures of cpu.stat.
 * (Usage comes from cpuacct, which a host may mount apart from cpu; see cpuacct.ts.)
 */
import path from 'node:path';
import { InvalidArgumentError } from '../../errors.js';
import { errorCode, readOptional, type CgroupFs } from '../fs.js';
import type { CgroupStats, Resources } from '../types.js';
import { parseKeyValues, parseSingleNumber } from '../values.js';
import { has, type V1ApplyContext, type V1ResourceController } from './controller.js';

async function setShares(context: V1ApplyContext, shares: number): Promise<void> {
  const file = path.join(context.dir, 'cpu.shares');
  await context.journal.write(file, String(shares), { what: `cpu shares ${shares}` });
  // The kernel clamps instead of refusing; read back so a clamped value is not silently kept.
  const applied = parseSingleNumber(await context.fs.readFile(file));
  if (applied !== undefined && applied !== shares) {
    throw new InvalidArgumentError(
      `cpu shares ${shares} is outside what the kernel accepts (it would use ${applied}); the ${
        shares > applied ? 'maximum' : 'minimum'
      } is ${applied}`,
    );
  }
}

async function setPeriodAndQuota(
  context: V1ApplyContext,
  period: number | undefined,
  quota: number | undefined,
): Promise<void> {
  const periodFile = path.join(context.dir, 'cpu.cfs_period_us');
  const quotaFile = path.join(context.dir, 'cpu.cfs_quota_us');
  const quotaExplain = async (code: string): Promise<string | undefined> =>
    code === 'EINVAL'
      ? `cpu quota ${quota} is refused: it must be at least 1000 microseconds and fit within the parent cgroup's own quota`
      : undefined;
  let periodPending = false;
  if (period !== undefined) {
    try {
      await context.journal.write(periodFile, String(period), { what: `cpu period ${period}` });
    } catch (error) {
      // As runc: a shorter period can be refused while the old quota/period ratio would exceed
      // the parent's; setting the quota first makes it fit, so retry the period after it.
      if (errorCode((error as Error).cause) !== 'EINVAL' || quota === undefined) throw error;
      periodPending = true;
    }
  }
  if (quota !== undefined) {
    await context.journal.write(quotaFile, String(quota), {
      what: `cpu quota ${quota}`,
      explain: quotaExplain,
    });
  }
  if (periodPending) {
    await context.journal.write(periodFile, String(period), { what: `cpu period ${period}` });
  }
}

export const cpuController: V1ResourceController = {
  name: 'cpu',
  wants: (r: Resources) => has(r.cpuShares) || has(r.cpuPeriod) || has(r.cpuQuota),
  async apply(context, r) {
    if (r.cpuShares !== undefined && r.cpuShares !== 0) await setShares(context, r.cpuShares);
    const period = r.cpuPeriod === 0 ? undefined : r.cpuPeriod;
    const quota = r.cpuQuota === 0 ? undefined : r.cpuQuota;
    if (period !== undefined || quota !== undefined) await setPeriodAndQuota(context, period, quota);
  },
};

/** Throttling and quota from the cpu hierarchy (usage is added from cpuacct). */
export async function cpuThrottlingStats(
  cgroupFs: CgroupFs,
  dir: string,
): Promise<Omit<NonNullable<CgroupStats['cpu']>, 'usageNanos'> | undefined> {
  const stat = await readOptional(cgroupFs, path.join(dir, 'cpu.stat'));
  if (stat === undefined) return undefined;
  const values = parseKeyValues(stat);
  const result: Omit<NonNullable<CgroupStats['cpu']>, 'usageNanos'> = {};
  const periods = values.get('nr_periods');
  if (periods !== undefined) result.periods = periods;
  const throttled = values.get('nr_throttled');
  if (throttled !== undefined) result.throttledPeriods = throttled;
  const throttledTime = values.get('throttled_time');
  if (throttledTime !== undefined) result.throttledNanos = throttledTime;
  const quota = parseSingleNumber((await readOptional(cgroupFs, path.join(dir, 'cpu.cfs_quota_us'))) ?? '');
  const period = parseSingleNumber((await readOptional(cgroupFs, path.join(dir, 'cpu.cfs_period_us'))) ?? '');
  if (quota !== undefined && quota > 0 && period) result.quotaCpus = quota / period;
  return result;
}
