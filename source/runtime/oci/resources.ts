/**
 * The spec's linux.resources in the engine's terms (create, update), with runc's device rules
 * and its warning for what the kernel no longer limits.
 */
import { defaultDeviceRules } from '../cgroups/index.js';
import type { Resources } from '../cgroups/types.js';
import type { OciLinuxResources, OciSpec } from '../spec/types.js';

/**
 * Converts the spec's linux.resources to the engine's Resources. As runc does, the device rules
 * of the spec are followed by the default allow list (mknod, the standard nodes, ptys) and by
 * an allow rule for every node in linux.devices.
 */
export function resourcesFromSpec(spec: OciSpec, warn: (message: string) => void = () => {}): Resources {
  const result = resourcesFromLinux(spec.linux?.resources);
  // runc 1.2 ignores it too: kernels from 5.4 on account kernel memory with the rest, and 6.x
  // removed memory.kmem.limit_in_bytes writes.
  if (spec.linux?.resources?.memory?.kernel !== undefined)
    warn(
      'linux.resources.memory.kernel is ignored: the kernel no longer limits kernel memory apart (as runc)',
    );
  const created = (spec.linux?.devices ?? [])
    .filter((d) => d.type !== 'p')
    .map((d) => ({
      allow: true,
      type: (d.type === 'b' ? 'b' : 'c') as 'b' | 'c',
      major: d.major ?? -1,
      minor: d.minor ?? -1,
      access: 'rwm',
    }));
  result.devices = [
    ...(result.devices ?? []),
    ...defaultDeviceRules().filter((rule) => rule.allow),
    ...created,
  ];
  return result;
}

export function resourcesFromLinux(resources: OciLinuxResources | undefined): Resources {
  const result: Resources = {};
  if (!resources) return result;
  const memory = resources.memory;
  if (memory?.limit !== undefined) result.memory = memory.limit;
  if (memory?.reservation !== undefined) result.memoryReservation = memory.reservation;
  if (memory?.swap !== undefined) result.memorySwap = memory.swap;
  if (memory?.disableOOMKiller !== undefined) result.oomKillDisable = memory.disableOOMKiller;
  if (memory?.swappiness !== undefined) result.memorySwappiness = memory.swappiness;
  const cpu = resources.cpu;
  if (cpu?.shares !== undefined) result.cpuShares = cpu.shares;
  if (cpu?.quota !== undefined) result.cpuQuota = cpu.quota;
  if (cpu?.period !== undefined) result.cpuPeriod = cpu.period;
  if (cpu?.cpus) result.cpusetCpus = cpu.cpus;
  if (cpu?.mems) result.cpusetMems = cpu.mems;
  if (resources.pids?.limit !== undefined) result.pidsLimit = resources.pids.limit;
  const io = resources.blockIO;
  const throttle = (list: { major: number; minor: number; rate: number }[] | undefined) =>
    (list ?? []).map((d) => ({
      path: `${d.major}:${d.minor}`,
      major: d.major,
      minor: d.minor,
      rate: d.rate,
    }));
  if (io?.weight !== undefined) result.blkioWeight = io.weight;
  const weights = (io?.weightDevice ?? []).filter((d) => d.weight !== undefined);
  if (weights.length > 0) {
    result.blkioWeightDevice = weights.map((d) => ({
      path: `${d.major}:${d.minor}`,
      major: d.major,
      minor: d.minor,
      weight: d.weight as number,
    }));
  }
  if (io?.throttleReadBpsDevice) result.blkioDeviceReadBps = throttle(io.throttleReadBpsDevice);
  if (io?.throttleWriteBpsDevice) result.blkioDeviceWriteBps = throttle(io.throttleWriteBpsDevice);
  if (io?.throttleReadIOPSDevice) result.blkioDeviceReadIOps = throttle(io.throttleReadIOPSDevice);
  if (io?.throttleWriteIOPSDevice) result.blkioDeviceWriteIOps = throttle(io.throttleWriteIOPSDevice);
  if (resources.devices) {
    result.devices = resources.devices.map((d) => ({
      allow: d.allow,
      type: d.type ?? 'a',
      major: d.major ?? -1,
      minor: d.minor ?? -1,
      access: d.access ?? 'rwm',
    }));
  }
  if (resources.network?.classID !== undefined) result.netClsClassid = resources.network.classID;
  if (resources.network?.priorities) {
    result.netPrioIfpriomap = Object.fromEntries(
      resources.network.priorities.map((p) => [p.name, p.priority]),
    );
  }
  if (resources.hugepageLimits) {
    result.hugepageLimits = Object.fromEntries(resources.hugepageLimits.map((h) => [h.pageSize, h.limit]));
  }
  if (resources.unified && Object.keys(resources.unified).length > 0)
    result.unified = { ...resources.unified };
  return result;
}
