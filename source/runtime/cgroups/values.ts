/**
 * Parsing of the values cgroup files hold, and formatting of what is written to them. Pure, so
 * v1 and v2 drivers and their tests share one reading of each format.
 */
import type { DeviceRule, PressureLine } from './types.js';

/**
 * v1 reports "no limit" as the largest page-aligned long (9223372036854771712 with 4 KiB pages)
 * rather than -1; anything this large cannot be a real limit.
 */
const UNLIMITED_THRESHOLD = 2 ** 62;

export function isUnlimited(value: number): boolean {
  return value >= UNLIMITED_THRESHOLD;
}

/** A limit read from a v1 file, undefined for "no limit". */
export function limitOrUndefined(value: number | undefined): number | undefined {
  return value === undefined || isUnlimited(value) ? undefined : value;
}

/** One number from a single-value file ("max" on v2 reads as undefined). */
export function parseSingleNumber(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === 'max' || trimmed === '') return undefined;
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : undefined;
}

/** "key value" lines (memory.stat, cpu.stat, cpuacct.stat, memory.events, oom_control). */
export function parseKeyValues(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [key, raw] = line.trim().split(/\s+/);
    if (!key || raw === undefined) continue;
    const value = Number(raw);
    if (Number.isFinite(value)) values.set(key, value);
  }
  return values;
}

/** "prefix key=value key=value" lines (io.stat, PSI files, io.max), keyed by the prefix. */
export function parseNestedKeyed(text: string): Map<string, Map<string, string>> {
  const result = new Map<string, Map<string, string>>();
  for (const line of text.split('\n')) {
    const [prefix, ...pairs] = line.trim().split(/\s+/);
    if (!prefix) continue;
    const entry = new Map<string, string>();
    for (const pair of pairs) {
      const equals = pair.indexOf('=');
      if (equals > 0) entry.set(pair.slice(0, equals), pair.slice(equals + 1));
    }
    result.set(prefix, entry);
  }
  return result;
}

/** Pressure stall information: "some avg10=0.00 avg60=0.00 avg300=0.00 total=0". */
export function parsePressure(text: string): { some?: PressureLine; full?: PressureLine } {
  const result: { some?: PressureLine; full?: PressureLine } = {};
  for (const [kind, fields] of parseNestedKeyed(text)) {
    if (kind !== 'some' && kind !== 'full') continue;
    result[kind] = {
      avg10: Number(fields.get('avg10') ?? 0),
      avg60: Number(fields.get('avg60') ?? 0),
      avg300: Number(fields.get('avg300') ?? 0),
      total: Number(fields.get('total') ?? 0),
    };
  }
  return result;
}

/** Lines of a per-device v1 file ("8:0 1048576"), keyed by "MAJ:MIN". */
export function parseDeviceValues(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const [device, value] = line.trim().split(/\s+/);
    if (device && value !== undefined && /^\d+:\d+$/.test(device)) values.set(device, value);
  }
  return values;
}

/** Sums "MAJ:MIN Op value" lines of blkio.throttle.io_service_bytes / io_serviced by op. */
export function sumBlkioByOp(text: string): { read: number; write: number } {
  let read = 0;
  let write = 0;
  for (const line of text.split('\n')) {
    const [device, op, raw] = line.trim().split(/\s+/);
    if (!device || !/^\d+:\d+$/.test(device) || raw === undefined) continue;
    if (op === 'Read') read += Number(raw);
    else if (op === 'Write') write += Number(raw);
  }
  return { read, write };
}

/** "c 1:3 rwm", "a" for everything: the format of devices.allow/deny and of devices.list. */
export function formatDeviceRule(rule: DeviceRule): string {
  if (rule.type === 'a') return 'a *:* rwm';
  const number = (value: number): string => (value < 0 ? '*' : String(value));
  return `${rule.type} ${number(rule.major)}:${number(rule.minor)} ${rule.access}`;
}

export function deviceNumber(device: { major: number; minor: number }): string {
  return `${device.major}:${device.minor}`;
}

/** Expands a cpu/mem list ("0-2,4") into numbers; the string must already be valid. */
export function expandList(list: string): number[] {
  const result: number[] = [];
  for (const part of list.trim().split(',')) {
    if (part === '') continue;
    const [start, end] = part.split('-').map(Number) as [number, number | undefined];
    for (let value = start; value <= (end ?? start); value += 1) result.push(value);
  }
  return result;
}
