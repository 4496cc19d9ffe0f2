/**
 * The container engine: create, start, stop, kill, remove, wait, exec, logs. Each operation
 * reads state from disk, takes the container's lock for changes, and reconciles what it finds
 * (a monitor that wrote an exit status, or one that died) before acting, so any number of CLI
 * and TUI processes can work on the same containers and a killed one leaves nothing wedged.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { createCgroupManager } from '../cgroups/index.js';
import type { CgroupManager, Resources, StatsOptions } from '../cgroups/types.js';
import { ConflictError, GantryError, InvalidArgumentError, NotFoundError } from '../errors.js';
import type { FileLock } from '../fsutil.js';
import { readJsonIfExists } from '../fsutil.js';
import { ImageStore } from '../images/store.js';
import type { ResolvedImage } from '../images/types.js';
import { releaseExecFifo } from '../init/exec-fifo.js';
import { execPlanFromSpec, planFromSpec } from '../init/from-spec.js';
import {
  attach,
  ContainerStartError,
  decodeField,
  execError,
  startExec,
  startMonitor,
  type AttachHandle,
  type ExecHandle,
} from '../init/helper.js';
import type { HelperPlan } from '../init/plan.js';
import { StateLayout, type EngineOptions } from '../paths.js';
import { parseSignal } from '../signals.js';
import type { OciSpec } from '../spec/types.js';
import { validateSpec } from '../spec/validate.js';
import { trace } from '../trace.js';
import { buildRecord, makeContainerDirectory, type CreateOptions } from './create.js';
import { writeEtcFiles } from './etc-files.js';
import { EVENTS_FILE, watchContainerEvents, type EngineEvent, type EventOptions } from './events.js';
import { readLayeredFile } from './layered-files.js';
import { readLogs, type LogEntry, type LogOptions } from './logs.js';
import { generateName } from './names.js';
import { identify, isAlive, signalCgroupProcesses, signalIdentity } from './process-identity.js';
import { ZERO_TIME, type ContainerRecord } from './record.js';
import { buildSpec } from './spec-builder.js';
import { StatsSampler, type ContainerStats } from './stats.js';
import { ContainerStore } from './store.js';
import { mergeResources } from './update.js';
import { resolveUser } from './user.js';

/** What the monitor writes when the container's init ends (native/monitor.c). */
interface ExitStatus {
  exitCode: number;
  signal: number;
  oomKilled: boolean;
  finishedAt: string;
  execErrno: number;
  /** A setup failure after "created", percent-encoded. */
  error?: string;
}

export interface StartOptions {
  /**
   * Attach the caller's stdio before the process starts (run without -d, start -a). With
   * `ownsCleanup` the caller promises to record the end (engine.get after the exit), so the
   * monitor does not start its cleanup process.
   */
  attach?: { stdin: boolean; tty: boolean; ownsCleanup?: boolean };
  consoleSize?: { rows: number; cols: number };
}

export interface ExecOptions {
  command: string[];
  env?: string[];
  workdir?: string;
  user?: string;
  tty?: boolean;
  interactive?: boolean;
  detach?: boolean;
  privileged?: boolean;
}

const FILES = {
  state: 'state.json',
  spec: 'config.json',
  exit: 'exit.json',
  log: 'ctr.log',
  attach: 'attach.sock',
  fifo: 'exec.fifo',
  events: EVENTS_FILE,
} as const;

function packageRoot(): string {
  let directory = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(directory, 'package.json'))) {
    const parent = path.dirname(directory);
    if (parent === directory) break;
    directory = parent;
  }
  return directory;
}

/** How long the exit code of a removed container is kept for `wait`. */
const EXIT_CODE_TTL_MS = 5 * 60 * 1000;

export class Engine {
  readonly layout: StateLayout;
  readonly containers: ContainerStore;
  private imageStore: ImageStore | undefined;
  private readonly sampler = new StatsSampler();

  constructor(readonly options: EngineOptions) {
    this.layout = new StateLayout(options.root);
    this.containers = new ContainerStore(this.layout);
  }

  get images(): ImageStore {
    this.imageStore ??= new ImageStore(this.layout, {
      imageUsers: async (imageId) =>
        (await this.containers.list()).records
          .filter((r) => r.Image === imageId)
          .map((r) => r.Name.replace(/^\//, '')),
    });
    return this.imageStore;
  }

  cgroup(record: ContainerRecord): CgroupManager {
    return createCgroupManager({
      cgroupRoot: this.options.cgroupRoot,
      parent: record.HostConfig.CgroupParent || this.options.cgroupParent,
      name: record.Id,
    });
  }

  private file(id: string, name: string): string {
    return this.containers.file(id, name);
  }

  private lock(id: string, wait = true): Promise<FileLock | undefined> {
    return this.containers.lock(id, { wait });
  }

  private async withLock<T>(id: string, action: () => Promise<T>): Promise<T> {
    const lock = await this.containers.lock(id, { wait: true, timeoutMs: 60_000 });
    if (!lock)
      throw new ConflictError(`container ${id.slice(0, 12)} is busy: another gantry process holds its lock`);
    try {
      return await action();
    } finally {
      lock.release();
    }
  }

  // ---------------------------------------------------------------- reading and reconciling

  /** All containers (running only unless `all`), reconciled; damaged records are skipped. */
  async list(options: { all?: boolean } = {}): Promise<{
    records: ContainerRecord[];
    /** Records that cannot be read: left out. */
    damaged: { id: string; error: Error }[];
    /** Containers whose end could not be recorded yet: listed as they were. */
    unsettled?: { id: string; error: Error }[];
  }> {
    const { records, damaged, incomplete } = await this.containers.list();
    for (const id of incomplete) await this.containers.sweepIncomplete(id).catch(() => false);
    const refreshed: ContainerRecord[] = [];
    const unsettled: { id: string; error: Error }[] = [];
    for (const record of records) {
      let current: ContainerRecord | undefined;
      try {
        current = await this.refresh(record);
      } catch (error) {
        // One container whose end cannot be recorded yet (its cgroup will not go) is reported,
        // and listed as it was; it never hides the others.
        unsettled.push({ id: record.Id, error: error as Error });
        current = record;
      }
      if (current && (options.all || current.State.Status === 'running' || current.State.Status === 'paused'))
        refreshed.push(current);
    }
    refreshed.sort((a, b) => b.Created.localeCompare(a.Created));
    return { records: refreshed, damaged, unsettled };
  }

  async get(reference: string): Promise<ContainerRecord> {
    const id = await this.containers.resolveId(reference);
    const record = await this.refresh(await this.containers.load(id));
    if (!record) throw new NotFoundError(`no such container: ${reference}`);
    return record;
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
    // The exec fifo only exists while a start is in progress; with the lock free it means the
    // process that was starting the container was killed.
    if (fs.existsSync(this.file(record.Id, FILES.fifo))) {
      const recovered = await this.recoverInterruptedStart(record);
      if (recovered !== 'busy') return recovered;
    }
    if (record.State.Status !== 'running' && record.State.Status !== 'paused') {
      if (record.State.Status === 'removing') return this.finishRemoval(record);
      return record;
    }
    // Checked without reading: refresh runs for every container on every listing and sample.
    const exited = fs.existsSync(this.file(record.Id, FILES.exit));
    if (!exited && record.PausedBy && !isAlive(record.PausedBy) && isAlive(record.Monitor))
      return this.thawAbandonedPause(record);
    if (!exited && isAlive(record.Monitor)) return record;
    const lock = await this.lock(record.Id, options.waitForLock === true);
    if (!lock) return record;
    try {
      const current = await this.containers.load(record.Id);
      if (current.State.Status !== 'running' && current.State.Status !== 'paused') return current;
      return await this.finalize(current);
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    } finally {
      lock.release();
    }
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
        current = await this.containers.load(record.Id);
      } catch (error) {
        if (error instanceof NotFoundError) return undefined;
        throw error;
      }
      const fifo = this.file(record.Id, FILES.fifo);
      if (!fs.existsSync(fifo)) return current;
      const cgroup = this.cgroup(current);
      await signalCgroupProcesses(cgroup, 9);
      if (current.Monitor) await this.waitForExit(current, 5000);
      await fsp.rm(fifo, { force: true });
      const wasRunning = current.State.Status === 'running' || current.State.Status === 'paused';
      if (wasRunning) {
        const finalized = await this.finalize(current);
        if (finalized) {
          finalized.State.Error =
            'the start was interrupted: the gantry process starting the container was killed';
          await this.containers.save(finalized);
        }
        return finalized;
      }
      await cgroup.destroy().catch(() => undefined);
      current.State.Error = 'the start was interrupted: the gantry process starting the container was killed';
      await this.containers.save(current);
      return current;
    } finally {
      lock.release();
    }
  }

  /** Records the end of a run (lock held). Auto-removes when asked to. */
  private async finalize(record: ContainerRecord): Promise<ContainerRecord | undefined> {
    const exit = await readJsonIfExists<ExitStatus>(this.file(record.Id, FILES.exit)).catch(() => undefined);
    if (exit) {
      record.State.ExitCode = exit.exitCode;
      record.State.OOMKilled = exit.oomKilled;
      record.State.FinishedAt = exit.finishedAt;
      if (exit.execErrno)
        record.State.Error = execError(
          exit.execErrno,
          record.Config.Entrypoint[0] ?? record.Config.Cmd[0] ?? '',
        ).message;
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
    await fsp.rm(this.file(record.Id, FILES.fifo), { force: true });
    if (record.HostConfig.AutoRemove) {
      await this.destroy(record);
      return undefined;
    }
    await this.containers.save(record);
    trace('finalize: saved');
    return record;
  }

  /**
   * Thaws the container's cgroup whatever its record says (a pause cut short leaves it frozen
   * with the record saying running); a cgroup that is not there has nothing to thaw.
   */
  private async thawQuietly(record: ContainerRecord): Promise<void> {
    await this.cgroup(record)
      .thaw()
      .catch(() => undefined);
  }

  private async releaseCgroup(record: ContainerRecord): Promise<void> {
    const cgroup = this.cgroup(record);
    // Nothing of a container outlives it: a frozen cgroup (paused when its monitor died, or a
    // pause cut short) is thawed, and what is still in it is killed. The manager then retries the
    // removal briefly while they leave.
    await cgroup.thaw().catch(() => undefined);
    await signalCgroupProcesses(cgroup, 9);
    await cgroup.destroy();
  }

  /**
   * Exit codes outlive their containers for a while, as in podman's exit code cache: `wait` on an
   * --rm container that ends meanwhile still answers with its code, not 0.
   */
  private exitCodeFile(id: string): string {
    return path.join(this.layout.root, 'exit-codes', id);
  }

  private async keepExitCode(record: ContainerRecord): Promise<void> {
    // Only --rm containers go without being asked to; `wait` on a removed one is an error.
    if (!record.HostConfig.AutoRemove || record.State.FinishedAt === ZERO_TIME) return;
    const directory = path.dirname(this.exitCodeFile(record.Id));
    try {
      await fsp.mkdir(directory, { recursive: true });
      await fsp.writeFile(this.exitCodeFile(record.Id), `${record.State.ExitCode}\n`);
      // Old entries go at most once a minute, so a busy host does not list the cache every time.
      const now = Date.now();
      const marker = path.join(directory, '.pruned');
      const pruned = await fsp.stat(marker).catch(() => undefined);
      if (pruned && now - pruned.mtimeMs < 60_000) return;
      await fsp.writeFile(marker, '');
      for (const name of await fsp.readdir(directory)) {
        if (name === '.pruned') continue;
        const file = path.join(directory, name);
        const stats = await fsp.stat(file).catch(() => undefined);
        if (stats && now - stats.mtimeMs > EXIT_CODE_TTL_MS) await fsp.rm(file, { force: true });
      }
    } catch {
      // A cache: losing an entry only makes a late `wait` answer 0.
    }
  }

  private async keptExitCode(id: string): Promise<number | undefined> {
    const text = await fsp.readFile(this.exitCodeFile(id), 'utf8').catch(() => undefined);
    const code = text === undefined ? NaN : Number.parseInt(text, 10);
    return Number.isInteger(code) ? code : undefined;
  }

  /** Removes everything of a stopped container (lock held). */
  private async destroy(record: ContainerRecord): Promise<void> {
    await this.keepExitCode(record);
    record.State.Status = 'removing';
    await this.containers.save(record).catch(() => undefined);
    await this.releaseCgroup(record);
    // The name first: a create that reuses it at once (run --rm, wait, run) must not find it
    // held by a record that is already going.
    await this.containers.releaseName(record.Name, record.Id);
    await this.containers.removeDirectory(record.Id);
    trace('destroy: directory removed');
    await fsp.rm(path.join(this.layout.root, 'locks', `${record.Id}.lock`), { force: true });
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

  // ---------------------------------------------------------------- lifecycle

  async create(options: CreateOptions): Promise<ContainerRecord> {
    // Under the store's shared lock from resolving the image to saving the record, so an
    // `image rm` (exclusive) either sees the new container or finishes before it resolves.
    return this.images.withSharedLock(async () => {
      const image = await this.images.resolveForRun(options.image);
      trace('create: image resolved');
      return this.createFrom(options, image);
    });
  }

  /**
   * create() on an image the caller resolved: a build step runs on a stack of layers that is
   * not an image yet (its new layers are still in the build's work directory).
   */
  async createFrom(options: CreateOptions, image: ResolvedImage): Promise<ContainerRecord> {
    const record = buildRecord(options, image, { cgroupParent: this.options.cgroupParent });
    // Resolve the user now so a bad -u fails at create, as docker does at start.
    this.resolveRecordUser(record);
    trace('create: record built, user resolved');
    // A limit this host cannot enforce (a missing controller, --memory-high on v1) is refused
    // now, before anything exists, rather than when the container starts.
    await this.cgroup(record).checkSupport(record.HostConfig.Resources);
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.containers.reserveName(record.Name, record.Id);
        break;
      } catch (error) {
        // A generated name can be taken already (a few hundred containers make that likely):
        // pick another, then add a digit, as docker's generator does on a retry.
        if (options.name !== undefined || !(error instanceof ConflictError) || attempt >= 20) throw error;
        record.Name = attempt < 5 ? generateName() : `${generateName()}${attempt}`;
      }
    }
    trace('create: name reserved');
    try {
      await makeContainerDirectory(this.containers.dir(record.Id));
      await this.containers.save(record);
      trace('create: saved');
    } catch (error) {
      await this.containers.removeDirectory(record.Id).catch(() => undefined);
      await this.containers.releaseName(record.Name, record.Id);
      throw error;
    }
    return record;
  }

  private layerStack(record: ContainerRecord): string[] {
    return [path.join(this.containers.dir(record.Id), 'upper'), ...[...record.LayerDirs].reverse()];
  }

  private resolveRecordUser(record: ContainerRecord) {
    const layers = this.layerStack(record);
    return resolveUser(
      record.Config.User,
      readLayeredFile(layers, '/etc/passwd'),
      readLayeredFile(layers, '/etc/group'),
    );
  }

  private overlayData(record: ContainerRecord): { data: string; cwd: string } {
    const dir = this.containers.dir(record.Id);
    const cwd = this.layout.layers;
    // Relative lowerdirs keep the mount data under a page for deep images.
    const lower = [...record.LayerDirs]
      .reverse()
      .map((layer) => (layer.startsWith(`${cwd}/`) ? path.relative(cwd, layer) : layer));
    let data = `lowerdir=${lower.join(':')},upperdir=${dir}/upper,workdir=${dir}/work`;
    if (fs.existsSync('/sys/module/overlay/parameters/index')) data += ',index=off';
    if (data.length > 4000) {
      throw new GantryError(`the image has too many layers (${lower.length}) for one overlay mount`);
    }
    return { data, cwd };
  }

  exitCommand(record: ContainerRecord): string[] {
    return [
      process.execPath,
      path.join(packageRoot(), 'bin', 'gantry.js'),
      '--root',
      this.layout.root,
      '--cgroup-parent',
      this.options.cgroupParent,
      'container',
      'cleanup',
      record.Id,
    ];
  }

  async start(
    reference: string,
    options: StartOptions = {},
  ): Promise<{ record: ContainerRecord; attached?: AttachHandle }> {
    const id = await this.containers.resolveId(reference);
    const lock = await this.containers.lock(id, { wait: true, timeoutMs: 60_000 });
    if (!lock)
      throw new ConflictError(`container ${id.slice(0, 12)} is busy: another gantry process holds its lock`);
    let record: ContainerRecord;
    try {
      record = await this.containers.load(id);
      if (record.State.Status === 'running' || record.State.Status === 'paused') {
        const exit = await readJsonIfExists<ExitStatus>(this.file(id, FILES.exit)).catch(() => undefined);
        if (!exit && isAlive(record.Monitor)) {
          if (options.attach)
            throw new ConflictError(`container ${record.Name} is already running; use \`gantry attach\``);
          return { record };
        }
        const finalized = await this.finalize(record);
        if (!finalized)
          throw new NotFoundError(`no such container: ${reference} (it was removed when it stopped)`);
        record = finalized;
      }
      if (record.State.Status === 'removing')
        throw new NotFoundError(`no such container: ${reference} (it is being removed)`);
      await this.launch(record, options);
      // The lock is held until the process is released from the exec fifo: a start that is
      // killed half-way is then recognisable (fifo present, lock free) and refresh() undoes it.
      let attached: AttachHandle | undefined;
      try {
        if (options.attach) attached = await attach(this.containers.dir(id), FILES.attach, options.attach);
        trace('start: attached');
      } finally {
        await this.releaseExecFifo(record);
        trace('start: released');
      }
      return attached ? { record, attached } : { record };
    } finally {
      lock.release();
    }
  }

  /** Sets everything up and starts the monitor; the process waits at the exec fifo (lock held). */
  private async launch(record: ContainerRecord, options: StartOptions): Promise<void> {
    const dir = this.containers.dir(record.Id);
    for (const name of [FILES.exit, FILES.fifo, FILES.attach])
      await fsp.rm(path.join(dir, name), { force: true });
    const user = this.resolveRecordUser(record);
    const etcFiles = await writeEtcFiles(
      dir,
      record.Config.Hostname || 'localhost',
      record.HostConfig.NetworkMode,
    );
    trace('launch: etc files');
    const spec: OciSpec = buildSpec({
      record,
      rootfs: path.join(dir, 'merged'),
      user,
      etcFiles,
      ...(options.consoleSize ? { consoleSize: options.consoleSize } : {}),
    });
    validateSpec(spec, { bundle: dir, source: `container ${record.Name}` });
    await fsp.writeFile(path.join(dir, FILES.spec), `${JSON.stringify(spec, null, 2)}\n`);
    trace('launch: spec written');
    const cgroup = this.cgroup(record);
    if (await cgroup.exists()) await cgroup.destroy();
    await cgroup.create(record.HostConfig.Resources);
    trace('launch: cgroup created');
    const plan: HelperPlan = planFromSpec(spec, {
      bundle: dir,
      stateDir: dir,
      cgroup,
      rootOverlay: this.overlayData(record),
      monitor: {
        logPath: FILES.log,
        attachPath: FILES.attach,
        fifoPath: FILES.fifo,
        exitFile: FILES.exit,
        eventsFile: FILES.events,
        exitCommand: this.exitCommand(record),
        openStdin: record.Config.OpenStdin,
        stdinOnce: record.Config.StdinOnce,
      },
    });
    // docker creates a missing working directory.
    if (record.Config.WorkingDir) plan.mkdirs.push({ path: record.Config.WorkingDir, mode: 0o755 });
    try {
      const handle = await startMonitor(plan, { detached: true });
      trace('launch: monitor created');
      record.InitProcess = identify(handle.containerPid) ?? { pid: handle.containerPid, startTime: 0 };
      record.Monitor = identify(handle.monitorPid) ?? { pid: handle.monitorPid, startTime: 0 };
      record.State = {
        ...record.State,
        Status: 'running',
        Pid: handle.containerPid,
        ExitCode: 0,
        OOMKilled: false,
        Error: '',
        StartedAt: new Date().toISOString(),
        FinishedAt: ZERO_TIME,
      };
      await this.containers.save(record);
      trace('launch: saved');
    } catch (error) {
      await cgroup.destroy().catch(() => undefined);
      // The helper made the fifo; a failed setup must not look like an interrupted start.
      await fsp.rm(path.join(dir, FILES.fifo), { force: true });
      record.State.Error = (error as Error).message;
      if (error instanceof GantryError && error.exitCode !== 125) record.State.ExitCode = error.exitCode;
      await this.containers.save(record);
      throw error;
    }
  }

  /** Lets the created process go on to exec. */
  private async releaseExecFifo(record: ContainerRecord): Promise<void> {
    await releaseExecFifo(this.file(record.Id, FILES.fifo), record.InitProcess);
  }

  async kill(reference: string, signal: string | number = 'SIGKILL'): Promise<ContainerRecord> {
    const number = parseSignal(signal);
    const record = await this.get(reference);
    if (record.State.Status !== 'running' && record.State.Status !== 'paused') {
      throw new ConflictError(`cannot kill container ${record.Name}: container is not running`);
    }
    // SIGKILL reaches a frozen process only once thawed; the freezer is asked whatever the
    // record says (a pause cut short leaves it frozen with the record saying running).
    if (number === 9) await this.thawQuietly(record);
    if (!record.InitProcess || !signalIdentity(record.InitProcess, number)) {
      return (await this.refresh(record)) ?? record;
    }
    return record;
  }

  /** Waits until the container's current run has ended; returns false on timeout. */
  private async waitForExit(record: ContainerRecord, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    const exitFile = this.file(record.Id, FILES.exit);
    for (let delay = 2; ; delay = Math.min(delay * 2, 50)) {
      if (fs.existsSync(exitFile) || !isAlive(record.Monitor)) return true;
      if (Date.now() >= deadline) return false;
      await sleep(Math.min(delay, Math.max(1, deadline - Date.now())));
    }
  }

  async stop(reference: string, timeoutSeconds?: number): Promise<ContainerRecord> {
    const record = await this.get(reference);
    if (record.State.Status !== 'running' && record.State.Status !== 'paused') return record;
    const timeout = timeoutSeconds ?? record.Config.StopTimeout ?? 10;
    let ended = true;
    if (record.InitProcess) {
      signalIdentity(record.InitProcess, parseSignal(record.Config.StopSignal || 'SIGTERM'));
      // A paused container (or one whose pause was cut short) gets the signal once thawed.
      await this.thawQuietly(record);
      if (!(await this.waitForExit(record, timeout * 1000))) {
        signalIdentity(record.InitProcess, 9);
        ended = await this.waitForExit(record, 10_000);
      }
    }
    // Whether it ended is the monitor's to say (an exit status, or gone), not the record's: an
    // --rm container's record is gone by now, and another process may be recording the end.
    if (!ended) {
      throw new GantryError(`container ${record.Name} did not stop, even after SIGKILL`, {
        hint: 'its processes may be stuck in the kernel (state D); see /proc/PID/stack',
      });
    }
    return (await this.refresh(record, { waitForLock: true })) ?? record;
  }

  async restart(reference: string, timeoutSeconds?: number): Promise<ContainerRecord> {
    const stopped = await this.stop(reference, timeoutSeconds);
    const { record } = await this.start(stopped.Id);
    // RestartCount counts restarts by a restart policy, as docker's; a manual one is not one.
    return record;
  }

  async remove(reference: string, options: { force?: boolean } = {}): Promise<void> {
    const id = await this.containers.resolveId(reference);
    let record: ContainerRecord;
    try {
      record = await this.containers.load(id);
    } catch (error) {
      if (error instanceof NotFoundError) throw error;
      if (!options.force) throw error;
      // A damaged record: remove what we can find, its cgroup by id.
      await this.withLock(id, async () => {
        await createCgroupManager({
          cgroupRoot: this.options.cgroupRoot,
          parent: this.options.cgroupParent,
          name: id,
        })
          .destroy()
          .catch(() => undefined);
        await this.containers.removeDirectory(id);
      });
      return;
    }
    if (record.State.Status === 'running' || record.State.Status === 'paused') {
      const current = await this.refresh(record);
      if (!current) return;
      record = current;
    }
    if (record.State.Status === 'running' || record.State.Status === 'paused') {
      if (!options.force) {
        throw new ConflictError(
          `cannot remove container "${record.Name}": container is ${record.State.Status}: stop the container before removing or force remove (-f)`,
        );
      }
      await this.thawQuietly(record);
      if (record.InitProcess) signalIdentity(record.InitProcess, 9);
      await this.waitForExit(record, 10_000);
    }
    await this.withLock(id, async () => {
      const current = await this.containers.load(id).catch((error: unknown) => {
        if (error instanceof NotFoundError) return undefined;
        throw error;
      });
      if (!current) return;
      if (current.State.Status === 'running' || current.State.Status === 'paused') {
        const finalized = await this.finalize({
          ...current,
          HostConfig: { ...current.HostConfig, AutoRemove: false },
        });
        if (!finalized) return;
      }
      await this.destroy(current);
    });
  }

  /** Blocks until the container is not running; returns its exit code (docker wait). */
  async wait(reference: string, signal?: AbortSignal): Promise<number> {
    const id = await this.containers.resolveId(reference);
    for (;;) {
      let record: ContainerRecord | undefined;
      try {
        record = await this.refresh(await this.containers.load(id));
      } catch (error) {
        if (error instanceof NotFoundError) record = undefined;
        else throw error;
      }
      if (!record) {
        // Removed meanwhile (--rm): its code was kept for a while.
        return (await this.keptExitCode(id)) ?? 0;
      }
      if (record.State.Status === 'exited') return record.State.ExitCode;
      if (signal?.aborted) throw new GantryError('wait was cancelled');
      if (record.State.Status === 'running' || record.State.Status === 'paused') {
        await this.waitForExit(record, 1000);
      } else {
        await sleep(200);
      }
    }
  }

  /**
   * Internal: run by the monitor's exit command to record the end promptly. Unlike a listing it
   * waits for the lock, so an end that happens while a start still holds it is not skipped.
   */
  async cleanup(id: string): Promise<void> {
    try {
      await this.refresh(await this.containers.load(id), { waitForLock: true });
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
  }

  // ---------------------------------------------------------------- pause, update, stats, events

  /**
   * The container's record with the end of a run already recorded (lock held): a monitor that
   * wrote its exit status, or died, is finalized first so no one acts on a stale "running".
   */
  private async loadCurrent(id: string, reference: string): Promise<ContainerRecord> {
    let record = await this.containers.load(id);
    if (record.State.Status === 'running' || record.State.Status === 'paused') {
      const exit = await readJsonIfExists<ExitStatus>(this.file(id, FILES.exit)).catch(() => undefined);
      if (exit || !isAlive(record.Monitor)) {
        const finalized = await this.finalize(record);
        if (!finalized)
          throw new NotFoundError(`no such container: ${reference} (it was removed when it stopped)`);
        record = finalized;
      }
    }
    if (record.State.Status === 'removing')
      throw new NotFoundError(`no such container: ${reference} (it is being removed)`);
    return record;
  }

  /** Freezes every process of the container (cgroup freezer); they do not notice. */
  async pause(reference: string, options: { temporary?: boolean } = {}): Promise<ContainerRecord> {
    const id = await this.containers.resolveId(reference);
    return this.withLock(id, async () => {
      const record = await this.loadCurrent(id, reference);
      if (record.State.Status === 'paused')
        throw new ConflictError(`container ${record.Name} is already paused`);
      if (record.State.Status !== 'running')
        throw new ConflictError(`container ${record.Name} is not running`);
      const cgroup = this.cgroup(record);
      await cgroup.freeze();
      record.State.Status = 'paused';
      if (options.temporary) {
        const self = identify(process.pid);
        if (self) record.PausedBy = self;
      }
      try {
        await this.containers.save(record);
      } catch (error) {
        await cgroup.thaw().catch(() => undefined);
        throw error;
      }
      return record;
    });
  }

  /** A temporary pause whose holder died (a commit killed while it read the layer): undone. */
  private async thawAbandonedPause(record: ContainerRecord): Promise<ContainerRecord> {
    const lock = await this.lock(record.Id, false);
    if (!lock) return record;
    try {
      const current = await this.containers.load(record.Id);
      if (current.State.Status !== 'paused' || !current.PausedBy || isAlive(current.PausedBy)) return current;
      try {
        await this.cgroup(current).thaw();
      } catch {
        return current; // the cgroup is not there to thaw: the container's end will be recorded
      }
      current.State.Status = 'running';
      delete current.PausedBy;
      await this.containers.save(current);
      return current;
    } finally {
      lock.release();
    }
  }

  /** Thaws a paused container. */
  async unpause(reference: string): Promise<ContainerRecord> {
    const id = await this.containers.resolveId(reference);
    return this.withLock(id, async () => {
      const record = await this.loadCurrent(id, reference);
      if (record.State.Status !== 'paused') throw new ConflictError(`container ${record.Name} is not paused`);
      await this.cgroup(record).thaw();
      record.State.Status = 'running';
      delete record.PausedBy;
      await this.containers.save(record);
      return record;
    });
  }

  /**
   * Changes limits. A running or paused container gets them at once through its cgroup; the
   * record (HostConfig.Resources) is written only after the kernel took every value, so a refused
   * one (InvalidArgumentError) leaves the old limits in force and in the record. A created or
   * exited container keeps them for its next start. `resources` holds only what changes.
   */
  async update(reference: string, resources: Resources): Promise<ContainerRecord> {
    const id = await this.containers.resolveId(reference);
    return this.withLock(id, async () => {
      const record = await this.loadCurrent(id, reference);
      const merged = mergeResources(record.HostConfig.Resources, resources);
      const cgroup = this.cgroup(record);
      // The whole resulting set must make sense (e.g. memory <= memory+swap), not just the change.
      await cgroup.checkSupport(merged);
      if (record.State.Status === 'running' || record.State.Status === 'paused')
        await cgroup.update(resources);
      record.HostConfig.Resources = merged;
      await this.containers.save(record);
      return record;
    });
  }

  /**
   * One stats sample. CPU percentages compare with this engine's previous sample of the same
   * container, so the first call for a container leaves them undefined (it does not wait).
   * A container that is not running gives a sample with empty cgroup figures.
   */
  /** Usage figures of a container; `summary` reads only what a table row shows. */
  async stats(reference: string, options: StatsOptions = {}): Promise<ContainerStats> {
    // A full id (what the TUI and `gantry stats` pass every second) needs no lookup by name.
    const id = /^[0-9a-f]{64}$/.test(reference) ? reference : await this.containers.resolveId(reference);
    const record = await this.refresh(await this.containers.load(id));
    if (!record) throw new NotFoundError(`no such container: ${reference}`);
    return this.sampler.sample(record, this.cgroup(record), options);
  }

  /**
   * Container events as they happen (from now on), until `signal` aborts or the caller stops
   * iterating. Built on inotify of the state directory and the monitors' OOM notifications.
   */
  events(options: EventOptions = {}): AsyncIterable<EngineEvent> {
    return watchContainerEvents(
      {
        containersDir: this.layout.containers,
        load: (id) => this.containers.load(id),
        refresh: (record) => this.refresh(record),
      },
      options,
    );
  }

  // ---------------------------------------------------------------- exec and logs

  async exec(reference: string, options: ExecOptions): Promise<ExecHandle> {
    const record = await this.get(reference);
    if (record.State.Status === 'paused')
      throw new ConflictError(`container ${record.Name} is paused, unpause it first`);
    if (record.State.Status !== 'running' || !record.InitProcess) {
      throw new ConflictError(`container ${record.Name} is not running`);
    }
    if (options.command.length === 0) throw new GantryError('no command given to exec');
    if (options.workdir !== undefined && !options.workdir.startsWith('/')) {
      throw new InvalidArgumentError(
        `invalid working directory ${JSON.stringify(options.workdir)}: it must be an absolute path`,
      );
    }
    const spec = JSON.parse(await fsp.readFile(this.file(record.Id, FILES.spec), 'utf8')) as OciSpec;
    const proc = spec.process!;
    const pid = record.InitProcess.pid;
    const order: [string, string][] = [
      ['user', 'user'],
      ['ipc', 'ipc'],
      ['uts', 'uts'],
      ['network', 'net'],
      ['pid', 'pid'],
      ['cgroup', 'cgroup'],
      ['mount', 'mnt'],
    ];
    const present = new Set((spec.linux?.namespaces ?? []).map((ns) => ns.type));
    const namespaces = order
      .filter(([type]) => present.has(type as never))
      .map(([, name]) => ({
        type: name as HelperPlan['namespaces'][number]['type'],
        path: `/proc/${pid}/ns/${name}`,
      }));
    let env = proc.env ?? [];
    for (const entry of options.env ?? []) {
      const name = entry.split('=', 1)[0]!;
      env = [...env.filter((e) => e.split('=', 1)[0] !== name), entry];
    }
    if (options.tty && !env.some((e) => e.startsWith('TERM='))) env.push('TERM=xterm');
    let user = proc.user;
    if (options.user !== undefined) {
      const resolved = resolveUser(
        options.user,
        await fsp.readFile(`/proc/${pid}/root/etc/passwd`, 'utf8').catch(() => undefined),
        await fsp.readFile(`/proc/${pid}/root/etc/group`, 'utf8').catch(() => undefined),
      );
      user = { uid: resolved.uid, gid: resolved.gid, additionalGids: resolved.additionalGids };
      // HOME follows the user exec runs as (as runc does), unless someone set it on purpose.
      const setHome = (list: readonly string[]) => list.some((e) => e.startsWith('HOME='));
      if (!setHome(record.Config.Env) && !setHome(options.env ?? []))
        env = [...env.filter((e) => !e.startsWith('HOME=')), `HOME=${resolved.home || '/'}`];
    }
    const execPlan = execPlanFromSpec(
      {
        ...spec,
        process: {
          ...proc,
          args: options.command,
          env,
          cwd: options.workdir ?? proc.cwd,
          user,
          terminal: options.tty ?? false,
        },
      },
      { namespaces, cgroupProcs: this.cgroup(record).procsFiles(), detach: options.detach ?? false },
    );
    // As docker: stdin only with -i; -t alone gives a terminal for output.
    const stdin = options.interactive ? 'inherit' : 'ignore';
    return startExec(
      execPlan,
      options.detach ? ['ignore', 'ignore', 'ignore'] : [stdin, 'inherit', 'inherit'],
    );
  }

  async *logs(reference: string, options: LogOptions = {}): AsyncGenerator<LogEntry> {
    const record = await this.get(reference);
    const id = record.Id;
    yield* readLogs(this.file(id, FILES.log), {
      ...options,
      isDone: async () => {
        try {
          const current = await this.refresh(await this.containers.load(id));
          return !current || (current.State.Status !== 'running' && current.State.Status !== 'paused');
        } catch {
          return true;
        }
      },
    });
  }

  logPath(record: ContainerRecord): string {
    return this.file(record.Id, FILES.log);
  }
}

export { ContainerStartError };
