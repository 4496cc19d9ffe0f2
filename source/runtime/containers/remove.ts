/**
 * `rm` and `rm -f`. A healthy container is ended (with -f), its end recorded and everything of it
 * removed. A container whose record is damaged is removed with -f all the same: what its cgroup
 * and its monitor say is there is ended, whatever the record says. A monitor that is stopped
 * (SIGSTOP) would never record the end, so it is killed rather than waited for.
 */
import { ConflictError, NotFoundError } from '../errors.js';
import { trace } from '../trace.js';
import { KILLED_EXIT_WAIT_MS, waitForExit, type EngineCore } from './core.js';
import { isAlive, signalIdentity } from './process-identity.js';
import type { Reconciler } from './reconcile.js';
import type { ContainerRecord } from './record.js';
import { endRemains, examineRemains, isStopped } from './recovery.js';
import { requestStop } from './runs.js';

export async function removeContainer(
  core: EngineCore,
  reconciler: Reconciler,
  id: string,
  options: { force?: boolean; volumes?: boolean } = {},
): Promise<void> {
  let record: ContainerRecord;
  try {
    record = await core.containers.load(id);
  } catch (error) {
    if (error instanceof NotFoundError || !options.force) throw error;
    await reconciler.withLock(id, async () => {
      await endRemains(core, await examineRemains(core, id));
      await core.containers.removeDirectory(id);
    });
    return;
  }
  if (record.State.Status === 'running' || record.State.Status === 'paused') {
    const current = await reconciler.refresh(record);
    if (!current) return;
    record = current;
  }
  const monitor = record.Monitor;
  if (record.State.Status === 'running' || record.State.Status === 'paused') {
    if (!options.force) {
      throw new ConflictError(
        `cannot remove container "${record.Name}": container is ${record.State.Status}: stop the container before removing or force remove (-f)`,
      );
    }
    // Before the signal: the restart policy must not start the container again meanwhile.
    await requestStop(core, record.Id);
    await reconciler.thawQuietly(record);
    if (record.InitProcess) signalIdentity(record.InitProcess, 9);
    if (monitor && isStopped(monitor)) signalIdentity(monitor, 9);
    if (!(await waitForExit(core, record, KILLED_EXIT_WAIT_MS)) && monitor) {
      signalIdentity(monitor, 9);
      await waitForExit(core, record, 5_000);
    }
    trace('remove: killed');
  }
  await reconciler.withLock(id, async () => {
    const current = await core.containers.load(id).catch((error: unknown) => {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    });
    if (!current) return;
    if (current.State.Status === 'running' || current.State.Status === 'paused') {
      const finalized = await reconciler.finalize({
        ...current,
        HostConfig: { ...current.HostConfig, AutoRemove: false },
      });
      if (!finalized) return;
    }
    await reconciler.destroy(current, { volumes: options.volumes ?? false });
  });
  // A monitor stopped after it wrote the exit status would linger until resumed.
  if (monitor && isAlive(monitor) && isStopped(monitor)) signalIdentity(monitor, 9);
}
