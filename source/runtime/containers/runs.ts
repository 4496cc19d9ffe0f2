/**
 * The runs of a container whose monitor restarts it (restart-policy.ts). The monitor says how
 * they go in the run file (native/restart.c): the current process, how many restarts, whether it
 * is waiting to start the next one. A reader lays that over the record (which keeps the start as
 * the engine made it) for as long as the monitor lives; the end is recorded as usual, with the
 * restart count. A stop marker in the container's directory tells the monitor not to restart.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { containerFile, type EngineCore } from './core.js';
import type { ContainerRecord } from './record.js';

/** What native/restart.c writes (write_run_file). */
export interface RunFile {
  restartCount: number;
  restarting: boolean;
  pid: number;
  startTime: number;
  startedAt: string;
  exitCode: number;
  finishedAt: string;
}

export const RUN_FILE = 'run.json';
/** Present: a stop (or kill, or removal) was asked for; the monitor restarts nothing then. */
export const STOP_FILE = 'stop-requested';

function isRunFile(value: unknown): value is RunFile {
  const run = value as Partial<RunFile> | null;
  return (
    typeof run === 'object' &&
    run !== null &&
    typeof run.restartCount === 'number' &&
    typeof run.restarting === 'boolean' &&
    typeof run.pid === 'number' &&
    typeof run.startedAt === 'string'
  );
}

/** The monitor's run file, or undefined (no restart yet, or unreadable: the record stands). */
export function readRunFile(core: EngineCore, id: string): RunFile | undefined {
  let text: string;
  try {
    text = fs.readFileSync(containerFile(core, id, RUN_FILE), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed: unknown = JSON.parse(text);
    return isRunFile(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** The record as it stands after the monitor's restarts (a copy; the stored one is unchanged). */
export function withRuns(record: ContainerRecord, run: RunFile | undefined): ContainerRecord {
  if (!run || (record.State.Status !== 'running' && record.State.Status !== 'paused')) return record;
  const current: ContainerRecord = { ...record, State: { ...record.State }, RestartCount: run.restartCount };
  if (run.restarting) {
    // docker's State while a restart waits out its delay: running, restarting, no process.
    current.State.Restarting = true;
    current.State.Pid = 0;
    current.State.ExitCode = run.exitCode;
    current.State.FinishedAt = run.finishedAt;
    delete current.InitProcess;
    return current;
  }
  current.State.Pid = run.pid;
  current.State.StartedAt = run.startedAt;
  current.State.ExitCode = 0;
  current.State.FinishedAt = run.finishedAt;
  current.InitProcess = { pid: run.pid, startTime: run.startTime };
  return current;
}

/** Tells the monitor a stop was asked for; written before any signal is sent. */
export async function requestStop(core: EngineCore, id: string): Promise<void> {
  await fsp.writeFile(containerFile(core, id, STOP_FILE), '').catch(() => undefined);
}

/** A new start by hand: no stop asked for, no runs yet. */
export async function clearRuns(core: EngineCore, id: string): Promise<void> {
  for (const name of [RUN_FILE, STOP_FILE]) await fsp.rm(containerFile(core, id, name), { force: true });
}
