/**
 * How `update` combines a container's stored limits with a change: fields given replace the
 * stored ones (0 leaves a memory, CPU or blkio weight value as it is, as with docker); per-device lists are merged by device (a rate or weight of 0 removes the entry,
 * as writing 0 does in the kernel).
 */
import type { DeviceThrottle, DeviceWeight, Resources } from '../cgroups/types.js';

function byDevice<T extends DeviceThrottle | DeviceWeight>(
  stored: T[] | undefined,
  change: T[] | undefined,
  value: (entry: T) => number,
): T[] | undefined {
  if (change === undefined) return stored;
  const merged = new Map<string, T>();
  for (const entry of [...(stored ?? []), ...change]) merged.set(`${entry.major}:${entry.minor}`, entry);
  const result = [...merged.values()].filter((entry) => value(entry) !== 0);
  return result.length > 0 ? result : undefined;
}

/** Fields where docker's `update` takes 0 as "leave it as it is" (-1 is how to lift a limit). */
const ZERO_MEANS_UNCHANGED: ReadonlySet<keyof Resources> = new Set([
  'memory',
  'memoryReservation',
  'memorySwap',
  'memoryHigh',
  'kernelMemory',
  'cpuShares',
  'cpuPeriod',
  'cpuQuota',
  'blkioWeight',
]);

export function mergeResources(stored: Resources, change: Resources): Resources {
  const merged: Resources = { ...stored };
  for (const [key, value] of Object.entries(change) as [keyof Resources, unknown][]) {
    if (value === undefined || (value === 0 && ZERO_MEANS_UNCHANGED.has(key))) continue;
    (merged as Record<string, unknown>)[key] = value;
  }
  // The cgroup driver lifts memory+swap with the memory limit when no swap value is given.
  if (change.memory === -1 && change.memorySwap === undefined && stored.memorySwap !== undefined) {
    merged.memorySwap = -1;
  }
  const lists = [
    ['blkioDeviceReadBps', (entry: DeviceThrottle) => entry.rate],
    ['blkioDeviceWriteBps', (entry: DeviceThrottle) => entry.rate],
    ['blkioDeviceReadIOps', (entry: DeviceThrottle) => entry.rate],
    ['blkioDeviceWriteIOps', (entry: DeviceThrottle) => entry.rate],
  ] as const;
  for (const [key, value] of lists) {
    const list = byDevice(stored[key], change[key], value);
    if (list) merged[key] = list;
    else delete merged[key];
  }
  const weights = byDevice(stored.blkioWeightDevice, change.blkioWeightDevice, (entry) => entry.weight);
  if (weights) merged.blkioWeightDevice = weights;
  else delete merged.blkioWeightDevice;
  return merged;
}
