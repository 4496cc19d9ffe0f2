/**
 * v1 memory controller: hard and soft limits, memory+swap, kernel memory, the OOM killer switch,
 * and the memory figures of stats().
 */
import { memoryAmount } from '../../units.js';
import path from 'node:path';
import { UnsupportedError } from '../../errors.js';
import { readOptional, type CgroupFs } from '../fs.js';
import type { CgroupStats } from '../types.js';
import { isUnlimited, limitOrUndefined, parseKeyValues, parseSingleNumber } from '../values.js';
import { has, type V1ApplyContext, type V1ResourceController } from './controller.js';

const LIMIT = 'memory.limit_in_bytes';
const SWAP_LIMIT = 'memory.memsw.limit_in_bytes';
const USAGE = 'memory.usage_in_bytes';
const KMEM_LIMIT = 'memory.kmem.limit_in_bytes';

function describeLimit(value: number | undefined): string {
  return value === undefined || isUnlimited(value) ? 'unlimited' : memoryAmount(value);
}

async function readNumber(cgroupFs: CgroupFs, file: string): Promise<number | undefined> {
  const text = await readOptional(cgroupFs, file);
  return text === undefined ? undefined : parseSingleNumber(text);
}

async function setMemoryLimit(context: V1ApplyContext, value: number): Promise<void> {
  const { dir, fs: cgroupFs } = context;
  const old = await readNumber(cgroupFs, path.join(dir, LIMIT));
  await context.journal.write(path.join(dir, LIMIT), String(value), {
    what: `memory limit ${describeLimit(value)}`,
    explain: async (code) => {
      if (code === 'EBUSY') {
        const usage = await readNumber(cgroupFs, path.join(dir, USAGE));
        return (
          `memory limit ${describeLimit(value)} is below the container's current usage ${usage === undefined ? 'unknown' : memoryAmount(usage)} and the kernel ` +
          `could not reclaim enough; the old limit ${describeLimit(old)} stays`
        );
      }
      const swapLimit = await readNumber(cgroupFs, path.join(dir, SWAP_LIMIT));
      if (code === 'EINVAL' && swapLimit !== undefined && (value < 0 || value > swapLimit)) {
        return (
          `memory limit ${describeLimit(value)} is above the memory+swap limit ${describeLimit(swapLimit)}; set --memory-swap to at least ` +
          `${describeLimit(value)} (or -1) in the same update; the old limit ${describeLimit(old)} stays`
        );
      }
      return undefined;
    },
  });
}

async function setSwapLimit(context: V1ApplyContext, value: number): Promise<void> {
  const { dir, fs: cgroupFs } = context;
  await context.journal.write(path.join(dir, SWAP_LIMIT), String(value), {
    what: `memory+swap limit ${describeLimit(value)}`,
    explain: async (code) => {
      const memoryLimit = await readNumber(cgroupFs, path.join(dir, LIMIT));
      if (code === 'EINVAL' && memoryLimit !== undefined && value >= 0 && value < memoryLimit) {
        return `memory+swap limit ${describeLimit(value)} is below the memory limit ${describeLimit(memoryLimit)}; --memory-swap must be at least --memory`;
      }
      if (code === 'EBUSY') {
        const usage = await readNumber(cgroupFs, path.join(dir, 'memory.memsw.usage_in_bytes'));
        return `memory+swap limit ${describeLimit(value)} is below the container's current memory+swap usage ${usage === undefined ? 'unknown' : memoryAmount(usage)}`;
      }
      return undefined;
    },
  });
}

async function setKernelMemory(context: V1ApplyContext, value: number): Promise<void> {
  const file = path.join(context.dir, KMEM_LIMIT);
  const noAccounting = `this kernel has no kernel-memory accounting, so --kernel-memory ${describeLimit(value)} cannot be enforced`;
  if (!(await context.fs.exists(file))) {
    throw new UnsupportedError(`${noAccounting} (${KMEM_LIMIT} is missing)`, {
      hint: 'kernel memory is counted in --memory on current kernels; drop --kernel-memory',
    });
  }
  try {
    await context.journal.write(file, String(value), { what: `kernel memory limit ${describeLimit(value)}` });
  } catch (error) {
    throw new UnsupportedError(`${noAccounting} (the kernel refuses ${KMEM_LIMIT})`, { cause: error });
  }
  // Kernels since 5.16 keep the file but ignore what is written to it.
  const applied = await readNumber(context.fs, file);
  if (value >= 0 && (applied === undefined || isUnlimited(applied))) {
    throw new UnsupportedError(`${noAccounting} (it accepts ${KMEM_LIMIT} but ignores the value)`, {
      hint: 'kernel memory is counted in --memory on current kernels; drop --kernel-memory',
    });
  }
}

/** Per hierarchy: undefined while unknown, else the error a kernel-memory limit meets there. */
const kernelMemoryProbes = new Map<string, Promise<Error | null>>();

/**
 * Finds out, before any container cgroup exists, whether this kernel enforces --kernel-memory:
 * the limit is written to a throwaway cgroup of Gantry's own (removed at once) and read back.
 * The answer is kept for the life of the process.
 */
export async function probeKernelMemory(
  cgroupFs: CgroupFs,
  mountPoint: string,
  value: number,
): Promise<void> {
  let probe = kernelMemoryProbes.get(mountPoint);
  if (!probe) {
    probe = runKernelMemoryProbe(cgroupFs, mountPoint);
    kernelMemoryProbes.set(mountPoint, probe);
  }
  const problem = await probe;
  if (problem) {
    throw new UnsupportedError(problem.message.replace('%VALUE%', String(value)), {
      hint: 'kernel memory is counted in --memory on current kernels; drop --kernel-memory',
    });
  }
}

async function runKernelMemoryProbe(cgroupFs: CgroupFs, mountPoint: string): Promise<Error | null> {
  const noAccounting =
    'this kernel has no kernel-memory accounting, so --kernel-memory %VALUE% cannot be enforced';
  const dir = path.join(mountPoint, `gantry-probe-${process.pid}-${Math.random().toString(16).slice(2, 10)}`);
  await cgroupFs.mkdir(dir);
  try {
    const file = path.join(dir, KMEM_LIMIT);
    if (!(await cgroupFs.exists(file))) return new Error(`${noAccounting} (${KMEM_LIMIT} is missing)`);
    const probeValue = 64 * 1024 * 1024;
    try {
      await cgroupFs.writeFile(file, String(probeValue));
    } catch {
      return new Error(`${noAccounting} (the kernel refuses ${KMEM_LIMIT})`);
    }
    const applied = await readNumber(cgroupFs, file);
    if (applied !== probeValue)
      return new Error(`${noAccounting} (it accepts ${KMEM_LIMIT} but ignores the value)`);
    return null;
  } finally {
    await cgroupFs.rmdir(dir).catch(() => undefined);
  }
}

export const memoryController: V1ResourceController = {
  name: 'memory',
  wants: (r) =>
    has(r.memory) ||
    has(r.memorySwap) ||
    has(r.memoryReservation) ||
    has(r.kernelMemory) ||
    has(r.oomKillDisable) ||
    has(r.memorySwappiness),

  async apply(context, r) {
    const { dir, fs: cgroupFs } = context;
    const hasSwapAccounting = await cgroupFs.exists(path.join(dir, SWAP_LIMIT));
    // docker: 0 means "not given"; -1 lifts the limit.
    const memory = r.memory === 0 ? undefined : r.memory;
    let memorySwap = r.memorySwap === 0 ? undefined : r.memorySwap;
    // As runc: lifting the memory limit without naming swap lifts memory+swap too, else the
    // old memory+swap limit would keep memory bounded.
    if (memory === -1 && memorySwap === undefined && hasSwapAccounting) memorySwap = -1;
    if (memorySwap !== undefined && !hasSwapAccounting) {
      context.warn(
        `this kernel has no swap accounting (${SWAP_LIMIT} is missing); memory is limited without a swap limit`,
      );
      memorySwap = undefined;
    }
    if (memory !== undefined && memorySwap !== undefined) {
      // The kernel keeps memory <= memory+swap after every write. Raising swap first is safe
      // when the current memory limit fits under the new memory+swap; otherwise memory first.
      const currentMemory = (await readNumber(cgroupFs, path.join(dir, LIMIT))) ?? Number.MAX_VALUE;
      if (memorySwap === -1 || currentMemory <= memorySwap) {
        await setSwapLimit(context, memorySwap);
        await setMemoryLimit(context, memory);
      } else {
        await setMemoryLimit(context, memory);
        await setSwapLimit(context, memorySwap);
      }
    } else if (memory !== undefined) {
      await setMemoryLimit(context, memory);
    } else if (memorySwap !== undefined) {
      await setSwapLimit(context, memorySwap);
    }
    if (r.memoryReservation !== undefined && r.memoryReservation !== 0) {
      await context.journal.write(path.join(dir, 'memory.soft_limit_in_bytes'), String(r.memoryReservation), {
        what: `memory reservation ${describeLimit(r.memoryReservation)}`,
      });
    }
    if (r.kernelMemory !== undefined && r.kernelMemory !== 0) await setKernelMemory(context, r.kernelMemory);
    if (r.memorySwappiness !== undefined) {
      await context.journal.write(path.join(dir, 'memory.swappiness'), String(r.memorySwappiness), {
        what: `memory swappiness ${r.memorySwappiness}`,
      });
    }
    if (r.oomKillDisable !== undefined) {
      const file = path.join(dir, 'memory.oom_control');
      const current = parseKeyValues(await cgroupFs.readFile(file)).get('oom_kill_disable') ?? 0;
      await context.journal.write(file, r.oomKillDisable ? '1' : '0', {
        what: `oom-kill-disable ${r.oomKillDisable}`,
        restore: String(current),
      });
    }
  },
};

export async function memoryStats(
  cgroupFs: CgroupFs,
  dir: string,
  options: { summary?: boolean } = {},
): Promise<CgroupStats['memory']> {
  const usage = await readNumber(cgroupFs, path.join(dir, USAGE));
  if (usage === undefined) return undefined;
  const stat = parseKeyValues((await readOptional(cgroupFs, path.join(dir, 'memory.stat'))) ?? '');
  const oomControl = options.summary
    ? new Map<string, number>()
    : parseKeyValues((await readOptional(cgroupFs, path.join(dir, 'memory.oom_control'))) ?? '');
  const limit = await readNumber(cgroupFs, path.join(dir, LIMIT));
  const hierarchicalLimit = stat.get('hierarchical_memory_limit');
  const swapUsageTotal = options.summary
    ? undefined
    : await readNumber(cgroupFs, path.join(dir, 'memory.memsw.usage_in_bytes'));
  // docker's working set: usage minus the page cache the kernel can drop without I/O.
  const inactiveFile = stat.get('total_inactive_file') ?? stat.get('inactive_file') ?? 0;
  const effectiveLimits = [limit, hierarchicalLimit].filter(
    (v): v is number => v !== undefined && !isUnlimited(v),
  );
  const result: NonNullable<CgroupStats['memory']> = {
    usage,
    workingSet: inactiveFile < usage ? usage - inactiveFile : 0,
    oomKills: oomControl.get('oom_kill') ?? 0,
  };
  const effectiveLimit = limitOrUndefined(
    effectiveLimits.length > 0 ? Math.min(...effectiveLimits) : undefined,
  );
  if (effectiveLimit !== undefined) result.limit = effectiveLimit;
  const maxUsage = options.summary
    ? undefined
    : await readNumber(cgroupFs, path.join(dir, 'memory.max_usage_in_bytes'));
  if (maxUsage !== undefined) result.maxUsage = maxUsage;
  if (swapUsageTotal !== undefined) result.swapUsage = Math.max(0, swapUsageTotal - usage);
  const cache = stat.get('total_cache') ?? stat.get('cache');
  if (cache !== undefined) result.cache = cache;
  const anon = stat.get('total_rss') ?? stat.get('rss');
  if (anon !== undefined) result.anon = anon;
  return result;
}
