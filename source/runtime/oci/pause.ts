/**
 * `gantry-oci pause` and `resume`: the container's cgroup frozen and thawed (the processes are not
 * told). A marker in the state directory says paused to `state` without reading the freezer.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { ConflictError } from '../errors.js';
import { FileLock } from '../fsutil.js';
import { containerCgroup } from './cgroup.js';
import { PAUSED_MARKER, type OciStore } from './store.js';

async function locked<T>(store: OciStore, id: string, body: () => Promise<T>): Promise<T> {
  const lock = await FileLock.tryAcquire(path.join(store.dir(id), 'lock'), { wait: true });
  try {
    return await body();
  } finally {
    lock?.release();
  }
}

export async function pause(store: OciStore, id: string): Promise<void> {
  const state = await store.load(id);
  await locked(store, id, async () => {
    const status = store.status(state);
    if (status !== 'running')
      throw new ConflictError(
        `cannot pause container ${id}: it is ${status}; only a running container can be paused`,
      );
    // The marker first: a `state` in between reads paused, never running with a frozen cgroup.
    fs.writeFileSync(path.join(store.dir(id), PAUSED_MARKER), '');
    try {
      await containerCgroup(store, state).freeze();
    } catch (error) {
      await fsp.rm(path.join(store.dir(id), PAUSED_MARKER), { force: true });
      throw error;
    }
  });
}

export async function resume(store: OciStore, id: string, options: { quiet?: boolean } = {}): Promise<void> {
  const state = await store.load(id);
  await locked(store, id, async () => {
    const status = store.status(state);
    if (status !== 'paused' && !options.quiet)
      throw new ConflictError(`cannot resume container ${id}: it is ${status}, not paused`);
    await containerCgroup(store, state).thaw();
    await fsp.rm(path.join(store.dir(id), PAUSED_MARKER), { force: true });
  });
}
