/** v2 memory controller: memory.max/low/high, memory.swap.max, and the memory figures of stats(). */
import path from 'node:path';
import { InvalidArgumentError } from '../../errors.js';
import { memoryAmount } from '../../units.js';
import { maxOrNumber, memorySwapToSwapMax } from '../convert.js';
import { readOptional, type CgroupFs } from '../fs.js';
import type { CgroupStats } from '../types.js';
import { parseKeyValues, parseSingleNumber } from '../values.js';
import { has, type V2ResourceController } from './controller.js';

export const memoryController: V2ResourceController = {
  name: 'memory',
  wants: (r) => has(r.memory) || has(r.memorySwap) || has(r.memoryReservation) || has(r.memoryHigh),
  async apply(context, r) {
    const file = (name: string): string => path.join(context.dir, name);
    const memory = r.memory === 0 ? undefined : r.memory;
    // v1 keeps memory+swap when only the memory limit changes (the swap share shrinks or
    // grows); v2's memory.swap.max is swap alone, so the same change must rewrite it.
    const keptSwap =
      context.phase === 'update' && memory !== undefined && memory > 0 && r.memorySwap === undefined
        ? await memorySwapInForce(context.fs, context.dir)
        : undefined;
    if (memory !== undefined) {
      // v2 never refuses a limit below usage: it reclaims, then OOM-kills, as docker expects.
      await context.journal.write(file('memory.max'), maxOrNumber(memory), {
        what: `memory limit ${memoryAmount(memory)}`,
      });
    }
    if (keptSwap !== undefined) {
      const swapMax = memorySwapToSwapMax(keptSwap, memory);
      if (swapMax !== undefined) {
        await context.journal.write(file('memory.swap.max'), maxOrNumber(swapMax), {
          what: `memory+swap limit ${memoryAmount(keptSwap)} with memory limit ${memoryAmount(memory)}`,
        });
      }
    } else if (r.memorySwap !== undefined || memory === -1) {
      // On update, --memory-swap alone is relative to the memory limit already in force.
      let memoryForSwap = memory;
      if (memoryForSwap === undefined && r.memorySwap !== undefined && r.memorySwap > 0) {
        memoryForSwap = parseSingleNumber(await context.fs.readFile(file('memory.max'))) ?? -1;
        if (memoryForSwap === -1) {
          throw new InvalidArgumentError(
            `memory+swap limit ${memoryAmount(r.memorySwap)} needs a memory limit, and the container has none`,
            {
              hint: 'set --memory together with --memory-swap',
            },
          );
        }
      }
      const swapMax = memorySwapToSwapMax(r.memorySwap, memoryForSwap);
      if (swapMax !== undefined) {
        if (await context.fs.exists(file('memory.swap.max'))) {
          await context.journal.write(file('memory.swap.max'), maxOrNumber(swapMax), {
            what: `memory+swap limit ${memoryAmount(r.memorySwap ?? -1)}`,
          });
        } else if (r.memorySwap !== undefined) {
          context.warn(
            'this kernel has no swap accounting (memory.swap.max is missing); memory is limited without a swap limit',
          );
        }
      }
    }
    if (r.memoryReservation !== undefined && r.memoryReservation !== 0) {
      await context.journal.write(file('memory.low'), maxOrNumber(r.memoryReservation), {
        what: `memory reservation ${memoryAmount(r.memoryReservation)}`,
      });
    }
    if (r.memoryHigh !== undefined && r.memoryHigh !== 0) {
      await context.journal.write(file('memory.high'), maxOrNumber(r.memoryHigh), {
        what: `memory high ${memoryAmount(r.memoryHigh)}`,
      });
    }
  },
};

/**
 * memory+swap as v1 would hold it (memory.max plus memory.swap.max), when both are limited and
 * the kernel accounts swap; undefined otherwise (nothing to keep).
 */
async function memorySwapInForce(cgroupFs: CgroupFs, dir: string): Promise<number | undefined> {
  const swap = await readOptional(cgroupFs, path.join(dir, 'memory.swap.max'));
  const memory = await readOptional(cgroupFs, path.join(dir, 'memory.max'));
  const swapMax = parseSingleNumber(swap ?? 'max');
  const memoryMax = parseSingleNumber(memory ?? 'max');
  if (swapMax === undefined || memoryMax === undefined) return undefined;
  return memoryMax + swapMax;
}

export async function memoryStats(
  cgroupFs: CgroupFs,
  dir: string,
  options: { summary?: boolean } = {},
): Promise<CgroupStats['memory']> {
  const usage = parseSingleNumber((await readOptional(cgroupFs, path.join(dir, 'memory.current'))) ?? '');
  if (usage === undefined) return undefined;
  const stat = parseKeyValues((await readOptional(cgroupFs, path.join(dir, 'memory.stat'))) ?? '');
  const events = options.summary
    ? new Map<string, number>()
    : parseKeyValues((await readOptional(cgroupFs, path.join(dir, 'memory.events'))) ?? '');
  const inactiveFile = stat.get('inactive_file') ?? 0;
  const result: NonNullable<CgroupStats['memory']> = {
    usage,
    workingSet: inactiveFile < usage ? usage - inactiveFile : 0,
    oomKills: events.get('oom_kill') ?? 0,
  };
  const limit = parseSingleNumber((await readOptional(cgroupFs, path.join(dir, 'memory.max'))) ?? '');
  if (limit !== undefined) result.limit = limit;
  if (options.summary) return result;
  const peak = parseSingleNumber((await readOptional(cgroupFs, path.join(dir, 'memory.peak'))) ?? '');
  if (peak !== undefined) result.maxUsage = peak;
  const swap = parseSingleNumber((await readOptional(cgroupFs, path.join(dir, 'memory.swap.current'))) ?? '');
  if (swap !== undefined) result.swapUsage = swap;
  const file = stat.get('file');
  if (file !== undefined) result.cache = file;
  const anon = stat.get('anon');
  if (anon !== undefined) result.anon = anon;
  const oom = events.get('oom');
  if (oom !== undefined) result.oomEvents = oom;
  return result;
}
