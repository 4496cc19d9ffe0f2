/**
 * Parsers for docker-style resource flags. Pure (device lookups go through an injectable stat),
 * so the CLI and TUI share them and every error says what was given and what is accepted.
 */
import fs from 'node:fs';
import path from 'node:path';
import { splitDeviceNumber } from '../device-number.js';
import { InvalidArgumentError, NotFoundError } from '../errors.js';
import type { DeviceRule, DeviceThrottle, DeviceWeight } from './types.js';

export { splitDeviceNumber };

const BINARY_UNITS: Record<string, number> = {
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
  p: 1024 ** 5,
};

const SIZE_HINT = 'use a number with an optional unit b, k, m, g, t or p (1024-based), e.g. 512k, 32m, 1.5g';

/**
 * Bytes from "32m", "1g", "512k", "1.5g", "1024", "64MiB" (docker's units.RAMInBytes: units are
 * 1024-based and case-insensitive, the b/ib suffix optional, fractions truncated to whole bytes).
 */
export function parseBytes(text: string, flag = 'size'): number {
  const match = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*([kmgtp])?(i?b)?\s*$/i.exec(text);
  const bare = /^\s*(\d+(?:\.\d+)?)\s*b?\s*$/i.exec(text);
  if (!match && !bare) {
    throw new InvalidArgumentError(`${flag}: invalid size "${text}"`, { hint: SIZE_HINT });
  }
  const [, number, unit] = (match ?? bare) as RegExpExecArray;
  if (!unit && match?.[3] && match[3].toLowerCase() === 'ib') {
    throw new InvalidArgumentError(`${flag}: invalid size "${text}"`, { hint: SIZE_HINT });
  }
  const bytes = Math.trunc(Number(number) * (unit ? (BINARY_UNITS[unit.toLowerCase()] as number) : 1));
  if (!Number.isSafeInteger(bytes)) {
    throw new InvalidArgumentError(`${flag}: size "${text}" is too large`, { hint: SIZE_HINT });
  }
  return bytes;
}

/** docker refuses a --memory below 6 MiB: a container cannot start in less. */
export const MINIMUM_MEMORY_LIMIT = 6 * 1024 * 1024;

/** --memory / --memory-reservation / --kernel-memory: bytes; "-1" means no limit. */
export function parseMemoryLimit(text: string, flag = '--memory', minimum = MINIMUM_MEMORY_LIMIT): number {
  if (text.trim() === '-1') return -1;
  const bytes = parseBytes(text, flag);
  if (bytes !== 0 && bytes < minimum) {
    throw new InvalidArgumentError(`${flag} ${text} is below the minimum of ${minimum / 1024 / 1024}m`, {
      hint: `give at least ${minimum / 1024 / 1024}m`,
    });
  }
  return bytes;
}

/** --memory-swap: memory + swap in bytes, or -1 for unlimited swap. */
export function parseMemorySwap(text: string): number {
  return text.trim() === '-1' ? -1 : parseBytes(text, '--memory-swap');
}

export const DEFAULT_CFS_PERIOD = 100_000;

/**
 * --cpus 0.5 -> quota 50000 / period 100000 (docker: NanoCPUs, then quota = cpus * period).
 * `hostCpus`, when given, caps the value as docker does.
 */
export function parseCpus(text: string, hostCpus?: number): { cpuQuota: number; cpuPeriod: number } {
  const cpus = Number(text);
  if (text.trim() === '' || !Number.isFinite(cpus) || cpus <= 0) {
    throw new InvalidArgumentError(`--cpus: invalid value "${text}"`, {
      hint: 'give a positive number of CPUs, e.g. 0.5 or 2',
    });
  }
  if (hostCpus !== undefined && cpus > hostCpus) {
    throw new InvalidArgumentError(`--cpus ${text} is more than the ${hostCpus} CPUs this host has`, {
      hint: `the range is 0.01 to ${hostCpus}`,
    });
  }
  const nanoCpus = Math.round(cpus * 1e9);
  const cpuQuota = Math.round((nanoCpus * DEFAULT_CFS_PERIOD) / 1e9);
  if (cpuQuota < 1000) {
    throw new InvalidArgumentError(`--cpus ${text} is too small`, { hint: 'the smallest value is 0.01' });
  }
  return { cpuQuota, cpuPeriod: DEFAULT_CFS_PERIOD };
}

function parseInteger(text: string, flag: string, hint: string): number {
  if (!/^\s*-?\d+\s*$/.test(text))
    throw new InvalidArgumentError(`${flag}: "${text}" is not a whole number`, { hint });
  const value = Number(text);
  if (!Number.isSafeInteger(value))
    throw new InvalidArgumentError(`${flag}: "${text}" is too large`, { hint });
  return value;
}

function inRange(value: number, flag: string, minimum: number, maximum: number, extra = ''): number {
  if (value < minimum || value > maximum) {
    // The range is said once, in the hint (the TUI shows message and hint on one line).
    throw new InvalidArgumentError(`${flag} ${value} is out of range`, {
      hint: `the range is ${minimum} to ${maximum}${extra}`,
    });
  }
  return value;
}

/** --cpu-shares: 2..262144 (0 leaves the default 1024). */
export function parseCpuShares(text: string): number {
  const value = parseInteger(text, '--cpu-shares', 'e.g. 512 (the default is 1024)');
  return value === 0 ? 0 : inRange(value, '--cpu-shares', 2, 262144, ' (default 1024)');
}

/** --cpu-period in microseconds: 1000..1000000. */
export function parseCpuPeriod(text: string): number {
  const value = parseInteger(text, '--cpu-period', 'microseconds, e.g. 100000');
  return value === 0 ? 0 : inRange(value, '--cpu-period', 1000, 1_000_000, ' microseconds');
}

/** --cpu-quota in microseconds: at least 1000, or -1 for none. */
export function parseCpuQuota(text: string): number {
  const value = parseInteger(text, '--cpu-quota', 'microseconds, e.g. 50000, or -1 for no limit');
  if (value === -1 || value === 0) return value;
  return inRange(value, '--cpu-quota', 1000, Number.MAX_SAFE_INTEGER, ' microseconds, or -1 for no limit');
}

/** Numbers in a cpu/mem list ("0-2,4" -> [0,1,2,4]), validating the syntax. */
export function parseCpuList(text: string, flag = '--cpuset-cpus'): number[] {
  const hint = 'use numbers and ranges separated by commas, e.g. 0-2,4';
  const values = new Set<number>();
  const trimmed = text.trim();
  if (trimmed === '') throw new InvalidArgumentError(`${flag}: the list is empty`, { hint });
  for (const part of trimmed.split(',')) {
    const match = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!match)
      throw new InvalidArgumentError(`${flag}: "${part}" in "${text}" is not a number or range`, { hint });
    const start = Number(match[1]);
    const end = match[2] === undefined ? start : Number(match[2]);
    if (end < start) {
      throw new InvalidArgumentError(`${flag}: the range ${part} in "${text}" runs backwards`, {
        hint: 'write ranges low-high',
      });
    }
    if (end - start > 65536)
      throw new InvalidArgumentError(`${flag}: the range ${part} is too large`, { hint });
    for (let value = start; value <= end; value += 1) values.add(value);
  }
  return [...values].sort((a, b) => a - b);
}

/**
 * --cpuset-cpus / --cpuset-mems: checks the list (and, given `available`, that every number is
 * one the host has) and returns it unchanged for the kernel.
 */
export function parseCpuset(text: string, flag = '--cpuset-cpus', available?: number[]): string {
  const values = parseCpuList(text, flag);
  if (available) {
    const host = new Set(available);
    const missing = values.filter((value) => !host.has(value));
    if (missing.length > 0) {
      throw new InvalidArgumentError(
        `${flag} ${text}: the host has no ${flag.includes('mems') ? 'memory node' : 'CPU'} ${missing.join(', ')}`,
        {
          hint: `available: ${formatList(available)}`,
        },
      );
    }
  }
  return text.trim();
}

/** [0,1,2,4] -> "0-2,4". */
export function formatList(values: number[]): string {
  const sorted = [...new Set(values)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let index = 0; index < sorted.length;) {
    let end = index;
    while (end + 1 < sorted.length && (sorted[end + 1] as number) === (sorted[end] as number) + 1) end += 1;
    parts.push(end === index ? String(sorted[index]) : `${sorted[index]}-${sorted[end]}`);
    index = end + 1;
  }
  return parts.join(',');
}

/** The stat a device lookup needs; tests pass their own. */
export type DeviceStat = (file: string) => {
  isBlockDevice(): boolean;
  isCharacterDevice(): boolean;
  rdev: number | bigint;
  mode: number | bigint;
  uid: number | bigint;
  gid: number | bigint;
};

const hostStat: DeviceStat = (file) => fs.statSync(file, { bigint: true });

function statDevice(file: string, flag: string, stat: DeviceStat): ReturnType<DeviceStat> {
  try {
    return stat(file);
  } catch (error) {
    throw new NotFoundError(`${flag}: ${file} does not exist`, {
      cause: error,
      hint: 'name a device node such as /dev/sda',
    });
  }
}

function splitDeviceArgument(text: string, flag: string, example: string): [string, string] {
  const colon = text.lastIndexOf(':');
  if (colon <= 0 || colon === text.length - 1) {
    throw new InvalidArgumentError(`${flag}: "${text}" is not DEVICE:VALUE`, {
      hint: `e.g. ${flag} ${example}`,
    });
  }
  const device = text.slice(0, colon);
  if (!path.isAbsolute(device)) {
    throw new InvalidArgumentError(`${flag}: the device "${device}" is not an absolute path`, {
      hint: `e.g. ${flag} ${example}`,
    });
  }
  return [device, text.slice(colon + 1)];
}

function blockDevice(device: string, flag: string, stat: DeviceStat): { major: number; minor: number } {
  const info = statDevice(device, flag, stat);
  if (!info.isBlockDevice()) {
    throw new InvalidArgumentError(`${flag}: ${device} is not a block device`, {
      hint: 'throttles and weights apply to block devices such as /dev/sda (the whole disk, not a partition)',
    });
  }
  return splitDeviceNumber(info.rdev);
}

/** --device-read-bps / --device-write-bps "/dev/sda:1mb" (rate in bytes per second). */
export function parseDeviceThrottleBps(
  text: string,
  flag = '--device-write-bps',
  stat: DeviceStat = hostStat,
): DeviceThrottle {
  const [device, value] = splitDeviceArgument(text, flag, '/dev/sda:1mb');
  const rate = parseBytes(value, flag);
  return { path: device, ...blockDevice(device, flag, stat), rate };
}

/** --device-read-iops / --device-write-iops "/dev/sda:1000" (operations per second). */
export function parseDeviceThrottleIops(
  text: string,
  flag = '--device-write-iops',
  stat: DeviceStat = hostStat,
): DeviceThrottle {
  const [device, value] = splitDeviceArgument(text, flag, '/dev/sda:1000');
  if (!/^\d+$/.test(value)) {
    throw new InvalidArgumentError(`${flag}: "${value}" is not a whole number of operations per second`, {
      hint: `e.g. ${flag} /dev/sda:1000`,
    });
  }
  return { path: device, ...blockDevice(device, flag, stat), rate: Number(value) };
}

/** --blkio-weight: 10..1000 (0 leaves the default). */
export function parseBlkioWeight(text: string, flag = '--blkio-weight'): number {
  const value = parseInteger(text, flag, 'a weight from 10 to 1000');
  return value === 0 ? 0 : inRange(value, flag, 10, 1000);
}

/** --blkio-weight-device "/dev/sda:200". */
export function parseDeviceWeight(text: string, stat: DeviceStat = hostStat): DeviceWeight {
  const flag = '--blkio-weight-device';
  const [device, value] = splitDeviceArgument(text, flag, '/dev/sda:200');
  const weight = parseBlkioWeight(value, flag);
  return { path: device, ...blockDevice(device, flag, stat), weight };
}

/** --pids-limit: a number of processes; 0 and -1 mean no limit (returned as -1). */
export function parsePidsLimit(text: string): number {
  const value = parseInteger(text, '--pids-limit', 'a number of processes, or -1 for no limit');
  if (value < -1)
    throw new InvalidArgumentError(`--pids-limit ${value} is negative`, { hint: 'use -1 for no limit' });
  return value <= 0 ? -1 : value;
}

/** --net-prio eth0=5 -> ["eth0", 5]. */
export function parseNetPrio(text: string): [string, number] {
  const match = /^([^\s=/]{1,15})=(\d+)$/.exec(text.trim());
  if (!match) {
    throw new InvalidArgumentError(`--net-prio: "${text}" is not INTERFACE=PRIORITY`, {
      hint: 'e.g. --net-prio eth0=5 (interface names are at most 15 characters)',
    });
  }
  const priority = Number(match[2]);
  if (priority > 0xffffffff) throw new InvalidArgumentError(`--net-prio: priority ${priority} is too large`);
  return [match[1] as string, priority];
}

/** --net-cls-classid "0x100001" or "1048577" (0xAAAABBBB: major AAAA, minor BBBB). */
export function parseNetClassid(text: string): number {
  const trimmed = text.trim();
  const value = /^0x[0-9a-f]{1,8}$/i.test(trimmed)
    ? parseInt(trimmed, 16)
    : /^\d+$/.test(trimmed)
      ? Number(trimmed)
      : NaN;
  if (!Number.isInteger(value) || value > 0xffffffff) {
    throw new InvalidArgumentError(`--net-cls-classid: "${text}" is not a class id`, {
      hint: 'give 0xAAAABBBB (tc handle AAAA:BBBB), e.g. 0x100001',
    });
  }
  return value;
}

const RULE = /^([abc]) (\d+|\*):(\d+|\*) ([rwm]{1,3})$/;

function validAccess(access: string): boolean {
  return /^[rwm]{1,3}$/.test(access) && new Set(access).size === access.length;
}

/** --device-cgroup-rule 'c 1:3 mr' -> an allow rule ("a" alone allows everything). */
export function parseDeviceCgroupRule(text: string): DeviceRule {
  const trimmed = text.trim();
  if (trimmed === 'a' || trimmed === 'a *:* rwm')
    return { allow: true, type: 'a', major: -1, minor: -1, access: 'rwm' };
  const match = RULE.exec(trimmed);
  if (!match || !validAccess(match[4] as string)) {
    throw new InvalidArgumentError(`--device-cgroup-rule: "${text}" is not a device rule`, {
      hint: "write 'TYPE MAJOR:MINOR ACCESS' with TYPE a, b or c, numbers or *, and ACCESS from r, w, m: e.g. 'c 1:3 mr'",
    });
  }
  const number = (value: string): number => (value === '*' ? -1 : Number(value));
  return {
    allow: true,
    type: match[1] as 'b' | 'c',
    major: number(match[2] as string),
    minor: number(match[3] as string),
    access: match[4] as string,
  };
}

/** A --device mapping: the node to create in the container and the rule that allows it. */
export interface DeviceMapping {
  hostPath: string;
  containerPath: string;
  type: 'b' | 'c';
  major: number;
  minor: number;
  /** Access the cgroup rule grants ("rwm" by default). */
  permissions: string;
  /** The host node's mode bits (permission part), owner and group, to copy into the container. */
  fileMode: number;
  uid: number;
  gid: number;
  rule: DeviceRule;
}

/** --device HOST[:CONTAINER][:PERMISSIONS], as docker parses it. */
export function parseDeviceMapping(text: string, stat: DeviceStat = hostStat): DeviceMapping {
  const parts = text.split(':');
  let hostPath = parts[0] ?? '';
  let containerPath = hostPath;
  let permissions = 'rwm';
  if (parts.length === 3) {
    containerPath = parts[1] ?? '';
    permissions = parts[2] ?? '';
  } else if (parts.length === 2) {
    if (validAccess(parts[1] ?? '')) permissions = parts[1] as string;
    else containerPath = parts[1] ?? '';
  } else if (parts.length !== 1) {
    hostPath = '';
  }
  const hint = 'write --device HOST[:CONTAINER][:PERMISSIONS], e.g. --device /dev/fuse:/dev/fuse:rwm';
  if (!hostPath || !path.isAbsolute(hostPath) || !containerPath || !path.isAbsolute(containerPath)) {
    throw new InvalidArgumentError(`--device: "${text}" is not a device mapping`, { hint });
  }
  if (!validAccess(permissions)) {
    throw new InvalidArgumentError(
      `--device: "${permissions}" in "${text}" is not a combination of r, w and m`,
      { hint },
    );
  }
  const info = statDevice(hostPath, '--device', stat);
  const type = info.isBlockDevice() ? 'b' : info.isCharacterDevice() ? 'c' : undefined;
  if (!type) {
    throw new InvalidArgumentError(`--device: ${hostPath} is not a device node`, {
      hint: 'name a character or block device such as /dev/fuse',
    });
  }
  const { major, minor } = splitDeviceNumber(info.rdev);
  return {
    hostPath,
    containerPath: path.posix.normalize(containerPath),
    type,
    major,
    minor,
    permissions,
    fileMode: Number(BigInt(info.mode) & 0o7777n),
    uid: Number(info.uid),
    gid: Number(info.gid),
    rule: { allow: true, type, major, minor, access: permissions },
  };
}

/**
 * docker's default device policy, in the order of runc's libcontainer/specconv AllowedDevices:
 * deny everything, allow mknod of any node, then the standard character devices. Current runc
 * no longer lists /dev/console (5:1): a container's console is a pty (136:*), already allowed.
 */
export function defaultDeviceRules(): DeviceRule[] {
  const allow = (type: 'b' | 'c', major: number, minor: number, access = 'rwm'): DeviceRule => ({
    allow: true,
    type,
    major,
    minor,
    access,
  });
  return [
    { allow: false, type: 'a', major: -1, minor: -1, access: 'rwm' },
    allow('c', -1, -1, 'm'), // mknod of any character device
    allow('b', -1, -1, 'm'), // mknod of any block device
    allow('c', 1, 3), // /dev/null
    allow('c', 1, 8), // /dev/random
    allow('c', 1, 7), // /dev/full
    allow('c', 5, 0), // /dev/tty
    allow('c', 1, 5), // /dev/zero
    allow('c', 1, 9), // /dev/urandom
    allow('c', 136, -1), // /dev/pts/*
    allow('c', 5, 2), // /dev/ptmx
    allow('c', 10, 200), // /dev/net/tun (kept by runc for compatibility)
  ];
}
