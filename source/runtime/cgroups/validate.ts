/**
 * Checks of a Resources value before any cgroup file is written, as small named validators (the
 * way runc's configs/validate does): each says what was wrong, which value, and what is accepted.
 */
import { memoryAmount } from '../units.js';
import { InvalidArgumentError } from '../errors.js';
import type { DeviceRule, DeviceThrottle, DeviceWeight, Resources } from './types.js';

export interface ValidateOptions {
  /** update() may name --memory-swap alone (the memory limit is already set). */
  update?: boolean;
}

interface Problem {
  message: string;
  hint?: string;
}

type Validator = (resources: Resources, options: ValidateOptions) => Problem | undefined;

const CPU_LIST = /^\d+(-\d+)?(,\d+(-\d+)?)*$/;

function isInteger(value: number | undefined): boolean {
  return value === undefined || Number.isSafeInteger(value);
}

const integers: Validator = (resources) => {
  for (const key of [
    'memory',
    'memoryReservation',
    'memorySwap',
    'memoryHigh',
    'kernelMemory',
    'cpuShares',
    'cpuPeriod',
    'cpuQuota',
    'blkioWeight',
    'pidsLimit',
    'netClsClassid',
    'memorySwappiness',
  ] as const) {
    if (!isInteger(resources[key])) {
      return { message: `${key} must be a whole number, got ${resources[key]}` };
    }
  }
  return undefined;
};

function byteLimit(name: string, value: number | undefined): Problem | undefined {
  if (value === undefined || value >= 0 || value === -1) return undefined;
  return { message: `${name} ${value} is negative`, hint: 'give a size in bytes, or -1 for no limit' };
}

const swappiness: Validator = (r) =>
  r.memorySwappiness === undefined || (r.memorySwappiness >= 0 && r.memorySwappiness <= 100)
    ? undefined
    : {
        message: `memory swappiness ${r.memorySwappiness} is out of range`,
        hint: 'give 0 to 100 (0: swap as little as possible), or -1 for the host default',
      };

const memoryLimits: Validator = (r) =>
  byteLimit('memory limit', r.memory) ??
  byteLimit('memory reservation', r.memoryReservation) ??
  byteLimit('memory+swap limit', r.memorySwap) ??
  byteLimit('memory high', r.memoryHigh) ??
  byteLimit('kernel memory limit', r.kernelMemory);

const swapNeedsMemory: Validator = (r, options) => {
  if (options.update || r.memorySwap === undefined || r.memorySwap <= 0) return undefined;
  if (r.memory !== undefined && r.memory > 0) return undefined;
  return {
    message: `memory+swap limit ${memoryAmount(r.memorySwap)} is set without a memory limit`,
    hint: 'set --memory as well; --memory-swap is memory plus swap',
  };
};

const swapAtLeastMemory: Validator = (r) => {
  if (r.memorySwap === undefined || r.memorySwap <= 0 || r.memory === undefined || r.memory <= 0)
    return undefined;
  if (r.memorySwap >= r.memory) return undefined;
  return {
    message: `memory+swap limit ${memoryAmount(r.memorySwap)} is below the memory limit ${memoryAmount(r.memory)}`,
    hint: '--memory-swap is memory plus swap: give at least the --memory value, or -1 for unlimited swap',
  };
};

const reservationBelowMemory: Validator = (r) => {
  if (!r.memoryReservation || r.memoryReservation < 0 || r.memory === undefined || r.memory <= 0)
    return undefined;
  if (r.memoryReservation <= r.memory) return undefined;
  return {
    message: `memory reservation ${memoryAmount(r.memoryReservation)} is above the memory limit ${memoryAmount(r.memory)}`,
    hint: 'the soft limit (--memory-reservation) must not exceed --memory',
  };
};

const cpuShares: Validator = (r) => {
  if (r.cpuShares === undefined || r.cpuShares === 0) return undefined;
  if (r.cpuShares >= 2 && r.cpuShares <= 262144) return undefined;
  return {
    message: `cpu shares ${r.cpuShares} is out of range`,
    hint: 'cpu shares go from 2 to 262144 (default 1024)',
  };
};

const cpuPeriod: Validator = (r) => {
  if (r.cpuPeriod === undefined || r.cpuPeriod === 0) return undefined;
  if (r.cpuPeriod >= 1000 && r.cpuPeriod <= 1_000_000) return undefined;
  return {
    message: `cpu period ${r.cpuPeriod} is out of range`,
    hint: 'the CFS period goes from 1000 to 1000000 microseconds (default 100000)',
  };
};

const cpuQuota: Validator = (r) => {
  if (r.cpuQuota === undefined || r.cpuQuota === 0 || r.cpuQuota === -1) return undefined;
  if (r.cpuQuota >= 1000) return undefined;
  return {
    message: `cpu quota ${r.cpuQuota} is out of range`,
    hint: 'the CFS quota is at least 1000 microseconds, or -1 for no limit',
  };
};

function cpuList(name: string, value: string | undefined): Problem | undefined {
  if (value === undefined || value === '') return undefined;
  if (!CPU_LIST.test(value)) {
    return {
      message: `${name} "${value}" is not a list`,
      hint: 'use numbers and ranges separated by commas, e.g. 0-2,4',
    };
  }
  for (const range of value.split(',')) {
    const [start, end] = range.split('-').map(Number);
    if (end !== undefined && start !== undefined && end < start) {
      return {
        message: `${name} "${value}" has the range ${range} that runs backwards`,
        hint: 'write ranges low-high',
      };
    }
  }
  return undefined;
}

const cpusets: Validator = (r) =>
  cpuList('cpuset-cpus', r.cpusetCpus) ?? cpuList('cpuset-mems', r.cpusetMems);

const blkioWeights: Validator = (r) => {
  const weights: Array<[string, number]> = [];
  if (r.blkioWeight !== undefined && r.blkioWeight !== 0) weights.push(['blkio weight', r.blkioWeight]);
  for (const device of r.blkioWeightDevice ?? [])
    weights.push([`blkio weight of ${device.path}`, device.weight]);
  for (const [name, weight] of weights) {
    if (!Number.isInteger(weight) || weight < 10 || weight > 1000) {
      return { message: `${name} ${weight} is out of range`, hint: 'blkio weights go from 10 to 1000' };
    }
  }
  return undefined;
};

function deviceNumbers(device: DeviceThrottle | DeviceWeight): boolean {
  return (
    Number.isInteger(device.major) && Number.isInteger(device.minor) && device.major >= 0 && device.minor >= 0
  );
}

const throttles: Validator = (r) => {
  const lists: Array<[string, DeviceThrottle[] | undefined]> = [
    ['device read bps', r.blkioDeviceReadBps],
    ['device write bps', r.blkioDeviceWriteBps],
    ['device read iops', r.blkioDeviceReadIOps],
    ['device write iops', r.blkioDeviceWriteIOps],
  ];
  for (const [name, list] of lists) {
    for (const device of list ?? []) {
      if (!deviceNumbers(device)) return { message: `${name} for ${device.path} has no valid major:minor` };
      if (!Number.isSafeInteger(device.rate) || device.rate < 0) {
        return { message: `${name} rate ${device.rate} for ${device.path} is not a whole number >= 0` };
      }
    }
  }
  for (const device of r.blkioWeightDevice ?? []) {
    if (!deviceNumbers(device))
      return { message: `blkio weight device ${device.path} has no valid major:minor` };
  }
  return undefined;
};

/** The kernel's PID_MAX_LIMIT: pids.max takes nothing above it. */
export const PIDS_MAX = 4_194_304;

const pids: Validator = (r) => {
  if (r.pidsLimit === undefined || (r.pidsLimit >= -1 && r.pidsLimit <= PIDS_MAX)) return undefined;
  return {
    message:
      r.pidsLimit < -1
        ? `pids limit ${r.pidsLimit} is negative`
        : `pids limit ${r.pidsLimit} is above the kernel's maximum of ${PIDS_MAX}`,
    hint: `give a number of processes up to ${PIDS_MAX}, or 0 / -1 for no limit`,
  };
};

function ruleProblem(rule: DeviceRule, index: number): Problem | undefined {
  if (!['a', 'b', 'c'].includes(rule.type))
    return { message: `device rule ${index + 1} has type "${rule.type}"`, hint: 'the type is a, b or c' };
  if (!/^[rwm]{1,3}$/.test(rule.access) || new Set(rule.access).size !== rule.access.length) {
    return {
      message: `device rule ${index + 1} has access "${rule.access}"`,
      hint: 'access is a combination of r, w and m',
    };
  }
  for (const value of [rule.major, rule.minor]) {
    if (!Number.isInteger(value) || value < -1) {
      return {
        message: `device rule ${index + 1} has the device number ${value}`,
        hint: 'use a number, or -1 for any',
      };
    }
  }
  return undefined;
}

const devices: Validator = (r) => {
  for (const [index, rule] of (r.devices ?? []).entries()) {
    const problem = ruleProblem(rule, index);
    if (problem) return problem;
  }
  return undefined;
};

const netPrio: Validator = (r) => {
  for (const [iface, priority] of Object.entries(r.netPrioIfpriomap ?? {})) {
    if (!/^[^\s/]{1,15}$/.test(iface)) return { message: `network interface name "${iface}" is not valid` };
    if (!Number.isInteger(priority) || priority < 0 || priority > 0xffffffff) {
      return {
        message: `net priority ${priority} for ${iface} is out of range`,
        hint: 'priorities go from 0 to 4294967295',
      };
    }
  }
  if (r.netClsClassid !== undefined && (r.netClsClassid < 0 || r.netClsClassid > 0xffffffff)) {
    return {
      message: `net_cls classid ${r.netClsClassid} is out of range`,
      hint: 'a classid is 0xAAAABBBB (32 bits)',
    };
  }
  return undefined;
};

const hugepages: Validator = (r) => {
  for (const [size, limit] of Object.entries(r.hugepageLimits ?? {})) {
    if (!/^\d+[KMG]B$/.test(size))
      return {
        message: `hugepage size "${size}" is not valid`,
        hint: 'write sizes as the kernel does: 2MB, 1GB',
      };
    if (!Number.isSafeInteger(limit) || limit < -1)
      return { message: `hugepage limit ${limit} for ${size} is not valid` };
  }
  return undefined;
};

export const resourceValidators: ReadonlyArray<[string, Validator]> = [
  ['integers', integers],
  ['memoryLimits', memoryLimits],
  ['swappiness', swappiness],
  ['swapNeedsMemory', swapNeedsMemory],
  ['swapAtLeastMemory', swapAtLeastMemory],
  ['reservationBelowMemory', reservationBelowMemory],
  ['cpuShares', cpuShares],
  ['cpuPeriod', cpuPeriod],
  ['cpuQuota', cpuQuota],
  ['cpusets', cpusets],
  ['blkioWeights', blkioWeights],
  ['throttles', throttles],
  ['pids', pids],
  ['devices', devices],
  ['netPrio', netPrio],
  ['hugepages', hugepages],
];

/** Throws InvalidArgumentError for the first problem found. */
export function validateResources(resources: Resources, options: ValidateOptions = {}): void {
  for (const [, validator] of resourceValidators) {
    const problem = validator(resources, options);
    if (problem)
      throw new InvalidArgumentError(
        problem.message,
        problem.hint === undefined ? {} : { hint: problem.hint },
      );
  }
}
