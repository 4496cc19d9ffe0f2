/**
 * Containers whose record (state.json) is lost or damaged. What is left of them is found from
 * what does not depend on the record: config.json (written at every start, with the record as it
 * was then in an annotation), the cgroup (its path is in config.json, or follows from the id),
 * and the monitor (the parent of the container's init, or the helper process whose working
 * directory is the container's). From these the record is rebuilt, and `rm -f` ends everything
 * that is there whatever the record says. A directory whose monitor or cgroup is alive is never
 * deleted for want of a record.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createCgroupManager, removeContainerCgroup } from '../cgroups/index.js';
import type { CgroupManager } from '../cgroups/types.js';
import { CorruptStateError, GantryError, hasCode, NotFoundError } from '../errors.js';
import { readRegularFile } from '../fsutil.js';
import type { OciSpec } from '../spec/types.js';
import { containerFile, FILES, readExitStatus, type EngineCore } from './core.js';
import {
  identify,
  isAlive,
  processState,
  signalCgroupProcesses,
  signalIdentity,
} from './process-identity.js';
import type { ContainerRecord, ProcessIdentity } from './record.js';

/** config.json's annotation holding the record as it was when the container last started. */
export const RECORD_ANNOTATION = 'org.gantry.container.record';

/** The record without what changes while it runs: what config.json keeps for a rebuild. */
export function recordAnnotation(record: ContainerRecord): string {
  const { State: _state, InitProcess: _init, Monitor: _monitor, PausedBy: _paused, ...kept } = record;
  return JSON.stringify(kept);
}

/** What is left of a container, found without its record. */
export interface Remains {
  id: string;
  /** The record as it was at the last start, when config.json holds it. */
  startedRecord?: ContainerRecord;
  /** Why config.json could not be used, when it could not. */
  specProblem?: string;
  cgroup: CgroupManager;
  /** The container's init (pid 1 of its namespace), if it is alive. */
  init?: ProcessIdentity;
  /** Its monitor, if it is alive. */
  monitor?: ProcessIdentity;
}

function parentPid(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return Number.isInteger(ppid) ? ppid : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `pid` is pid 1 of its own pid namespace (the last NSpid field). */
function isNamespaceInit(pid: number): boolean {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const ids = /^NSpid:\s*(.*)$/m.exec(status)?.[1]?.trim().split(/\s+/) ?? [];
    return ids.length > 1 && ids.at(-1) === '1';
  } catch {
    return false;
  }
}

function workingDirectory(pid: number): string | undefined {
  try {
    return fs.readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return undefined;
  }
}

/**
 * The monitor of the container in `directory`: the native helper whose working directory it is
 * (the monitor works relative to the container's directory). Used when the container's init is
 * gone (a zombie its stopped monitor has not reaped is in no cgroup).
 */
function findMonitorByDirectory(directory: string): ProcessIdentity | undefined {
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === process.pid || workingDirectory(pid) !== directory) continue;
    let executable: string;
    try {
      executable = fs.readlinkSync(`/proc/${pid}/exe`);
    } catch {
      continue;
    }
    if (path.basename(executable) !== 'gantry-init') continue;
    const identity = identify(pid);
    if (identity) return identity;
  }
  return undefined;
}

async function readStartedRecord(
  core: EngineCore,
  id: string,
): Promise<{ record?: ContainerRecord; problem?: string }> {
  const file = containerFile(core, id, FILES.spec);
  let spec: OciSpec;
  try {
    spec = JSON.parse(await readRegularFile(file)) as OciSpec;
  } catch (error) {
    if (hasCode(error, 'ENOENT')) return { problem: 'it was never started (there is no config.json)' };
    return { problem: `its config.json is damaged too (${(error as Error).message})` };
  }
  const text = spec.annotations?.[RECORD_ANNOTATION];
  if (!text) return { problem: 'its config.json does not hold its record (started by an older gantry)' };
  try {
    const record = JSON.parse(text) as ContainerRecord;
    if (record.Id !== id || typeof record.Name !== 'string' || !record.Config || !record.HostConfig)
      throw new Error('fields are missing');
    return { record };
  } catch (error) {
    return { problem: `the record in its config.json is damaged (${(error as Error).message})` };
  }
}

/** Finds what is left of container `id`; `known` is a readable record, if there is one. */
export async function examineRemains(
  core: EngineCore,
  id: string,
  known?: ContainerRecord,
): Promise<Remains> {
  const started = known ? {} : await readStartedRecord(core, id);
  const record = known ?? started.record;
  const cgroup = createCgroupManager({
    cgroupRoot: core.options.cgroupRoot,
    parent: record?.HostConfig.CgroupParent || core.options.cgroupParent,
    name: id,
  });
  const remains: Remains = { id, cgroup };
  if (started.record) remains.startedRecord = started.record;
  if (started.problem) remains.specProblem = started.problem;
  const directory = core.containers.dir(id);
  for (const pid of await cgroup.pids().catch(() => [] as number[])) {
    if (!isNamespaceInit(pid)) continue;
    const init = identify(pid);
    if (!init) continue;
    remains.init = init;
    const monitorPid = parentPid(pid);
    if (monitorPid && workingDirectory(monitorPid) === directory) {
      const monitor = identify(monitorPid);
      if (monitor) remains.monitor = monitor;
    }
    break;
  }
  if (!remains.monitor) {
    const monitor =
      known?.Monitor && isAlive(known.Monitor) ? known.Monitor : findMonitorByDirectory(directory);
    if (monitor) remains.monitor = monitor;
  }
  return remains;
}

/**
 * Rebuilds the record of a container whose state.json is missing, from its config.json and what
 * runs. Throws CorruptStateError when there is nothing to rebuild it from; the directory is kept.
 * The new state.json is linked in place without replacing anything: a record someone else wrote
 * meanwhile wins.
 */
export async function rebuildRecord(core: EngineCore, id: string): Promise<ContainerRecord> {
  const remains = await examineRemains(core, id);
  const started = remains.startedRecord;
  const file = containerFile(core, id, FILES.state);
  if (!started) {
    const running = remains.monitor !== undefined || (await remains.cgroup.pids().catch(() => [])).length > 0;
    throw new CorruptStateError(
      `the state of container ${id.slice(0, 12)} is missing (${file}) and cannot be rebuilt: ${remains.specProblem ?? 'unknown'}${running ? '; its processes are still running' : ''}`,
      { hint: `\`gantry rm -f ${id.slice(0, 12)}\` ends whatever of it still runs and removes it` },
    );
  }
  const specFile = containerFile(core, id, FILES.spec);
  const startedAt = (await fsp.stat(specFile).catch(() => undefined))?.mtime.toISOString() ?? started.Created;
  const record: ContainerRecord = {
    ...started,
    State: {
      Status: 'running',
      Pid: remains.init?.pid ?? 0,
      ExitCode: 0,
      OOMKilled: false,
      Error: '',
      StartedAt: startedAt,
      FinishedAt: '0001-01-01T00:00:00Z',
    },
  };
  if (remains.init) record.InitProcess = remains.init;
  if (remains.monitor) {
    record.Monitor = remains.monitor;
    if ((await remains.cgroup.freezerState().catch(() => 'thawed')) !== 'thawed')
      record.State.Status = 'paused';
  } else if (!(await readExitStatus(core, id)) && !remains.init) {
    // Nothing runs and no exit status was left: the run ended before the record was lost, and
    // its status went with it.
    record.State.Status = 'exited';
    record.State.ExitCode = 255;
    record.State.FinishedAt = startedAt;
    record.State.Error =
      'the record (state.json) was lost and rebuilt from config.json; the exit status is unknown';
  }
  // A run whose monitor left an exit status (or died) stays "running" here: the next refresh
  // records its end from exit.json as for any other container.
  const temporary = `${file}.rebuilt.${process.pid}`;
  await fsp.writeFile(temporary, `${JSON.stringify(record, null, 2)}\n`, { flag: 'wx' });
  try {
    await fsp.link(temporary, file);
  } catch (error) {
    if (!hasCode(error, 'EEXIST')) throw error;
  } finally {
    await fsp.rm(temporary, { force: true });
  }
  return record;
}

/** The names (names/NAME links) that point at container `id`. */
export async function namesOf(core: EngineCore, id: string): Promise<string[]> {
  const found: string[] = [];
  let names: string[];
  try {
    names = await fsp.readdir(core.layout.names);
  } catch (error) {
    if (hasCode(error, 'ENOENT')) return [];
    throw error;
  }
  for (const name of names) {
    const target = await fsp.readlink(path.join(core.layout.names, name)).catch(() => '');
    if (path.basename(target) === id) found.push(name);
  }
  return found;
}

/**
 * Ends everything of a container that the cgroup and the monitor say is there: thawed, every
 * process of its cgroup and its monitor killed (SIGKILL reaches a stopped monitor too), the
 * cgroup removed, its network released, its names released. Its directory is the caller's to
 * remove.
 */
export async function endRemains(core: EngineCore, remains: Remains): Promise<void> {
  await remains.cgroup.thaw().catch(() => undefined);
  if (remains.monitor) signalIdentity(remains.monitor, 9);
  await signalCgroupProcesses(remains.cgroup, 9);
  for (let attempt = 0; attempt < 100 && remains.monitor && isAlive(remains.monitor); attempt += 1)
    await sleep(20);
  await signalCgroupProcesses(remains.cgroup, 9);
  await removeContainerCgroup(remains.cgroup);
  // Its address and ports, whatever network the lost record said (release knows the id or not).
  await (await core.network()).release(remains.id);
  for (const name of await namesOf(core, remains.id)) await core.containers.releaseName(name, remains.id);
}

/** Whether a monitor is stopped (SIGSTOP, or a debugger): it records nothing until resumed. */
export function isStopped(identity: ProcessIdentity | undefined): boolean {
  if (!identity || !isAlive(identity)) return false;
  const state = processState(identity.pid);
  return state === 'T' || state === 't';
}

/** NotFoundError for a container whose creation is still under way in another process. */
export function beingCreated(id: string): NotFoundError {
  return new NotFoundError(`no such container: ${id} (it is being created)`);
}

/** A stop cannot finish: the monitor will not record the end (it is stopped). */
export function endWillNotBeRecorded(record: ContainerRecord): boolean {
  return isStopped(record.Monitor) && !isAlive(record.InitProcess);
}

/** Why a container did not stop, named as it is: a stopped monitor, a process in state D... */
export function notStoppedError(record: ContainerRecord): GantryError {
  const monitor = record.Monitor;
  if (monitor && isStopped(monitor)) {
    const ended = !isAlive(record.InitProcess)
      ? ': its process has ended, but the monitor cannot reap it or record the end'
      : '';
    return new GantryError(
      `container ${record.Name} did not stop: its monitor (pid ${monitor.pid}) is stopped (SIGSTOP or a debugger)${ended}`,
      {
        hint: `resume the monitor with \`kill -CONT ${monitor.pid}\`, or end everything with \`gantry rm -f ${record.Name}\``,
      },
    );
  }
  const init = record.InitProcess;
  const state = init && isAlive(init) ? processState(init.pid) : undefined;
  if (init && state === 'D') {
    return new GantryError(
      `container ${record.Name} did not stop, even after SIGKILL: its process (pid ${init.pid}) is stuck in the kernel (state D)`,
      { hint: `see /proc/${init.pid}/stack for where it waits` },
    );
  }
  return new GantryError(
    `container ${record.Name} did not stop, even after SIGKILL${init && state ? `: its process (pid ${init.pid}) is in state ${state}` : ''}`,
    {
      hint: monitor
        ? `its monitor (pid ${monitor.pid}) has not recorded the end; \`gantry rm -f ${record.Name}\` ends everything`
        : `\`gantry rm -f ${record.Name}\` ends everything`,
    },
  );
}
