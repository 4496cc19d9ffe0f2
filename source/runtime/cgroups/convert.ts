/**
 * Conversions from docker's v1 vocabulary to cgroup v2 files, the same formulas runc and crun
 * use, so a limit means the same on either host.
 */
import { memoryAmount } from '../units.js';
import { InvalidArgumentError } from '../errors.js';

/** cpu.shares (2..262144, default 1024) to cpu.weight (1..10000, default 100). */
export function sharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

/** blkio.weight (10..1000) to io.weight (1..10000). */
export function blkioWeightToIoWeight(weight: number): number {
  if (weight === 0) return 0;
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

/**
 * docker's --memory-swap is memory + swap; v2's memory.swap.max is swap alone.
 * Returns -1 for "max", undefined to leave swap.max alone.
 */
export function memorySwapToSwapMax(
  memorySwap: number | undefined,
  memory: number | undefined,
): number | undefined {
  // As on v1: lifting the memory limit without naming swap lifts the swap limit too.
  if (memory === -1 && memorySwap === undefined) return -1;
  if (memorySwap === undefined || memorySwap === 0) return undefined;
  if (memorySwap === -1) return -1;
  if (memory === undefined || memory <= 0) {
    throw new InvalidArgumentError(
      `memory+swap limit ${memoryAmount(memorySwap)} needs a memory limit as well`,
      {
        hint: 'set --memory together with --memory-swap',
      },
    );
  }
  if (memorySwap < memory) {
    throw new InvalidArgumentError(
      `memory+swap limit ${memoryAmount(memorySwap)} is below the memory limit ${memoryAmount(memory)}`,
      {
        hint: '--memory-swap is memory plus swap, so it must be at least --memory (or -1 for unlimited swap)',
      },
    );
  }
  return memorySwap - memory;
}

/** "max" for -1 (and any negative), the number otherwise. */
export function maxOrNumber(value: number): string {
  return value < 0 ? 'max' : String(value);
}
