/**
 * `wait` with docker's conditions: not-running (the default: a container that is not running
 * answers at once, a running one when its run ends), next-exit (the end of the next run, even
 * if the container is not running yet) and removed (when its record is gone).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { GantryError, InvalidArgumentError, NotFoundError } from '../errors.js';
import { trace } from '../trace.js';
import { waitForExit, type EngineCore } from './core.js';
import { keptExitCode } from './exit-codes.js';
import type { ContainerRecord } from './record.js';

export const WAIT_CONDITIONS = ['not-running', 'next-exit', 'removed'] as const;
export type WaitCondition = (typeof WAIT_CONDITIONS)[number];

export function parseWaitCondition(value: string): WaitCondition {
  if ((WAIT_CONDITIONS as readonly string[]).includes(value)) return value as WaitCondition;
  throw new InvalidArgumentError(`invalid wait condition ${JSON.stringify(value)}`, {
    hint: `accepted: ${WAIT_CONDITIONS.join(', ')}`,
  });
}

export interface WaitOptions {
  condition?: WaitCondition;
  signal?: AbortSignal;
}

/** What wait needs of the engine: the core plus the reconciling load. */
export interface WaitDeps extends EngineCore {
  refresh(record: ContainerRecord): Promise<ContainerRecord | undefined>;
}

const live = (record: ContainerRecord) =>
  record.State.Status === 'running' || record.State.Status === 'paused';

/** A run is told apart by its start time and, under a restart policy, by its restart count. */
const runOf = (record: ContainerRecord) => `${record.State.StartedAt}#${record.RestartCount}`;

export async function waitForContainer(
  deps: WaitDeps,
  id: string,
  options: WaitOptions = {},
): Promise<number> {
  const condition = options.condition ?? 'not-running';
  let lastCode = 0;
  let first = true;
  let firstRun = '';
  /** next-exit: the run whose end is awaited, once one was seen. */
  let awaited: string | undefined;
  for (;;) {
    let record: ContainerRecord | undefined;
    try {
      record = await deps.refresh(await deps.containers.load(id));
    } catch (error) {
      if (error instanceof NotFoundError) record = undefined;
      else throw error;
    }
    if (!record) {
      // Removed meanwhile (--rm keeps its code for a while); a container that is gone before the
      // first look is unknown, as docker says.
      if (first) throw new NotFoundError(`no such container: ${id}`);
      return (await keptExitCode(deps.layout.root, id)) ?? lastCode;
    }
    lastCode = record.State.ExitCode;
    const run = runOf(record);
    if (first) firstRun = run;
    // A whole run began and ended between two looks.
    const anotherRun = !first && run !== firstRun;
    const running = live(record);
    if (condition === 'not-running') {
      // A run that ended, or one that never began (a created container, or a failed start).
      if (!running || anotherRun) return record.State.ExitCode;
    } else if (condition === 'next-exit') {
      if (running) {
        if (awaited === undefined) awaited = run;
        else if (run !== awaited) return record.State.ExitCode;
      } else if (awaited !== undefined || anotherRun) {
        return record.State.ExitCode;
      }
    }
    // Said once the container was seen: from here on its removal answers with its kept code, so
    // whoever waits for this line (a test) may end the container at once.
    if (first) trace('wait: waiting');
    first = false;
    if (options.signal?.aborted) throw new GantryError('wait was cancelled');
    if (running) await waitForExit(deps, record, 1000);
    else await sleep(200);
  }
}
