/**
 * Short, fixed-width figures for table cells and gauges, in the CLI's unit system
 * (runtime/units.ts, docker's): memory in binary units with IEC names ("256MiB"), sizes of
 * images, layers, files and I/O in decimal units ("5.12MB").
 */
import { decimalSize } from '../runtime/units.js';

const BINARY_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** Memory: 1536 -> "1.5KiB", 268435456 -> "256MiB": 1024-based, at most one decimal. */
export function formatMemory(bytes: number | undefined): string {
  if (bytes === undefined || !Number.isFinite(bytes)) return '-';
  let value = Math.max(0, bytes);
  let unit = 0;
  while (value >= 1024 && unit < BINARY_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  const text = value.toFixed(digits).replace(/\.0$/, '');
  return `${text}${BINARY_UNITS[unit]}`;
}

/** Image, layer and file sizes as docker and `gantry image tree` print them: "5.12MB". */
export function formatSize(bytes: number | undefined): string {
  if (bytes === undefined || !Number.isFinite(bytes)) return '-';
  return decimalSize(Math.max(0, bytes));
}

/** A byte count as a limit the user can type back: 268435456 -> "256m", 1610612736 -> "1.5g". */
export function formatBytesInput(bytes: number): string {
  const units: [string, number][] = [
    ['g', 1024 ** 3],
    ['m', 1024 ** 2],
    ['k', 1024],
  ];
  for (const [suffix, size] of units) {
    if (bytes >= size && (bytes * 100) % size === 0) return `${Number((bytes / size).toFixed(2))}${suffix}`;
  }
  return String(bytes);
}

/** Bytes per second, decimal as docker's block I/O: "1.2MB/s". */
export function formatRate(bytesPerSecond: number | undefined): string {
  if (bytesPerSecond === undefined) return '-';
  return `${formatSize(bytesPerSecond)}/s`;
}

/** 12.345 -> "12.3%", 0.04 -> "0.0%", 250 -> "250%". */
export function formatPercent(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '-';
  return value >= 100 ? `${Math.round(value)}%` : `${value.toFixed(1)}%`;
}

/** Compact uptime: "42s", "5m", "3h12m", "4d2h". */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  const days = Math.floor(hours / 24);
  return hours % 24 === 0 ? `${days}d` : `${days}d${hours % 24}h`;
}

/** How far apart two uptime texts can be before the displayed text changes (for render scheduling). */
export function durationResolutionMs(ms: number): number {
  if (ms < 60_000) return 1000;
  if (ms < 3_600_000) return 60_000;
  return 60_000;
}

/** Nanoseconds of CPU time as seconds: "1.25s", "3m4s". */
export function formatCpuTime(nanos: number | undefined): string {
  if (nanos === undefined) return '-';
  const seconds = nanos / 1e9;
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 2 : 1)}s`;
  return formatDuration(seconds * 1000);
}

/** CPUs from a CFS quota: 50000/100000 -> "0.5". */
export function formatCpus(cpus: number): string {
  return Number(cpus.toFixed(2)).toString();
}

/** Cuts `text` to `width` columns with an ellipsis; pads nothing. */
export function truncate(text: string, width: number): string {
  if (width <= 0) return '';
  if (text.length <= width) return text;
  if (width === 1) return '…';
  return `${text.slice(0, width - 1)}…`;
}

/** Cuts from the left, keeping the end ("…/usr/lib/x"), for paths. */
export function truncateStart(text: string, width: number): string {
  if (width <= 0) return '';
  if (text.length <= width) return text;
  if (width === 1) return '…';
  return `…${text.slice(text.length - width + 1)}`;
}

/** "sha256:abcdef..." -> "abcdef012345". */
export function shortDigest(digest: string, length = 12): string {
  return digest.replace(/^sha256:/, '').slice(0, length);
}

/** A layer's instruction from history, tidied the way `docker history` shows it. */
export function tidyInstruction(createdBy: string | undefined): string {
  if (!createdBy) return '';
  return createdBy
    .replace(/^\/bin\/sh -c #\(nop\)\s*/, '')
    .replace(/^\/bin\/sh -c\s*/, 'RUN ')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * A log line as a terminal would leave it: escape sequences (colours, cursor moves) dropped, and
 * for a line redrawn with carriage returns (progress bars) only what was drawn last.
 */
export function logLineText(raw: string): string {
  const line = raw
    .replace(/\r?\n$/, '')
    // eslint-disable-next-line no-control-regex
    .replace(/\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-Z\\-_]/g, '');
  const lastReturn = line.replace(/\r+$/, '').lastIndexOf('\r');
  return (lastReturn >= 0 ? line.slice(lastReturn + 1) : line).replace(/\r/g, '');
}
