/** `gantry-oci kill`: a signal to the container's process, or with --all to every one of its cgroup. */
import { signalIdentity } from '../containers/process-identity.js';
import { ConflictError } from '../errors.js';
import { parseSignal } from '../signals.js';
import type { OciStore } from './store.js';

export async function kill(
  store: OciStore,
  id: string,
  signal: string = 'SIGTERM',
  options: { all?: boolean } = {},
): Promise<void> {
  // 0 checks that the process is there, as kill(2) and runc take it.
  const number = signal === '0' ? 0 : parseSignal(signal);
  const state = await store.load(id);
  const status = store.status(state);
  if (options.all) {
    // --all reaches what is left in the cgroup even after init ended (no pid namespace), as runc.
    const { signalCgroup } = await import('./cgroup.js');
    await signalCgroup(store, state, number);
  } else {
    // runc's words: CRI-O and containerd's shim read "container not running" / "no such process"
    // in stderr as "already stopped", not as a failure of the runtime.
    if (status === 'stopped' || status === 'creating' || !state.init)
      throw new ConflictError(`cannot signal ${id}: container not running (${status})`);
    if (!signalIdentity(state.init, number))
      throw new ConflictError(`cannot signal ${id}: no such process (its init ${state.init.pid} is gone)`);
  }
  // A frozen process takes SIGKILL only once thawed: as runc, a killed paused container resumes.
  if (number === 9 && status === 'paused') {
    const { resume } = await import('./pause.js');
    await resume(store, id, { quiet: true });
  }
}
