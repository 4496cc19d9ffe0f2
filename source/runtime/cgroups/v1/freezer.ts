/**
 * v1 freezer: FROZEN/THAWED, waiting until freezer.state settles. A v1 cgroup can stay in
 * FREEZING while tasks keep forking, so the freeze is retried (and thawed briefly now and then)
 * the way runc does, and a cgroup that will not freeze is thawed back rather than left half-frozen.
 */
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConflictError, CorruptStateError } from '../../errors.js';
import type { CgroupFs } from '../fs.js';
import type { FreezerState } from '../types.js';

const STATE = 'freezer.state';

export interface FreezeOptions {
  /** Give up after this long (default 5 s). */
  timeoutMs?: number;
}

async function readState(cgroupFs: CgroupFs, dir: string): Promise<string> {
  return (await cgroupFs.readFile(path.join(dir, STATE))).trim();
}

export async function freezeV1(cgroupFs: CgroupFs, dir: string, options: FreezeOptions = {}): Promise<void> {
  const file = path.join(dir, STATE);
  const deadline = Date.now() + (options.timeoutMs ?? 5000);
  try {
    for (let attempt = 0; Date.now() < deadline; attempt += 1) {
      if (attempt % 50 === 49) {
        // A short thaw lets tasks caught mid-fork finish, which helps the next freeze succeed.
        await cgroupFs.writeFile(file, 'THAWED');
        await sleep(10);
      }
      await cgroupFs.writeFile(file, 'FROZEN');
      const state = await readState(cgroupFs, dir);
      if (state === 'FROZEN') return;
      if (state !== 'FREEZING')
        throw new CorruptStateError(`unexpected ${STATE} "${state}" while freezing ${dir}`);
      await sleep(attempt < 10 ? 1 : 10);
    }
  } catch (error) {
    await cgroupFs.writeFile(file, 'THAWED').catch(() => undefined);
    throw error;
  }
  await cgroupFs.writeFile(file, 'THAWED').catch(() => undefined);
  throw new ConflictError(`the cgroup ${dir} stayed FREEZING; it was thawed again`, {
    hint: 'processes kept starting in the container while it was being paused; try again',
  });
}

export async function thawV1(cgroupFs: CgroupFs, dir: string, options: FreezeOptions = {}): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 5000);
  await cgroupFs.writeFile(path.join(dir, STATE), 'THAWED');
  while ((await readState(cgroupFs, dir)) !== 'THAWED') {
    if (Date.now() > deadline) throw new ConflictError(`the cgroup ${dir} did not thaw`);
    await sleep(5);
  }
}

export async function freezerStateV1(cgroupFs: CgroupFs, dir: string): Promise<FreezerState> {
  const state = await readState(cgroupFs, dir);
  if (state === 'THAWED') return 'thawed';
  if (state === 'FREEZING') return 'freezing';
  if (state === 'FROZEN') {
    // FROZEN because an ancestor is frozen does not mean this container was paused.
    const self = await cgroupFs.readFile(path.join(dir, 'freezer.self_freezing')).catch(() => '1');
    return self.trim() === '0' ? 'thawed' : 'frozen';
  }
  throw new CorruptStateError(`unknown ${STATE} "${state}" in ${dir}`);
}
