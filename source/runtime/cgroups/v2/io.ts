/**
 * v2 io controller: io.weight (or BFQ's io.bfq.weight) and io.max throttles, one line per device
 * ("MAJ:MIN rbps=N wbps=N riops=N wiops=N"), plus the totals of io.stat. A per-device weight
 * is BFQ's alone (as runc writes it), so it is refused up front for a disk BFQ does not schedule.
 */
import fs from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError } from '../../errors.js';
import { blkioWeightToIoWeight } from '../convert.js';
import { readOptional, type CgroupFs } from '../fs.js';
import type { CgroupStats, DeviceThrottle, Resources } from '../types.js';
import { deviceNumber, parseNestedKeyed } from '../values.js';
import { has, type V2ApplyContext, type V2ResourceController } from './controller.js';

const THROTTLE_KEYS: ReadonlyArray<[keyof Resources, string]> = [
  ['blkioDeviceReadBps', 'rbps'],
  ['blkioDeviceWriteBps', 'wbps'],
  ['blkioDeviceReadIOps', 'riops'],
  ['blkioDeviceWriteIOps', 'wiops'],
];

/** Throttles grouped by device, so each device gets one io.max write. */
function throttlesByDevice(r: Resources): Map<string, { path: string; limits: Map<string, number> }> {
  const devices = new Map<string, { path: string; limits: Map<string, number> }>();
  for (const [field, key] of THROTTLE_KEYS) {
    for (const throttle of (r[field] as DeviceThrottle[] | undefined) ?? []) {
      const id = deviceNumber(throttle);
      const entry = devices.get(id) ?? { path: throttle.path, limits: new Map<string, number>() };
      entry.limits.set(key, throttle.rate);
      devices.set(id, entry);
    }
  }
  return devices;
}

/**
 * The I/O scheduler of a whole disk ("mq-deadline [bfq] none" as sysfs shows it), or undefined
 * when major:minor is no whole disk (a partition has no queue of its own).
 */
export type SchedulerOf = (major: number, minor: number) => string | undefined;

export const hostSchedulerOf: SchedulerOf = (major, minor) => {
  try {
    return fs.readFileSync(`/sys/dev/block/${major}:${minor}/queue/scheduler`, 'utf8').trim();
  } catch {
    return undefined;
  }
};

/** Refuses a per-device weight the kernel would not take (ENOTSUP at write time otherwise). */
export function checkDeviceWeights(r: Resources, schedulerOf: SchedulerOf): void {
  for (const device of r.blkioWeightDevice ?? []) {
    if (device.weight === 0) continue;
    const id = deviceNumber(device);
    const scheduler = schedulerOf(device.major, device.minor);
    if (scheduler === undefined) {
      throw new InvalidArgumentError(
        `per-device I/O weight for ${device.path}: ${id} is not a whole disk (a partition, or no block device), and weights apply to whole disks`,
        { hint: 'name the disk itself, e.g. /dev/sda rather than /dev/sda1' },
      );
    }
    if (!/\[bfq\]/.test(scheduler)) {
      const active = /\[([^\]]+)\]/.exec(scheduler)?.[1] ?? scheduler;
      throw new InvalidArgumentError(
        `per-device I/O weight for ${device.path}: the disk ${id} uses the ${active} I/O scheduler, and cgroup v2 takes a per-device weight only from BFQ`,
        {
          hint: `switch the disk to BFQ (echo bfq > /sys/dev/block/${id}/queue/scheduler), or drop --blkio-weight-device (--blkio-weight sets the weight on every disk)`,
        },
      );
    }
  }
}

async function setWeights(context: V2ApplyContext, r: Resources): Promise<void> {
  // BFQ takes blkio's 1..1000 scale as is; io.weight uses 1..10000.
  const bfq = await context.fs.exists(path.join(context.dir, 'io.bfq.weight'));
  const file = path.join(context.dir, bfq ? 'io.bfq.weight' : 'io.weight');
  const convert = (weight: number): number => (bfq ? weight : blkioWeightToIoWeight(weight));
  if (r.blkioWeight !== undefined && r.blkioWeight !== 0) {
    const before = await context.fs.readFile(file);
    const old = readDefaultWeight(before) ?? '100';
    // BFQ drops every per-device weight when the default changes: the ones this call does not
    // replace are written again (and again on undo), so the kernel keeps what the record says.
    const kept = bfq
      ? deviceWeightLines(before).filter(
          ([id]) => !(r.blkioWeightDevice ?? []).some((d) => deviceNumber(d) === id),
        )
      : [];
    await context.journal.writeOnly(file, `default ${convert(r.blkioWeight)}`, {
      what: `blkio weight ${r.blkioWeight}`,
    });
    context.journal.addUndo(`blkio weight (${file} = "default ${old}")`, async () => {
      await context.fs.writeFile(file, `default ${old}`);
      for (const [id, weight] of deviceWeightLines(before))
        await context.fs.writeFile(file, `${id} ${weight}`);
    });
    for (const [id, weight] of kept) {
      await context.journal.writeOnly(file, `${id} ${weight}`, { what: `blkio weight ${weight} for ${id}` });
    }
  }
  // checkDeviceWeights made sure each disk is BFQ's, so io.bfq.weight is there.
  const deviceFile = path.join(context.dir, 'io.bfq.weight');
  for (const device of r.blkioWeightDevice ?? []) {
    // Weight 0 drops the device's own weight; without BFQ there is none to drop.
    if (device.weight === 0 && !bfq) continue;
    const id = deviceNumber(device);
    const old = readDeviceWeight(await context.fs.readFile(deviceFile), id);
    await context.journal.write(deviceFile, `${id} ${device.weight === 0 ? 'default' : device.weight}`, {
      what: `blkio weight ${device.weight} for ${device.path}`,
      // "default" as a device's weight drops its own setting.
      restore: `${id} ${old ?? 'default'}`,
    });
  }
}

/** The "MAJ:MIN weight" lines of io.bfq.weight / io.weight. */
function deviceWeightLines(text: string): [string, string][] {
  return text
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((fields): fields is [string, string] => fields.length === 2 && /^\d+:\d+$/.test(fields[0] ?? ''));
}

function readDefaultWeight(text: string): string | undefined {
  for (const line of text.split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key === 'default' && value !== undefined) return value;
  }
  return undefined;
}

function readDeviceWeight(text: string, id: string): string | undefined {
  for (const line of text.split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key === id && value !== undefined) return value;
  }
  return undefined;
}

export const ioController: V2ResourceController = {
  name: 'io',
  wants: (r) =>
    has(r.blkioWeight) || has(r.blkioWeightDevice) || THROTTLE_KEYS.some(([field]) => has(r[field])),
  async apply(context, r) {
    if ((r.blkioWeight !== undefined && r.blkioWeight !== 0) || (r.blkioWeightDevice?.length ?? 0) > 0) {
      await setWeights(context, r);
    }
    const devices = throttlesByDevice(r);
    if (devices.size === 0) return;
    const file = path.join(context.dir, 'io.max');
    const current = parseNestedKeyed(await context.fs.readFile(file));
    for (const [id, { path: devicePath, limits }] of devices) {
      const old = current.get(id);
      // Rate 0 means "no throttle", which io.max spells "max".
      const line = [...limits].map(([key, rate]) => `${key}=${rate === 0 ? 'max' : rate}`).join(' ');
      const restore = [...limits.keys()].map((key) => `${key}=${old?.get(key) ?? 'max'}`).join(' ');
      await context.journal.write(file, `${id} ${line}`, {
        what: `I/O throttle "${line}" for ${devicePath}`,
        restore: `${id} ${restore}`,
        explain: async (code) =>
          code === 'ENODEV' || code === 'EINVAL'
            ? `I/O throttle for ${devicePath} (${id}) is refused: the kernel applies it only to whole block devices that exist (not partitions)`
            : undefined,
      });
    }
  },
};

export async function ioStats(cgroupFs: CgroupFs, dir: string): Promise<CgroupStats['io']> {
  const text = await readOptional(cgroupFs, path.join(dir, 'io.stat'));
  if (text === undefined) return undefined;
  const totals = { readBytes: 0, writeBytes: 0, readOps: 0, writeOps: 0 };
  for (const [, fields] of parseNestedKeyed(text)) {
    totals.readBytes += Number(fields.get('rbytes') ?? 0);
    totals.writeBytes += Number(fields.get('wbytes') ?? 0);
    totals.readOps += Number(fields.get('rios') ?? 0);
    totals.writeOps += Number(fields.get('wios') ?? 0);
  }
  return totals;
}
