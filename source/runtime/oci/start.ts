/** `gantry-oci start`: lets the created container's process go past its exec fifo. */
import path from 'node:path';
import { ConflictError, GantryError } from '../errors.js';
import { releaseExecFifo } from '../init/exec-fifo.js';
import type { OciStore } from './store.js';

export async function start(store: OciStore, id: string): Promise<void> {
  const state = await store.load(id);
  const status = store.status(state);
  if (status !== 'created')
    throw new ConflictError(
      `cannot start a container that is ${status}; only a created container can be started`,
    );
  const released = await releaseExecFifo(path.join(store.dir(id), 'exec.fifo'), state.init);
  if (released !== 'released') {
    throw new GantryError(
      `container ${id} did not take the start signal; its process has ${released === 'timeout' ? 'not answered' : 'exited'}`,
    );
  }
  const spec = await store.bundleSpec(state);
  if (spec?.hooks?.poststart?.length) {
    const { runHooksWarning } = await import('./hooks.js');
    await runHooksWarning('poststart', spec.hooks.poststart, store.ociState(state, 'running'));
  }
}
