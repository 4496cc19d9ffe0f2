/**
 * The limits the Limits pane lists: how each reads from a container's resources, how a typed
 * value becomes a resources update (with the same parsers as the CLI flags, so the same values
 * are accepted and refused with the same words), and how +/- steps it.
 */
import {
  formatList,
  parseBlkioWeight,
  parseBytes,
  parseCpuList,
  parseCpus,
  parseCpuset,
  parseCpuShares,
  parseMemoryLimit,
  parseMemorySwap,
  parsePidsLimit,
} from '../../runtime/cgroups/parse.js';
import { onlineCpus } from '../../runtime/cgroups/host.js';
import type { DeviceThrottle, Resources } from '../../runtime/cgroups/types.js';
import { InvalidArgumentError } from '../../runtime/errors.js';
import { formatBytesInput, formatCpus, formatMemory, formatRate } from '../format.js';
import type { LimitKey } from './types.js';

/** The host's online CPUs, read once: the same bounds the CLI checks --cpus and --cpuset-cpus by. */
let cpuList: number[] | undefined;
export function hostCpuList(): number[] {
  return (cpuList ??= onlineCpus());
}
export function hostCpuCount(): number {
  return hostCpuList().length;
}

export interface LimitDefinition {
  key: LimitKey;
  label: string;
  /** The flag of `gantry run` / `update` it corresponds to. */
  flag: string;
  /** False for limits that cannot be typed here (per-device throttles). */
  editable: boolean;
  /** The value for display ("256M", "0.5", "unlimited"). */
  display(resources: Resources): string;
  /** The value as the user would type it, to start editing from. */
  input(resources: Resources): string;
  /** The update to send; throws InvalidArgumentError with the reason for a bad value. */
  parse(text: string, resources: Resources): Resources;
  /** The typed value moved one step up or down; undefined when the limit has no steps. */
  step?(text: string, direction: 1 | -1, resources: Resources): string;
  /** What may be typed, shown under the field; every word it names is one `parse` takes. */
  hint: string;
  /** The words the hint offers for "no limit" (or the default), tested against `parse`. */
  noLimitWords: readonly string[];
  /**
   * How loose the limit in `resources` is, bigger is looser (Infinity: none): an edit that
   * loosens a limit by more than 10x shows the new value beside the old before it is applied.
   */
  looseness?(resources: Resources): number | undefined;
}

const UNLIMITED = 'unlimited';
const MIB = 1024 * 1024;

function isSet(value: number | undefined): value is number {
  return value !== undefined && value > 0;
}

const NO_LIMIT_WORDS = ['', '-1', 'none', 'unlimited', 'max'] as const;

function unlimitedText(text: string): boolean {
  return (NO_LIMIT_WORDS as readonly string[]).includes(text.trim().toLowerCase());
}

/** The no-limit words the hints name (parse takes none and max as well). */
const HINTED_NO_LIMIT = ['', '-1', 'unlimited'] as const;
const NO_LIMIT_HINT = 'empty, -1 or unlimited = no limit';

function sizeLooseness(value: number | undefined): number | undefined {
  if (value === undefined || value === 0) return undefined;
  return value < 0 ? Number.POSITIVE_INFINITY : value;
}

/** The host's CPUs as a cpuset list ("0-1"): what "all" means. */
export function allCpus(): string {
  return formatList(hostCpuList());
}

function isAllCpus(text: string | undefined): boolean {
  if (!text) return true;
  try {
    return formatList(parseCpuList(text)) === allCpus();
  } catch {
    return false;
  }
}

function memoryStep(bytes: number): number {
  if (bytes < 128 * MIB) return 16 * MIB;
  if (bytes < 1024 * MIB) return 64 * MIB;
  return 256 * MIB;
}

function stepBytes(text: string, direction: 1 | -1, fallback: number, minimum: number): string {
  let bytes: number;
  try {
    bytes = unlimitedText(text) ? -1 : parseBytes(text);
  } catch {
    return text;
  }
  if (bytes <= 0) return formatBytesInput(fallback);
  const step = memoryStep(direction > 0 ? bytes : bytes - 1);
  // Snap to the step grid first, so 300m + step is 320m rather than 364m.
  const snapped =
    direction > 0 ? Math.floor(bytes / step) * step + step : Math.ceil(bytes / step) * step - step;
  return formatBytesInput(Math.max(minimum, snapped));
}

function throttleDisplay(list: DeviceThrottle[] | undefined): string {
  if (!list || list.length === 0) return UNLIMITED;
  return list.map((entry) => `${entry.path} ${formatRate(entry.rate)}`).join(', ');
}

export const LIMITS: readonly LimitDefinition[] = [
  {
    key: 'memory',
    label: 'memory',
    flag: '--memory',
    editable: true,
    display: (r) => (isSet(r.memory) ? formatMemory(r.memory) : UNLIMITED),
    input: (r) => (isSet(r.memory) ? formatBytesInput(r.memory) : ''),
    parse: (text) => ({ memory: unlimitedText(text) ? -1 : parseMemoryLimit(text.trim()) }),
    step: (text, direction) => stepBytes(text, direction, 256 * MIB, 6 * MIB),
    hint: `a size, e.g. 256m or 1.5g (k, m, g are 1024-based; at least 6m); ${NO_LIMIT_HINT}`,
    noLimitWords: HINTED_NO_LIMIT,
    looseness: (r) => sizeLooseness(r.memory) ?? Number.POSITIVE_INFINITY,
  },
  {
    key: 'memoryReservation',
    label: 'reservation',
    flag: '--memory-reservation',
    editable: true,
    display: (r) => (isSet(r.memoryReservation) ? formatMemory(r.memoryReservation) : 'none'),
    input: (r) => (isSet(r.memoryReservation) ? formatBytesInput(r.memoryReservation) : ''),
    parse: (text) => ({
      memoryReservation: unlimitedText(text) ? -1 : parseMemoryLimit(text.trim(), '--memory-reservation'),
    }),
    step: (text, direction, r) =>
      stepBytes(text, direction, isSet(r.memory) ? Math.floor(r.memory / 2) : 128 * MIB, 6 * MIB),
    hint: `a size below the memory limit, e.g. 128m; ${NO_LIMIT_HINT.replace('no limit', 'none')}`,
    noLimitWords: HINTED_NO_LIMIT,
    looseness: (r) => sizeLooseness(r.memoryReservation) ?? Number.POSITIVE_INFINITY,
  },
  {
    key: 'memorySwap',
    label: 'memory+swap',
    flag: '--memory-swap',
    editable: true,
    display: (r) =>
      r.memorySwap === -1
        ? UNLIMITED
        : isSet(r.memorySwap)
          ? formatMemory(r.memorySwap)
          : isSet(r.memory)
            ? `${formatMemory(r.memory * 2)} (2x)`
            : UNLIMITED,
    input: (r) => (isSet(r.memorySwap) ? formatBytesInput(r.memorySwap) : r.memorySwap === -1 ? '-1' : ''),
    parse: (text) => ({ memorySwap: unlimitedText(text) ? -1 : parseMemorySwap(text.trim()) }),
    step: (text, direction, r) =>
      stepBytes(text, direction, isSet(r.memory) ? r.memory * 2 : 512 * MIB, 6 * MIB),
    hint: `memory plus swap, at least the memory limit, e.g. 512m; ${NO_LIMIT_HINT.replace('no limit', 'unlimited swap')}`,
    noLimitWords: HINTED_NO_LIMIT,
    looseness: (r) =>
      sizeLooseness(r.memorySwap) ?? (isSet(r.memory) ? r.memory * 2 : Number.POSITIVE_INFINITY),
  },
  {
    key: 'cpus',
    label: 'cpus',
    flag: '--cpus',
    editable: true,
    display: (r) => (isSet(r.cpuQuota) ? `${formatCpus(r.cpuQuota / (r.cpuPeriod || 100_000))}` : UNLIMITED),
    input: (r) => (isSet(r.cpuQuota) ? formatCpus(r.cpuQuota / (r.cpuPeriod || 100_000)) : ''),
    parse: (text) => {
      if (unlimitedText(text)) return { cpuQuota: -1 };
      const { cpuQuota, cpuPeriod } = parseCpus(text.trim(), hostCpuCount());
      return { cpuQuota, cpuPeriod };
    },
    step: (text, direction) => {
      const current = unlimitedText(text) ? Number.NaN : Number(text);
      if (!Number.isFinite(current) || current <= 0) return '1';
      const step = current < 1 || (current === 1 && direction < 0) ? 0.1 : 0.5;
      return formatCpus(Math.max(0.1, Math.round((current + direction * step) * 100) / 100));
    },
    hint: `CPUs of time per second, 0.01 to ${hostCpuCount()}, e.g. 0.5; ${NO_LIMIT_HINT}`,
    noLimitWords: HINTED_NO_LIMIT,
    looseness: (r) =>
      isSet(r.cpuQuota)
        ? r.cpuQuota / (r.cpuPeriod || 100_000)
        : r.cpuQuota === undefined || r.cpuQuota < 0
          ? Number.POSITIVE_INFINITY
          : undefined,
  },
  {
    key: 'cpuShares',
    label: 'cpu shares',
    flag: '--cpu-shares',
    editable: true,
    display: (r) => (isSet(r.cpuShares) ? String(r.cpuShares) : '1024 (default)'),
    input: (r) => String(isSet(r.cpuShares) ? r.cpuShares : 1024),
    // Empty resets to the kernel's default (0 would mean "unchanged" to update, as in docker).
    parse: (text) => ({ cpuShares: parseCpuShares(text.trim() || '1024') }),
    step: (text, direction) => {
      const current = Number(text) || 1024;
      return String(Math.max(2, Math.min(262144, current + direction * 128)));
    },
    hint: 'a relative weight, 2 to 262144; empty = the default 1024',
    noLimitWords: [''],
    looseness: (r) => (isSet(r.cpuShares) ? r.cpuShares : 1024),
  },
  {
    key: 'cpusetCpus',
    label: 'cpuset',
    flag: '--cpuset-cpus',
    editable: true,
    display: (r) => (isAllCpus(r.cpusetCpus) ? 'all' : r.cpusetCpus!),
    input: (r) => (isAllCpus(r.cpusetCpus) ? 'all' : r.cpusetCpus!),
    // "all" (or nothing) is every CPU the host has, written out: the kernel has no word for it.
    parse: (text) => ({
      cpusetCpus: ['', 'all'].includes(text.trim().toLowerCase())
        ? allCpus()
        : parseCpuset(text, '--cpuset-cpus', hostCpuList()),
    }),
    hint: `CPUs to run on (host: ${allCpus()}), e.g. 0 or 0-1 or 0,2; all (or empty) = every CPU`,
    noLimitWords: ['all', ''],
    looseness: (r) => (isAllCpus(r.cpusetCpus) ? hostCpuCount() : parseCpuList(r.cpusetCpus!).length),
  },
  {
    key: 'pidsLimit',
    label: 'pids',
    flag: '--pids-limit',
    editable: true,
    display: (r) => (isSet(r.pidsLimit) ? String(r.pidsLimit) : UNLIMITED),
    input: (r) => (isSet(r.pidsLimit) ? String(r.pidsLimit) : ''),
    parse: (text) => ({ pidsLimit: unlimitedText(text) ? -1 : parsePidsLimit(text.trim()) }),
    step: (text, direction) => {
      const current = unlimitedText(text) ? Number.NaN : Number(text);
      if (!Number.isFinite(current) || current <= 0) return '100';
      const step = current < 100 || (current === 100 && direction < 0) ? 10 : 50;
      return String(Math.max(1, current + direction * step));
    },
    hint: `a number of processes, e.g. 100; ${NO_LIMIT_HINT}`,
    noLimitWords: HINTED_NO_LIMIT,
    looseness: (r) => sizeLooseness(r.pidsLimit) ?? Number.POSITIVE_INFINITY,
  },
  {
    key: 'blkioWeight',
    label: 'io weight',
    flag: '--blkio-weight',
    editable: true,
    display: (r) => (isSet(r.blkioWeight) ? String(r.blkioWeight) : 'default'),
    input: (r) => (isSet(r.blkioWeight) ? String(r.blkioWeight) : '500'),
    parse: (text) => ({ blkioWeight: parseBlkioWeight(text.trim() || '0') }),
    step: (text, direction) => String(Math.max(10, Math.min(1000, (Number(text) || 500) + direction * 50))),
    hint: 'a relative weight, 10 to 1000; empty = the kernel default',
    noLimitWords: [''],
    looseness: (r) => (isSet(r.blkioWeight) ? r.blkioWeight : 500),
  },
  {
    key: 'ioRead',
    label: 'io read',
    flag: '--device-read-bps',
    editable: false,
    display: (r) => throttleDisplay(r.blkioDeviceReadBps),
    input: () => '',
    parse: () => {
      throw new InvalidArgumentError('device throttles are set per device', {
        hint: 'use gantry update --device-read-bps DEVICE:RATE',
      });
    },
    hint: 'set with gantry update --device-read-bps DEVICE:RATE',
    noLimitWords: [],
  },
  {
    key: 'ioWrite',
    label: 'io write',
    flag: '--device-write-bps',
    editable: false,
    display: (r) => throttleDisplay(r.blkioDeviceWriteBps),
    input: () => '',
    parse: () => {
      throw new InvalidArgumentError('device throttles are set per device', {
        hint: 'use gantry update --device-write-bps DEVICE:RATE',
      });
    },
    hint: 'set with gantry update --device-write-bps DEVICE:RATE',
    noLimitWords: [],
  },
  {
    key: 'netClass',
    label: 'net class',
    flag: '--net-cls-classid',
    // As with docker, the class id is given at create (`update` has no flag for it).
    editable: false,
    display: (r) => (isSet(r.netClsClassid) ? `0x${r.netClsClassid.toString(16)}` : 'none'),
    input: () => '',
    parse: () => {
      throw new InvalidArgumentError('the class id is set when the container is created', {
        hint: 'use gantry run --net-cls-classid 0xMMMMmmmm (tc class MMMM:mmmm)',
      });
    },
    hint: 'set with gantry run --net-cls-classid 0xMMMMmmmm (tc class MMMM:mmmm)',
    noLimitWords: [],
  },
];

export function limitDefinition(key: LimitKey): LimitDefinition {
  return LIMITS.find((definition) => definition.key === key)!;
}

/**
 * An error's message with its hint, as one line for the inline error: "what was wrong; what is
 * accepted". A hint the message already says is not said twice.
 */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const hint = (error as { hint?: unknown }).hint;
  const message = error.message.replace(/[.;\s]+$/, '');
  if (typeof hint !== 'string' || !hint) return message;
  // A hint is said already when the message has every figure it gives (a range, a minimum), or,
  // for a hint of words only, every word of it.
  const numbers = (text: string) => text.match(/\d+(?:\.\d+)?/g) ?? [];
  const words = (text: string) => text.toLowerCase().match(/[a-z]{3,}/g) ?? [];
  const hintNumbers = numbers(hint);
  const saidNumbers = new Set(numbers(message));
  const saidWords = new Set(words(message));
  const redundant =
    hintNumbers.length > 0
      ? hintNumbers.every((figure) => saidNumbers.has(figure))
      : words(hint).every((word) => saidWords.has(word));
  if (redundant) return message;
  return `${message}; ${hint.replace(/[.\s]+$/, '')}`;
}

/** How much looser than now a typed value makes a limit, when that is more than `factor`. */
export function loosening(
  definition: LimitDefinition,
  text: string,
  resources: Resources,
  factor = 10,
): { before: string; after: string; ratio: number } | undefined {
  if (!definition.looseness) return undefined;
  let change: Resources;
  try {
    change = definition.parse(text, resources);
  } catch {
    return undefined;
  }
  const merged = { ...resources, ...change };
  const before = definition.looseness(resources);
  const after = definition.looseness(merged);
  if (before === undefined || after === undefined || before <= 0 || before === Number.POSITIVE_INFINITY)
    return undefined;
  const ratio = after / before;
  if (!(ratio > factor)) return undefined;
  return { before: definition.display(resources), after: definition.display(merged), ratio };
}
