/** `gantry-oci delete`: a stopped container's cgroup and state removed (with --force, a running one killed first). */
import fsp from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive, signalIdentity } from '../containers/process-identity.js';
import { ConflictError, NotFoundError } from '../errors.js';
import { type OciStore, type StoredState } from './store.js';

async function waitStopped(store: OciStore, state: StoredState, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (store.status(state) === 'stopped' && !isAlive(state.monitor)) return true;
    await sleep(5);
  }
  return store.status(state) === 'stopped';
}

export async function deleteContainer(
  store: OciStore,
  id: string,
  options: { force?: boolean } = {},
): Promise<void> {
  let state: StoredState;
  try {
    state = await store.load(id);
  } catch (error) {
    if (error instanceof NotFoundError && options.force) return;
    throw error;
  }
  const status = store.status(state);
  if ((status === 'running' || status === 'paused') && !options.force) {
    throw new ConflictError(`cannot delete container ${id} that is not stopped: ${status}`, {
      hint: 'stop it first or use --force',
    });
  }
  const { containerCgroup, emptyCgroup, removeCgroup } = await import('./cgroup.js');
  if (status === 'paused')
    await containerCgroup(store, state)
      .thaw()
      .catch(() => undefined);
  if (status !== 'stopped' && state.init && isAlive(state.init)) {
    signalIdentity(state.init, 9);
    await waitStopped(store, state, 10_000);
  }
  // Without a pid namespace the init's children outlive it: --force (and run) end them too.
  if (options.force) await emptyCgroup(store, state, 10_000);
  const spec = await store.bundleSpec(state);
  await removeCgroup(store, state);
  await fsp.rm(store.dir(id), { recursive: true, force: true });
  if (spec?.hooks?.poststop?.length) {
    const { runHooksWarning } = await import('./hooks.js');
    await runHooksWarning('poststop', spec.hooks.poststop, store.ociState(state, 'stopped'));
  }
}
