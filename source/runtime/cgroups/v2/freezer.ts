/**
 * v2 freezer: cgroup.freeze, then wait for cgroup.events to say "frozen 1" (the kernel freezes
 * tasks asynchronously; the write returns before they stop).
 */
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConflictError, UnsupportedError } from '../../errors.js';
import { readOptional, type CgroupFs } from '../fs.js';
import type { FreezerState } from '../types.js';
import { parseKeyValues } from '../values.js';

async function frozenFlag(cgroupFs: CgroupFs, dir: string): Promise<number | undefined> {
  return parseKeyValues((await readOptional(cgroupFs, path.join(dir, 'cgroup.events'))) ?? '').get('frozen');
}

async function setFrozen(cgroupFs: CgroupFs, dir: string, frozen: boolean, timeoutMs: number): Promise<void> {
  const file = path.join(dir, 'cgroup.freeze');
  if (!(await cgroupFs.exists(file))) {
    throw new UnsupportedError(
      'this kernel has no cgroup v2 freezer (cgroup.freeze needs Linux 5.2 or later)',
    );
  }
  await cgroupFs.writeFile(file, frozen ? '1' : '0');
  const want = frozen ? 1 : 0;
  const deadline = Date.now() + timeoutMs;
  let delay = 1;
  while ((await frozenFlag(cgroupFs, dir)) !== want) {
    if (Date.now() > deadline) {
      if (frozen) await cgroupFs.writeFile(file, '0').catch(() => undefined);
      throw new ConflictError(
        `the cgroup ${dir} did not ${frozen ? 'freeze' : 'thaw'} within ${timeoutMs} ms${frozen ? '; it was thawed again' : ''}`,
      );
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 50);
  }
}

export function freezeV2(cgroupFs: CgroupFs, dir: string, timeoutMs = 5000): Promise<void> {
  return setFrozen(cgroupFs, dir, true, timeoutMs);
}

export function thawV2(cgroupFs: CgroupFs, dir: string, timeoutMs = 5000): Promise<void> {
  return setFrozen(cgroupFs, dir, false, timeoutMs);
}

export async function freezerStateV2(cgroupFs: CgroupFs, dir: string): Promise<FreezerState> {
  const requested = ((await readOptional(cgroupFs, path.join(dir, 'cgroup.freeze'))) ?? '0').trim();
  if (requested !== '1') return 'thawed';
  return (await frozenFlag(cgroupFs, dir)) === 1 ? 'frozen' : 'freezing';
}
