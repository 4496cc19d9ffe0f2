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
import { CorruptStateError, hasCode, NotFoundError } from '../errors.js';
import { readJsonIfExists, readRegularFile, readRegularFileSync } from '../fsutil.js';
import type { NetworkManager } from '../network/manager.js';
import type { OciSpec } from '../spec/types.js';
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
  /** Tells the user something that does not stop the command (see EngineOptions.warn). */
  warn(message: string, hint?: string): void;
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

/**
 * The OCI spec the container was started with (config.json). A damaged one names the container
 * and the file, and says what writes it again.
 */
export async function readContainerSpec(core: EngineCore, record: ContainerRecord): Promise<OciSpec> {
  const file = containerFile(core, record.Id, FILES.spec);
  let text: string;
  try {
    text = await readRegularFile(file);
  } catch (error) {
    if (hasCode(error, 'ENOENT'))
      throw new NotFoundError(`container ${record.Name} has no spec (${file}): it was never started`);
    throw damagedSpecError(record, file, error);
  }
  return parseContainerSpec(record, file, text);
}

/** readContainerSpec for synchronous callers; undefined when the container was never started. */
export function readContainerSpecSync(core: EngineCore, record: ContainerRecord): OciSpec | undefined {
  const file = containerFile(core, record.Id, FILES.spec);
  let text: string;
  try {
    text = readRegularFileSync(file);
  } catch (error) {
    if (hasCode(error, 'ENOENT')) return undefined;
    throw damagedSpecError(record, file, error);
  }
  return parseContainerSpec(record, file, text);
}

function parseContainerSpec(record: ContainerRecord, file: string, text: string): OciSpec {
  try {
    const spec = JSON.parse(text) as OciSpec;
    if (typeof spec !== 'object' || spec === null || typeof spec.ociVersion !== 'string')
      throw new Error('it is not an OCI runtime spec');
    return spec;
  } catch (error) {
    throw damagedSpecError(record, file, error);
  }
}

function damagedSpecError(record: ContainerRecord, file: string, cause: unknown): CorruptStateError {
  return new CorruptStateError(
    `the spec of container ${record.Name} is damaged (${file}): ${(cause as Error).message}`,
    {
      cause,
      hint: `restart the container to write it again (\`gantry restart ${record.Name}\`), or remove it with \`gantry rm -f ${record.Name}\``,
    },
  );
}

/**
 * How long kill, stop and rm -f wait after SIGKILL for the monitor to record the end: it fsyncs
 * the exit record, which a busy disk can hold up for seconds.
 */
export const KILLED_EXIT_WAIT_MS = 30_000;

/** Waits until the container's current run has ended; returns false on timeout. */
export async function waitForExit(
  core: EngineCore,
  record: ContainerRecord,
  timeoutMs: number,
  /** Stops waiting early (returning false) once this says the end will never be recorded. */
  hopeless?: () => boolean,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  const exitFile = containerFile(core, record.Id, FILES.exit);
  for (let delay = 2; ; delay = Math.min(delay * 2, 50)) {
    if (fs.existsSync(exitFile) || !isAlive(record.Monitor)) return true;
    if (Date.now() >= deadline || hopeless?.()) return false;
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
