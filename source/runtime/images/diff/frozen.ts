/**
 * Holds a running container still while its writable layer is read (commit, diff): the cgroup
 * freezer stops every process in it, so the layer is one consistent moment and nothing in the
 * container can swap files under the reader. Docker pauses for commit; here diff does too, and
 * `--pause=false` on either reads the layer live (still safely: the walk is by descriptors).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Engine } from '../../containers/engine.js';
import type { ContainerRecord } from '../../containers/record.js';
import { ConflictError } from '../../errors.js';
import { trace } from '../../trace.js';

/**
 * Runs `read` with the container frozen when `pause` is true and it is running; `read` gets the
 * container's latest record. Another command's temporary pause (a concurrent commit) is waited
 * out, so each reads a frozen layer of its own; a pause the user made is left as it is. The pause
 * is marked as this process's: should it die before unpausing, the next command thaws it.
 */
export async function withLayerFrozen<T>(
  engine: Engine,
  record: ContainerRecord,
  pause: boolean,
  read: (record: ContainerRecord) => Promise<T>,
): Promise<T> {
  let paused = false;
  // Before anything is frozen: should this process be killed, the next gantry command of any
  // kind thaws the container (see containers/unfinished.ts).
  const entry = pause ? engine.journal.begin('pause', record.Id) : undefined;
  try {
    return await frozen();
  } finally {
    entry?.end();
  }

  async function frozen(): Promise<T> {
    if (pause) {
      for (const deadline = Date.now() + 60_000; ;) {
        record = await engine.get(record.Id);
        if (record.State.Status !== 'running' && !(record.State.Status === 'paused' && record.PausedBy))
          break;
        if (record.State.Status === 'running') {
          try {
            record = await engine.pause(record.Id, { temporary: true });
            paused = true;
            trace('layer: frozen');
            break;
          } catch (error) {
            if (!(error instanceof ConflictError)) throw error;
          }
        }
        if (Date.now() > deadline)
          throw new ConflictError(`container ${record.Name} stayed paused by another command for a minute`);
        await sleep(50);
      }
    }
    try {
      const result = await read(record);
      trace('layer: read');
      return result;
    } finally {
      if (paused) await engine.unpause(record.Id);
    }
  }
}
