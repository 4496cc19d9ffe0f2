/**
 * v1 blkio controller: proportional weights (CFQ's blkio.weight, or BFQ's blkio.bfq.weight on
 * current kernels) and per-device throttles, plus the byte and operation counts of stats().
 */
import path from 'node:path';
import { UnsupportedError } from '../../errors.js';
import { readOptional, type CgroupFs } from '../fs.js';
import type { CgroupStats, DeviceThrottle, Resources } from '../types.js';
import { deviceNumber, parseDeviceValues, sumBlkioByOp } from '../values.js';
import { has, type V1ApplyContext, type V1ResourceController } from './controller.js';

const THROTTLES: ReadonlyArray<[keyof Resources, string, string]> = [
  ['blkioDeviceReadBps', 'blkio.throttle.read_bps_device', 'device read bps'],
  ['blkioDeviceWriteBps', 'blkio.throttle.write_bps_device', 'device write bps'],
  ['blkioDeviceReadIOps', 'blkio.throttle.read_iops_device', 'device read iops'],
  ['blkioDeviceWriteIOps', 'blkio.throttle.write_iops_device', 'device write iops'],
];

/** Like runc: blkio.weight (CFQ) where the kernel has it, else BFQ's files. */
async function findWeightFiles(
  cgroupFs: CgroupFs,
  dir: string,
): Promise<{ weight: string; device: string } | undefined> {
  for (const prefix of ['blkio.', 'blkio.bfq.']) {
    if (await cgroupFs.exists(path.join(dir, `${prefix}weight`))) {
      return { weight: `${prefix}weight`, device: `${prefix}weight_device` };
    }
  }
  return undefined;
}

function noWeightFiles(): UnsupportedError {
  return new UnsupportedError(
    'this kernel has no blkio weight files (blkio.weight, blkio.bfq.weight), so --blkio-weight cannot be set',
    {
      hint: 'proportional I/O weights need the CFQ or BFQ I/O scheduler; use --device-read-bps/--device-write-bps throttles instead',
    },
  );
}

async function weightFiles(context: V1ApplyContext): Promise<{ weight: string; device: string }> {
  const files = await findWeightFiles(context.fs, context.dir);
  if (!files) throw noWeightFiles();
  return files;
}

/** True when `r` sets a proportional weight (0 leaves it unset, as docker). */
export function wantsBlkioWeight(r: Resources): boolean {
  return (r.blkioWeight !== undefined && r.blkioWeight !== 0) || (r.blkioWeightDevice?.length ?? 0) > 0;
}

const weightProbes = new Map<string, Promise<boolean>>();

/**
 * Refuses weights up front where the kernel has no weight files, so a container is refused at
 * create rather than at start. The files appear only in non-root cgroups (BFQ's are not on the
 * root), so a probe cgroup is made below the hierarchy's root once per process and removed.
 */
export async function checkBlkioWeight(cgroupFs: CgroupFs, mountPoint: string): Promise<void> {
  let probe = weightProbes.get(mountPoint);
  if (!probe) {
    probe = (async () => {
      const dir = path.join(
        mountPoint,
        `gantry-probe-${process.pid}-${Math.random().toString(16).slice(2, 10)}`,
      );
      await cgroupFs.mkdir(dir);
      try {
        return (await findWeightFiles(cgroupFs, dir)) !== undefined;
      } finally {
        await cgroupFs.rmdir(dir).catch(() => undefined);
      }
    })();
    weightProbes.set(mountPoint, probe);
  }
  if (!(await probe)) throw noWeightFiles();
}

function deviceExplain(what: string, device: { path: string; major: number; minor: number }) {
  return async (code: string): Promise<string | undefined> => {
    if (code === 'ENODEV' || code === 'EINVAL') {
      return `${what} for ${device.path} (${deviceNumber(device)}) is refused: the kernel applies it only to whole block devices that exist (not partitions)`;
    }
    if (code === 'EOPNOTSUPP' || code === 'ENOTSUP') {
      return `${what} for ${device.path} (${deviceNumber(device)}) is refused: the device does not use an I/O scheduler with weights (BFQ)`;
    }
    return undefined;
  };
}

async function setThrottle(
  context: V1ApplyContext,
  file: string,
  what: string,
  device: DeviceThrottle,
): Promise<void> {
  const full = path.join(context.dir, file);
  const key = deviceNumber(device);
  // Writing rate 0 removes a device's throttle, which is what "no old entry" restores to.
  const old = parseDeviceValues(await context.fs.readFile(full)).get(key) ?? '0';
  await context.journal.write(full, `${key} ${device.rate}`, {
    what: `${what} ${device.rate} for ${device.path}`,
    restore: `${key} ${old}`,
    explain: deviceExplain(what, device),
  });
}

export const blkioController: V1ResourceController = {
  name: 'blkio',
  wants: (r) => has(r.blkioWeight) || has(r.blkioWeightDevice) || THROTTLES.some(([key]) => has(r[key])),
  async apply(context, r) {
    if (wantsBlkioWeight(r)) {
      const files = await weightFiles(context);
      if (r.blkioWeight !== undefined && r.blkioWeight !== 0) {
        const file = path.join(context.dir, files.weight);
        const old = ((await context.fs.readFile(file)).trim().match(/\d+/) ?? ['100'])[0];
        await context.journal.write(file, String(r.blkioWeight), {
          what: `blkio weight ${r.blkioWeight}`,
          restore: old,
        });
      }
      for (const device of r.blkioWeightDevice ?? []) {
        const file = path.join(context.dir, files.device);
        const key = deviceNumber(device);
        const old = parseDeviceValues(await context.fs.readFile(file)).get(key) ?? '0';
        await context.journal.write(file, `${key} ${device.weight}`, {
          what: `blkio weight ${device.weight} for ${device.path}`,
          restore: `${key} ${old}`,
          explain: deviceExplain('blkio weight', device),
        });
      }
    }
    for (const [key, file, what] of THROTTLES) {
      for (const device of (r[key] as DeviceThrottle[] | undefined) ?? [])
        await setThrottle(context, file, what, device);
    }
  },
};

export async function blkioStats(cgroupFs: CgroupFs, dir: string): Promise<CgroupStats['io']> {
  const bytes = await readOptional(cgroupFs, path.join(dir, 'blkio.throttle.io_service_bytes'));
  const ops = await readOptional(cgroupFs, path.join(dir, 'blkio.throttle.io_serviced'));
  if (bytes === undefined && ops === undefined) return undefined;
  const byteTotals = sumBlkioByOp(bytes ?? '');
  const opTotals = sumBlkioByOp(ops ?? '');
  return {
    readBytes: byteTotals.read,
    writeBytes: byteTotals.write,
    readOps: opTotals.read,
    writeOps: opTotals.write,
  };
}
