/**
 * Resource-limit flags (docker's names), shared by run, create and update, and their conversion
 * to the engine's Resources. Every value goes through the cgroup parsers, so a bad one fails here
 * with a message that names the flag, the value and what is accepted, before anything is made.
 */
import {
  parseBlkioWeight,
  parseCpuPeriod,
  parseCpuQuota,
  parseCpus,
  parseCpuset,
  parseCpuShares,
  parseDeviceThrottleBps,
  parseDeviceThrottleIops,
  parseDeviceWeight,
  parseMemoryLimit,
  parseMemorySwap,
  parseNetClassid,
  parseNetPrio,
  parsePidsLimit,
  type DeviceStat,
} from '../../runtime/cgroups/parse.js';
import type { DeviceThrottle, Resources } from '../../runtime/cgroups/types.js';
import type { CreateOptions } from '../../runtime/containers/create.js';
import { onlineCpus, onlineMemoryNodes } from '../../runtime/cgroups/host.js';
import { InvalidArgumentError } from '../../runtime/errors.js';
import { bool, list, str, type OptionSpec, type OptionValues } from '../args.js';

/** Flags `update` takes as well as run/create: the limits that can change on a live container. */
const UPDATABLE = new Set([
  'memory',
  'memory-reservation',
  'memory-swap',
  'memory-high',
  'kernel-memory',
  'cpu-shares',
  'cpus',
  'cpu-quota',
  'cpu-period',
  'cpuset-cpus',
  'cpuset-mems',
  'blkio-weight',
  'blkio-weight-device',
  'device-read-bps',
  'device-write-bps',
  'device-read-iops',
  'device-write-iops',
  'pids-limit',
]);

export const RESOURCE_OPTIONS: OptionSpec[] = [
  {
    name: 'memory',
    short: 'm',
    type: 'string',
    placeholder: 'bytes',
    description: 'Memory limit (e.g. 32m, 1g)',
  },
  {
    name: 'memory-reservation',
    type: 'string',
    placeholder: 'bytes',
    description: 'Memory soft limit (v1 soft_limit_in_bytes, v2 memory.low)',
  },
  {
    name: 'memory-swap',
    type: 'string',
    placeholder: 'bytes',
    description: "Swap limit equal to memory plus swap: '-1' to enable unlimited swap",
  },
  {
    name: 'memory-high',
    type: 'string',
    placeholder: 'bytes',
    description: 'Memory throttle point (cgroup v2 memory.high)',
  },
  {
    name: 'kernel-memory',
    type: 'string',
    placeholder: 'bytes',
    description: 'Kernel memory limit (cgroup v1 kernels that still enforce it)',
  },
  { name: 'oom-kill-disable', type: 'boolean', description: 'Disable OOM Killer' },
  {
    name: 'memory-swappiness',
    type: 'string',
    placeholder: '0-100',
    description: 'Tune container memory swappiness (0 to 100; -1 keeps the host default; cgroup v1)',
  },
  {
    name: 'cpu-shares',
    short: 'c',
    type: 'string',
    placeholder: 'int',
    description: 'CPU shares (relative weight; v2 cpu.weight by the standard conversion)',
  },
  { name: 'cpus', type: 'string', placeholder: 'decimal', description: 'Number of CPUs (e.g. 0.5)' },
  {
    name: 'cpu-quota',
    type: 'string',
    placeholder: 'int',
    description: 'Limit CPU CFS (Completely Fair Scheduler) quota',
  },
  {
    name: 'cpu-period',
    type: 'string',
    placeholder: 'int',
    description: 'Limit CPU CFS (Completely Fair Scheduler) period',
  },
  {
    name: 'cpuset-cpus',
    type: 'string',
    placeholder: 'string',
    description: 'CPUs in which to allow execution (0-3, 0,1)',
  },
  {
    name: 'cpuset-mems',
    type: 'string',
    placeholder: 'string',
    description: 'MEMs in which to allow execution (0-3, 0,1)',
  },
  {
    name: 'blkio-weight',
    type: 'string',
    placeholder: 'uint16',
    description: 'Block IO (relative weight), between 10 and 1000, or 0 to disable',
  },
  {
    name: 'blkio-weight-device',
    type: 'list',
    description: 'Block IO weight (relative device weight), e.g. /dev/sda:200',
  },
  {
    name: 'device-read-bps',
    type: 'list',
    description: 'Limit read rate (bytes per second) from a device, e.g. /dev/sda:1mb',
  },
  {
    name: 'device-write-bps',
    type: 'list',
    description: 'Limit write rate (bytes per second) to a device, e.g. /dev/sda:1mb',
  },
  {
    name: 'device-read-iops',
    type: 'list',
    description: 'Limit read rate (IO per second) from a device, e.g. /dev/sda:1000',
  },
  {
    name: 'device-write-iops',
    type: 'list',
    description: 'Limit write rate (IO per second) to a device, e.g. /dev/sda:1000',
  },
  {
    name: 'pids-limit',
    type: 'string',
    placeholder: 'int',
    description: 'Tune container pids limit (-1 or 0 for unlimited; a new container gets 2048, as in podman)',
  },
  {
    name: 'device',
    type: 'list',
    description: 'Add a host device to the container (HOST[:CONTAINER][:PERMISSIONS], permissions from rwm)',
  },
  {
    name: 'device-cgroup-rule',
    type: 'list',
    description: "Add a rule to the cgroup allowed devices list, e.g. 'c 1:3 mr'",
  },
  {
    name: 'net-cls-classid',
    type: 'string',
    placeholder: 'classid',
    description: 'Class id of the egress traffic (cgroup v1 net_cls), e.g. 0x100001',
  },
  {
    name: 'net-prio',
    type: 'list',
    description: 'Priority of the egress traffic on an interface (cgroup v1 net_prio), IFACE=PRIO',
  },
];

/** The subset `gantry update` accepts. */
export const UPDATE_RESOURCE_OPTIONS: OptionSpec[] = RESOURCE_OPTIONS.filter((option) =>
  UPDATABLE.has(option.name),
);

/** What the parsers check values against; read from the host unless a test gives its own. */
export interface HostFacts {
  /** Online CPU numbers (caps --cpus, checks --cpuset-cpus). */
  cpus: number[];
  /** Online memory nodes (checks --cpuset-mems). */
  mems: number[];
  stat?: DeviceStat;
}

export function hostFacts(): HostFacts {
  return { cpus: onlineCpus(), mems: onlineMemoryNodes() };
}

function throttles(
  options: OptionValues,
  flag: string,
  parse: (text: string, flag: string, stat?: DeviceStat) => DeviceThrottle,
  stat: DeviceStat | undefined,
): DeviceThrottle[] | undefined {
  const values = list(options, flag);
  if (values.length === 0) return undefined;
  // A device named twice keeps its last rate, as the kernel would.
  const byDevice = new Map<string, DeviceThrottle>();
  for (const text of values) {
    const throttle = stat ? parse(text, `--${flag}`, stat) : parse(text, `--${flag}`);
    byDevice.set(`${throttle.major}:${throttle.minor}`, throttle);
  }
  return [...byDevice.values()];
}

/**
 * The Resources the flags ask for; only flags that were given appear. With `update`, flags that
 * only make sense at create (devices, network classes, the OOM killer switch) are not read.
 */
export function resourcesFromOptions(
  options: OptionValues,
  settings: { update?: boolean; host?: HostFacts } = {},
): Resources {
  const resources: Resources = {};
  const given = (name: string): string | undefined => str(options, name);
  let host = settings.host;
  const facts = (): HostFacts => (host ??= hostFacts());

  const memory = given('memory');
  if (memory !== undefined) resources.memory = parseMemoryLimit(memory, '--memory');
  const reservation = given('memory-reservation');
  if (reservation !== undefined)
    resources.memoryReservation = parseMemoryLimit(reservation, '--memory-reservation');
  const swap = given('memory-swap');
  if (swap !== undefined) resources.memorySwap = parseMemorySwap(swap);
  const high = given('memory-high');
  if (high !== undefined) resources.memoryHigh = parseMemoryLimit(high, '--memory-high');
  const kernel = given('kernel-memory');
  if (kernel !== undefined) resources.kernelMemory = parseMemoryLimit(kernel, '--kernel-memory');
  if (!settings.update && options['oom-kill-disable'] !== undefined)
    resources.oomKillDisable = bool(options, 'oom-kill-disable');
  const swappiness = given('memory-swappiness');
  if (swappiness !== undefined) {
    if (!/^-?\d+$/.test(swappiness.trim()))
      throw new InvalidArgumentError(
        `invalid --memory-swappiness ${JSON.stringify(swappiness)}: give a whole number from 0 to 100, or -1`,
      );
    const value = Number(swappiness);
    if (value !== -1) resources.memorySwappiness = value;
  }

  const shares = given('cpu-shares');
  if (shares !== undefined) {
    const value = parseCpuShares(shares);
    if (value !== 0) resources.cpuShares = value;
  }
  const cpus = given('cpus');
  const quota = given('cpu-quota');
  const period = given('cpu-period');
  if (cpus !== undefined && (quota !== undefined || period !== undefined)) {
    throw new InvalidArgumentError('--cpus cannot be combined with --cpu-quota or --cpu-period', {
      hint: '--cpus N is --cpu-period 100000 with --cpu-quota N*100000; give one form or the other',
    });
  }
  if (cpus !== undefined) Object.assign(resources, parseCpus(cpus, facts().cpus.length));
  if (quota !== undefined) resources.cpuQuota = parseCpuQuota(quota);
  if (period !== undefined) resources.cpuPeriod = parseCpuPeriod(period);
  const cpusetCpus = given('cpuset-cpus');
  if (cpusetCpus !== undefined) resources.cpusetCpus = parseCpuset(cpusetCpus, '--cpuset-cpus', facts().cpus);
  const cpusetMems = given('cpuset-mems');
  if (cpusetMems !== undefined) resources.cpusetMems = parseCpuset(cpusetMems, '--cpuset-mems', facts().mems);

  const stat = host?.stat;
  const weight = given('blkio-weight');
  if (weight !== undefined) {
    const value = parseBlkioWeight(weight);
    if (value !== 0) resources.blkioWeight = value;
  }
  const weightDevices = list(options, 'blkio-weight-device');
  if (weightDevices.length > 0)
    resources.blkioWeightDevice = weightDevices.map((text) =>
      stat ? parseDeviceWeight(text, stat) : parseDeviceWeight(text),
    );
  const readBps = throttles(options, 'device-read-bps', parseDeviceThrottleBps, stat);
  if (readBps) resources.blkioDeviceReadBps = readBps;
  const writeBps = throttles(options, 'device-write-bps', parseDeviceThrottleBps, stat);
  if (writeBps) resources.blkioDeviceWriteBps = writeBps;
  const readIops = throttles(options, 'device-read-iops', parseDeviceThrottleIops, stat);
  if (readIops) resources.blkioDeviceReadIOps = readIops;
  const writeIops = throttles(options, 'device-write-iops', parseDeviceThrottleIops, stat);
  if (writeIops) resources.blkioDeviceWriteIOps = writeIops;

  const pids = given('pids-limit');
  if (pids !== undefined) resources.pidsLimit = parsePidsLimit(pids);

  if (!settings.update) {
    const classid = given('net-cls-classid');
    if (classid !== undefined) resources.netClsClassid = parseNetClassid(classid);
    const priorities = list(options, 'net-prio');
    if (priorities.length > 0) resources.netPrioIfpriomap = Object.fromEntries(priorities.map(parseNetPrio));
  }
  return resources;
}

/** --device and --device-cgroup-rule as given: the engine resolves the nodes at create. */
export function deviceOptionsFrom(
  options: OptionValues,
): Pick<CreateOptions, 'devices' | 'deviceCgroupRules'> {
  const devices = list(options, 'device');
  const deviceCgroupRules = list(options, 'device-cgroup-rule');
  return {
    ...(devices.length > 0 ? { devices } : {}),
    ...(deviceCgroupRules.length > 0 ? { deviceCgroupRules } : {}),
  };
}

/** Whether any flag of `specs` was given (update needs at least one). */
export function anyGiven(options: OptionValues, specs: readonly OptionSpec[]): boolean {
  return specs.some((spec) => options[spec.name] !== undefined);
}
