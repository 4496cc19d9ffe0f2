/**
 * Reconciliation: brings a container's record up to date with what its monitor left (an exit
 * status, or a monitor that is gone), undoes starts and pauses whose gantry process was killed,
 * and removes what a stopped container leaves. Every listing and every operation goes through
 * here first, so a killed CLI or monitor never leaves a container wedged.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { ConflictError, isDiskFull, nameFullDisk, NotFoundError, type GantryError } from '../errors.js';
import type { FileLock } from '../fsutil.js';
import { decodeField } from '../init/helper.js';
import { trace } from '../trace.js';
import { removeAnonymousVolumes } from '../volumes/attach.js';
import { containerFile, FILES, readExitStatus, waitForExit, type EngineCore } from './core.js';
import { keepExitCode } from './exit-codes.js';
import { removeContainerCgroup } from '../cgroups/remove.js';
import { releaseNetworking } from './networking.js';
import { isAlive, signalCgroupProcesses, signalIdentity } from './process-identity.js';
import type { ContainerRecord } from './record.js';
import { runExecError } from './exec-failure.js';
import { releaseIdMappings } from './userns.js';
import { readRunFile, requestStop, withRuns } from './runs.js';

export class Reconciler {
  constructor(private readonly core: EngineCore) {}

  private lock(id: string, wait: boolean): Promise<FileLock | undefined> {
    return this.core.containers.lock(id, { wait });
  }

  /** Runs `action` with the container's lock, waiting up to a minute for it. */
  async withLock<T>(id: string, action: () => Promise<T>): Promise<T> {
    const lock = await this.core.containers.lock(id, { wait: true, timeoutMs: 60_000 });
    if (!lock)
      throw new ConflictError(`container ${id.slice(0, 12)} is busy: another gantry process holds its lock`);
    try {
      return await action();
    } finally {
      lock.release();
    }
  }

  /**
   * Brings a record up to date with what the monitor left: an exit status, or a monitor that is
   * gone. Returns undefined when the container was auto-removed. Never blocks on a lock: if
   * another process holds it, that process is changing the state and the record is returned as is.
   */
  async refresh(
    record: ContainerRecord,
    options: { waitForLock?: boolean } = {},
  ): Promise<ContainerRecord | undefined> {
    try {
      return await this.refreshFound(record, options);
    } catch (error) {
      // Removed meanwhile: its lock went with its directory.
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
  }

  private async refreshFound(
    record: ContainerRecord,
    options: { waitForLock?: boolean },
  ): Promise<ContainerRecord | undefined> {
    // The exec fifo only exists while a start is in progress; with the lock free it means the
    // process that was starting the container was killed.
    if (fs.existsSync(containerFile(this.core, record.Id, FILES.fifo))) {
      const recovered = await this.recoverInterruptedStart(record);
      if (recovered !== 'busy') return recovered;
    }
    if (record.State.Status !== 'running' && record.State.Status !== 'paused') {
      if (record.State.Status === 'removing') return this.finishRemoval(record);
      return record;
    }
    // Checked without reading: refresh runs for every container on every listing and sample.
    const exited = fs.existsSync(containerFile(this.core, record.Id, FILES.exit));
    if (!exited && record.PausedBy && !isAlive(record.PausedBy) && isAlive(record.Monitor))
      return this.thawAbandonedPause(record);
    if (!exited && isAlive(record.Monitor)) return withRuns(record, readRunFile(this.core, record.Id));
    const lock = await this.lock(record.Id, options.waitForLock === true);
    if (!lock) return record;
    try {
      const current = await this.core.containers.load(record.Id);
      if (current.State.Status !== 'running' && current.State.Status !== 'paused') return current;
      // A new run started while this process waited for the lock (a restart, or the monitor's
      // cleanup command racing with one): its monitor lives and has written no exit yet.
      if (!fs.existsSync(containerFile(this.core, record.Id, FILES.exit)) && isAlive(current.Monitor))
        return withRuns(current, readRunFile(this.core, current.Id));
      return await this.finalize(current);
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    } finally {
      lock.release();
    }
  }

  /**
   * The container's record with the end of a run already recorded (lock held): a monitor that
   * wrote its exit status, or died, is finalized first so no one acts on a stale "running".
   */
  async loadCurrent(id: string, reference: string): Promise<ContainerRecord> {
    let record = await this.core.containers.load(id);
    if (record.State.Status === 'running' || record.State.Status === 'paused') {
      const exit = await readExitStatus(this.core, id);
      if (exit || !isAlive(record.Monitor)) {
        const finalized = await this.finalize(record);
        if (!finalized)
          throw new NotFoundError(`no such container: ${reference} (it was removed when it stopped)`);
        record = finalized;
      } else {
        record = withRuns(record, readRunFile(this.core, id));
      }
    }
    if (record.State.Status === 'removing')
      throw new NotFoundError(`no such container: ${reference} (it is being removed)`);
    return record;
  }

  /**
   * Undoes a start whose process died between creating the container and releasing it: the
   * container's process still waits at the exec fifo (or the helper is still setting it up).
   * Everything it left is found through the cgroup, whose path follows from the id alone.
   */
  private async recoverInterruptedStart(
    record: ContainerRecord,
  ): Promise<ContainerRecord | undefined | 'busy'> {
    const lock = await this.lock(record.Id, false);
    if (!lock) return 'busy';
    try {
      let current: ContainerRecord;
      try {
        current = await this.core.containers.load(record.Id);
      } catch (error) {
        if (error instanceof NotFoundError) return undefined;
        throw error;
      }
      const fifo = containerFile(this.core, record.Id, FILES.fifo);
      if (!fs.existsSync(fifo)) return current;
      const cgroup = this.core.cgroup(current);
      // Before the signal, as rm -f does: a restart policy would have the monitor start the
      // process again, past the fifo and into the cgroup being removed (which then stays busy).
      await requestStop(this.core, current.Id);
      await signalCgroupProcesses(cgroup, 9);
      if (current.Monitor) await waitForExit(this.core, current, 5000);
      await fsp.rm(fifo, { force: true });
      const reason = 'the start was interrupted: the gantry process starting the container was killed';
      if (current.State.Status === 'running' || current.State.Status === 'paused') {
        const finalized = await this.finalize(current);
        if (finalized) {
          finalized.State.Error = reason;
          await this.core.containers.save(finalized);
        }
        return finalized;
      }
      await removeContainerCgroup(cgroup).catch(() => undefined);
      await releaseNetworking(this.core, current);
      current.State.Error = reason;
      await this.core.containers.save(current);
      return current;
    } finally {
      lock.release();
    }
  }

  /** Records the end of a run (lock held). Auto-removes when asked to. */
  async finalize(stored: ContainerRecord): Promise<ContainerRecord | undefined> {
    // The runs the monitor's restart policy made: the last one is the one that ended.
    const record = withRuns(stored, readRunFile(this.core, stored.Id));
    delete record.State.Restarting;
    const exit = await readExitStatus(this.core, record.Id);
    if (exit) {
      record.State.ExitCode = exit.exitCode;
      record.State.OOMKilled = exit.oomKilled;
      record.State.FinishedAt = exit.finishedAt;
      if (exit.execErrno) record.State.Error = runExecError(record, exit.execErrno).message;
      else if (exit.error) record.State.Error = decodeField(exit.error);
    } else {
      // The monitor died without writing a status (killed with -9): end what it left running
      // (thawed first: a frozen process does not die until it is).
      if (record.InitProcess && isAlive(record.InitProcess)) {
        signalIdentity(record.InitProcess, 9);
        await this.thawQuietly(record);
      }
      record.State.ExitCode = 137;
      record.State.Error = "the container's monitor process ended unexpectedly";
      record.State.FinishedAt = new Date().toISOString();
    }
    record.State.Status = 'exited';
    record.State.Pid = 0;
    delete record.InitProcess;
    delete record.Monitor;
    delete record.PausedBy;
    await this.releaseCgroup(record);
    trace('finalize: cgroup released');
    await releaseNetworking(this.core, record);
    trace('finalize: network released');
    await fsp.rm(containerFile(this.core, record.Id, FILES.fifo), { force: true });
    if (record.HostConfig.AutoRemove) {
      await this.destroy(record);
      return undefined;
    }
    try {
      await this.core.containers.save(record);
    } catch (error) {
      if (!isDiskFull(error)) throw error;
      // The end is known all the same (the monitor's exit record, or its absence), and every
      // reader works it out again from there until the record can be written: a stop or a run
      // on a full disk reports the container's status, and the bookkeeping failure apart.
      const full = nameFullDisk(error, this.core.containers.file(record.Id, FILES.state)) as GantryError;
      this.core.warn(
        `the end of container ${record.Name} could not be recorded: ${full.message}; it is recorded once there is space`,
        full.hint,
      );
      return record;
    }
    trace('finalize: saved');
    return record;
  }

  /**
   * Thaws the container's cgroup whatever its record says (a pause cut short leaves it frozen
   * with the record saying running); a cgroup that is not there has nothing to thaw.
   */
  async thawQuietly(record: ContainerRecord): Promise<void> {
    await this.core
      .cgroup(record)
      .thaw()
      .catch(() => undefined);
  }

  private async releaseCgroup(record: ContainerRecord): Promise<void> {
    const cgroup = this.core.cgroup(record);
    // Nothing of a container outlives it: a frozen cgroup (paused when its monitor died, or a
    // pause cut short) is thawed, and what is still in it is killed. The manager then retries the
    // removal briefly while they leave.
    await cgroup.thaw().catch(() => undefined);
    await signalCgroupProcesses(cgroup, 9);
    await removeContainerCgroup(cgroup);
  }

  /**
   * Removes everything of a stopped container (lock held); with `volumes` (rm -v, and --rm
   * always, as docker) its anonymous volumes too.
   */
  async destroy(record: ContainerRecord, options: { volumes?: boolean } = {}): Promise<void> {
    await keepExitCode(this.core.layout.root, record);
    record.State.Status = 'removing';
    await this.core.containers.save(record).catch(() => undefined);
    trace('destroy: marked removing');
    await this.releaseCgroup(record);
    trace('destroy: cgroup released');
    await releaseNetworking(this.core, record);
    trace('destroy: network released');
    // The name first: a create that reuses it at once (run --rm, wait, run) must not find it
    // held by a record that is already going.
    await this.core.containers.releaseName(record.Name, record.Id);
    trace('destroy: name released');
    await this.core.containers.removeDirectory(record.Id);
    trace('destroy: directory removed');
    // Left behind (a busy lock), the range is released by the next allocation: no directory.
    if (record.HostConfig.IDMappings)
      await releaseIdMappings(this.core, record.Id).catch((error: unknown) =>
        trace(`userns release: ${String(error)}`),
      );
    await fsp.rm(path.join(this.core.layout.root, 'locks', `${record.Id}.lock`), { force: true });
    if (options.volumes || record.HostConfig.AutoRemove) await removeAnonymousVolumes(this.core, record);
  }

  private async finishRemoval(record: ContainerRecord): Promise<undefined> {
    const lock = await this.lock(record.Id, false);
    if (lock) {
      try {
        await this.destroy(record);
      } finally {
        lock.release();
      }
    }
    return undefined;
  }

  /**
   * What a killed commit left: the container frozen, recorded as paused by the dead commit, or
   * still recorded as running when it died between freezing and saving. A pause the user made
   * (no PausedBy) stays.
   */
  async undoTemporaryPause(id: string): Promise<void> {
    await this.withLock(id, async () => {
      const current = await this.core.containers.load(id);
      if (current.State.Status === 'running') {
        await this.thawQuietly(current);
        return;
      }
      if (current.State.Status !== 'paused' || !current.PausedBy || isAlive(current.PausedBy)) return;
      await this.core.cgroup(current).thaw();
      current.State.Status = 'running';
      delete current.PausedBy;
      await this.core.containers.save(current);
    });
  }

  /** A temporary pause whose holder died (a commit killed while it read the layer): undone. */
  private async thawAbandonedPause(record: ContainerRecord): Promise<ContainerRecord> {
    const lock = await this.lock(record.Id, false);
    if (!lock) return record;
    try {
      const current = await this.core.containers.load(record.Id);
      if (current.State.Status !== 'paused' || !current.PausedBy || isAlive(current.PausedBy)) return current;
      try {
        await this.core.cgroup(current).thaw();
      } catch {
        return current; // the cgroup is not there to thaw: the container's end will be recorded
      }
      current.State.Status = 'running';
      delete current.PausedBy;
      await this.core.containers.save(current);
      return current;
    } finally {
      lock.release();
    }
  }
}
