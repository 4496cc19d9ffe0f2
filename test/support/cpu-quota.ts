/**
 * Proves a CFS quota holds from what the kernel counts (cpu.stat periods and throttled periods,
 * the cgroup's CPU time), never from wall-clock shares: on a busy machine a burner may get less
 * than its quota, but it can never get more, and a period in which it was throttled is one in
 * which it used its whole quota.
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import type { CgroupStats } from '../../source/runtime/cgroups/types.js';
import { cgroupDirectories } from './cgroup-paths.js';
import { waitFor } from './engine.js';

/**
 * Gives the test's own cgroup parent the largest CPU weight (v1 cpu.shares, v2 cpu.weight), so a
 * burner below it can always demand more than its quota, however busy the machine is: then the
 * quota, not the load, is what holds it back, and the kernel throttles it. Nothing outside the
 * test's parent is written.
 */
export function favourParent(parent: string): void {
  let written = 0;
  for (const dir of cgroupDirectories(parent)) {
    for (const [file, value] of [
      ['cpu.shares', '262144'],
      ['cpu.weight', '10000'],
    ] as const) {
      if (!fs.existsSync(path.join(dir, file))) continue;
      fs.writeFileSync(path.join(dir, file), value);
      written += 1;
    }
  }
  if (written === 0) throw new Error(`the cgroup parent ${parent} has no cpu.shares or cpu.weight`);
}

export interface QuotaWindow {
  /** CPU time the cgroup used in the window, in nanoseconds. */
  usageNanos: number;
  /** CFS periods the kernel counted in the window. */
  periods: number;
  /** Periods in which the quota ran out. */
  throttledPeriods: number;
  throttledNanos: number;
}

function cpuOf(stats: CgroupStats): Required<Pick<NonNullable<CgroupStats['cpu']>, 'usageNanos'>> & {
  periods: number;
  throttledPeriods: number;
  throttledNanos: number;
} {
  const cpu = stats.cpu;
  if (cpu?.periods === undefined || cpu.throttledPeriods === undefined || cpu.throttledNanos === undefined)
    throw new Error(`the cgroup's stats have no CFS bandwidth figures: ${JSON.stringify(cpu)}`);
  return {
    usageNanos: cpu.usageNanos,
    periods: cpu.periods,
    throttledPeriods: cpu.throttledPeriods,
    throttledNanos: cpu.throttledNanos,
  };
}

/**
 * Samples the cgroup of a CPU burner until the kernel has throttled it in `throttledPeriods`
 * periods, then asserts the quota held over that window: the CPU time used is at most the quota
 * of every period counted (plus what the cgroup held when the window began), and at least most
 * of the quota of each throttled period (the kernel hands out runtime in slices of 5 ms, so a
 * throttled period may leave part of a slice unused on another CPU).
 */
export async function expectQuotaHolds(
  sample: () => Promise<CgroupStats>,
  quota: { quotaMicros: number; periodMicros: number },
  throttledPeriods = 5,
): Promise<QuotaWindow> {
  const first = cpuOf(await sample());
  const last = await waitFor(
    async () => {
      const now = cpuOf(await sample());
      return now.throttledPeriods - first.throttledPeriods >= throttledPeriods ? now : undefined;
    },
    60_000,
    `the kernel to throttle the cgroup in ${throttledPeriods} periods`,
  );
  const window: QuotaWindow = {
    usageNanos: last.usageNanos - first.usageNanos,
    periods: last.periods - first.periods,
    throttledPeriods: last.throttledPeriods - first.throttledPeriods,
    throttledNanos: last.throttledNanos - first.throttledNanos,
  };
  const quotaNanos = quota.quotaMicros * 1000;
  const sliceNanos = 5_000_000;
  const what = JSON.stringify(window);
  // Runtime comes only from the refill of each period; at the window's start the cgroup may
  // still hold up to a period's quota and a slice per CPU handed out before it.
  expect(window.usageNanos, what).toBeLessThanOrEqual(quotaNanos * (window.periods + 2) + 2 * sliceNanos);
  // The first throttled period counted may have begun before the window.
  expect(window.usageNanos, what).toBeGreaterThanOrEqual(
    (window.throttledPeriods - 1) * Math.max(quotaNanos - sliceNanos, 0),
  );
  expect(window.throttledNanos, what).toBeGreaterThan(0);
  return window;
}
