/** v2 cpu controller: cpu.weight (from docker's shares) and cpu.max ("quota period"). */
import path from 'node:path';
import { sharesToWeight } from '../convert.js';
import { readOptional, type CgroupFs } from '../fs.js';
import type { CgroupStats } from '../types.js';
import { parseKeyValues } from '../values.js';
import { has, type V2ResourceController } from './controller.js';

const DEFAULT_PERIOD = 100_000;

export function parseCpuMax(text: string): { quota: number; period: number } {
  const [quota, period] = text.trim().split(/\s+/);
  return {
    quota: quota === 'max' || quota === undefined ? -1 : Number(quota),
    period: period === undefined ? DEFAULT_PERIOD : Number(period),
  };
}

export const cpuController: V2ResourceController = {
  name: 'cpu',
  wants: (r) => has(r.cpuShares) || has(r.cpuPeriod) || has(r.cpuQuota),
  async apply(context, r) {
    if (r.cpuShares !== undefined && r.cpuShares !== 0) {
      const weight = sharesToWeight(r.cpuShares);
      await context.journal.write(path.join(context.dir, 'cpu.weight'), String(weight), {
        what: `cpu shares ${r.cpuShares} (cpu.weight ${weight})`,
      });
    }
    const period = r.cpuPeriod === 0 ? undefined : r.cpuPeriod;
    const quota = r.cpuQuota === 0 ? undefined : r.cpuQuota;
    if (period === undefined && quota === undefined) return;
    const file = path.join(context.dir, 'cpu.max');
    // cpu.max holds both numbers; the one not given keeps its current value.
    const current = parseCpuMax(await context.fs.readFile(file));
    const newQuota = quota ?? current.quota;
    const newPeriod = period ?? current.period;
    const value = `${newQuota < 0 ? 'max' : newQuota} ${newPeriod}`;
    await context.journal.write(file, value, {
      what: `cpu quota ${newQuota} with period ${newPeriod}`,
      explain: async (code) =>
        code === 'EINVAL'
          ? `cpu quota ${newQuota} with period ${newPeriod} is refused: the quota must be at least 1000 microseconds and the period between 1000 and 1000000`
          : undefined,
    });
  },
};

export async function cpuStats(cgroupFs: CgroupFs, dir: string): Promise<CgroupStats['cpu']> {
  const text = await readOptional(cgroupFs, path.join(dir, 'cpu.stat'));
  if (text === undefined) return undefined;
  const stat = parseKeyValues(text);
  const micro = (key: string): number | undefined => {
    const value = stat.get(key);
    return value === undefined ? undefined : value * 1000;
  };
  const result: NonNullable<CgroupStats['cpu']> = { usageNanos: micro('usage_usec') ?? 0 };
  const user = micro('user_usec');
  if (user !== undefined) result.userNanos = user;
  const system = micro('system_usec');
  if (system !== undefined) result.systemNanos = system;
  const periods = stat.get('nr_periods');
  if (periods !== undefined) result.periods = periods;
  const throttled = stat.get('nr_throttled');
  if (throttled !== undefined) result.throttledPeriods = throttled;
  const throttledNanos = micro('throttled_usec');
  if (throttledNanos !== undefined) result.throttledNanos = throttledNanos;
  const max = await readOptional(cgroupFs, path.join(dir, 'cpu.max'));
  if (max !== undefined) {
    const { quota, period } = parseCpuMax(max);
    if (quota > 0 && period > 0) result.quotaCpus = quota / period;
  }
  return result;
}
