/**
 * What every part of the engine shares: the state layout, the record store, the container's
 * files and its cgroup. The Engine is the one implementation; the parts (reconcile, launch,
 * exec) take this narrow view of it so each can be read on its own.
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { CgroupManager } from '../cgroups/types.js';
import { readJsonIfExists } from '../fsutil.js';
import type { NetworkManager } from '../network/manager.js';
import type { EngineOptions, StateLayout } from '../paths.js';
import { EVENTS_FILE } from './events.js';
import { isAlive } from './process-identity.js';
import type { ContainerRecord } from './record.js';
import type { ContainerStore } from './store.js';

export interface EngineCore {
  readonly options: EngineOptions;
  readonly layout: StateLayout;
  readonly containers: ContainerStore;
  cgroup(record: ContainerRecord): CgroupManager;
  /** The network layer (loaded on first use). */
  network(): Promise<NetworkManager>;
}

/** The files of a container's directory that the engine and the monitor share. */
export const FILES = {
  state: 'state.json',
  spec: 'config.json',
  exit: 'exit.json',
  log: 'ctr.log',
  attach: 'attach.sock',
  fifo: 'exec.fifo',
  events: EVENTS_FILE,
} as const;

/** What the monitor writes when the container's init ends (native/monitor.c). */
export interface ExitStatus {
  exitCode: number;
  signal: number;
  oomKilled: boolean;
  finishedAt: string;
  execErrno: number;
  /** A setup failure after "created", percent-encoded. */
  error?: string;
}

export function containerFile(core: EngineCore, id: string, name: string): string {
  return core.containers.file(id, name);
}

/** The exit status the monitor left, or undefined (still running, or the monitor died). */
export function readExitStatus(core: EngineCore, id: string): Promise<ExitStatus | undefined> {
  return readJsonIfExists<ExitStatus>(containerFile(core, id, FILES.exit)).catch(() => undefined);
}

/** Waits until the container's current run has ended; returns false on timeout. */
export async function waitForExit(
  core: EngineCore,
  record: ContainerRecord,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  const exitFile = containerFile(core, record.Id, FILES.exit);
  for (let delay = 2; ; delay = Math.min(delay * 2, 50)) {
    if (fs.existsSync(exitFile) || !isAlive(record.Monitor)) return true;
    if (Date.now() >= deadline) return false;
    await sleep(Math.min(delay, Math.max(1, deadline - Date.now())));
  }
}

/** The checkout or package this module runs from (bin/gantry.js is there). */
export function packageRoot(): string {
  let directory = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(directory, 'package.json'))) {
    const parent = path.dirname(directory);
    if (parent === directory) break;
    directory = parent;
  }
  return directory;
}
