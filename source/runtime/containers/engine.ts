/**
 * The container engine: create, start, stop, kill, remove, wait, pause, update, stats, events,
 * exec, logs. Each operation reads state from disk, takes the container's lock for changes, and
 * reconciles what it finds (a monitor that wrote an exit status, or one that died) before acting,
 * so any number of CLI and TUI processes can work on the same containers and a killed one leaves
 * nothing wedged. The parts live beside it: reconcile.ts (records brought up to date, removal),
 * launch.ts (spec, cgroup, helper), exec.ts, logs.ts, stats.ts, events.ts.
 */
import { withHealth, type HealthState } from './health/state.js';
import type { TopResult } from './top.js';
import fs from 'node:fs';
import path from 'node:path';
import { createCgroupManager } from '../cgroups/index.js';
import type { CgroupManager, Resources, StatsOptions } from '../cgroups/types.js';
import type { GantryError } from '../errors.js';
import { ConflictError, NotFoundError, UnsupportedError } from '../errors.js';
import { ImageStore } from '../images/store.js';
import type { ResolvedImage } from '../images/types.js';
import { releaseExecFifo } from '../init/exec-fifo.js';
import { attach, ContainerStartError, type AttachHandle, type ExecHandle } from '../init/helper.js';
import { StateLayout, type EngineOptions } from '../paths.js';
import { securePermissions } from '../state-permissions.js';
import { parseSignal } from '../signals.js';
import { Journal, type JournalEntry } from '../journal.js';
import { trace } from '../trace.js';
import {
  containerFile,
  FILES,
  KILLED_EXIT_WAIT_MS,
  readExitStatus,
  waitForExit,
  type EngineCore,
} from './core.js';
import { buildRecord, makeContainerDirectory, type CreateOptions } from './create.js';
import { appendContainerEvent, watchContainerEvents, type EngineEvent, type EventOptions } from './events.js';
import { execInContainer, type ExecOptions } from './exec.js';
import { exitCommand, launch, resolveRecordUser } from './launch.js';
import { logConfigOf } from './log-config.js';
import { readLogs, readOlderLogs, type LogCursor, type LogEntry, type LogOptions } from './logs.js';
import { generateName } from './names.js';
import { runExecError } from './exec-failure.js';
import { waitForContainer, type WaitOptions } from './wait.js';
import { identify, isAlive, signalIdentity } from './process-identity.js';
import type { ContainerRecord } from './record.js';
import { requestStop } from './runs.js';
import { renameContainer } from './rename.js';
import { Reconciler } from './reconcile.js';
import { endWillNotBeRecorded, namesOf, notStoppedError } from './recovery.js';
import { removeContainer } from './remove.js';
import { finishInterruptedOperations, missingRecord, nameOwner } from './unfinished.js';
import { StatsSampler, type ContainerStats } from './stats.js';
import { ContainerStore } from './store.js';
import { mergeResources } from './update.js';
import { assignIdMappings, releaseIdMappings } from './userns.js';
import { networkActivity, resolveNetworkReferences } from './networking.js';
import { assignSelinuxLabels } from './selinux-labels.js';
import { resolveSharedNamespaces } from './shared-namespaces.js';
import { connectContainer, disconnectContainer, networkUsers } from './network-ops.js';
import type { NetworkManager } from '../network/manager.js';
import type { FileLock } from '../fsutil.js';
import { prepareMounts, removeAnonymousVolumes } from '../volumes/attach.js';
import { VolumeStore } from '../volumes/store.js';

export type { ExecOptions };

export interface StartOptions {
  /**
   * Attach the caller's stdio before the process starts (run without -d, start -a). With
   * `ownsCleanup` the caller promises to record the end (engine.get after the exit), so the
   * monitor does not start its cleanup process.
   */
  attach?: {
    stdin: boolean;
    tty: boolean;
    ownsCleanup?: boolean;
    stdout?: boolean;
    stderr?: boolean;
    /** Pipes for the caller to relay (a remote client's), not the caller's own stdio. */
    pipes?: boolean;
  };
  consoleSize?: { rows: number; cols: number };
}

export class Engine implements EngineCore {
  readonly layout: StateLayout;
  readonly containers: ContainerStore;
  private imageStore: ImageStore | undefined;
  private readonly sampler = new StatsSampler();
  private readonly reconciler: Reconciler;
  /** Long operations under way, so a killed one is finished or undone by the next process. */
  readonly journal: Journal;
  private networkManager: Promise<NetworkManager> | undefined;
  private volumeStore: VolumeStore | undefined;

  constructor(readonly options: EngineOptions) {
    this.layout = new StateLayout(options.root);
    // On every start, not only when the root is made: a root from before, or loosened by hand.
    securePermissions(this.layout);
    this.containers = new ContainerStore(this.layout);
    this.containers.onMissingRecord = (id) => missingRecord(this, id);
    this.journal = new Journal(this.layout);
    this.reconciler = new Reconciler(this);
  }

  /** Something the user should know that does not stop the command (a record rebuilt...). */
  warn(message: string, hint?: string): void {
    this.options.warn?.(message, hint);
  }

  /**
   * Finishes or undoes what killed gantry processes left half-done (see unfinished.ts). Every
   * command runs it before its own work; it costs one directory read when there is nothing.
   */
  recoverInterrupted(): Promise<ReadonlySet<string>> {
    return finishInterruptedOperations(this);
  }

  get images(): ImageStore {
    this.imageStore ??= new ImageStore(this.layout, {
      journal: this.journal,
      warn: (message) => this.warn(message),
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

  network(): Promise<NetworkManager> {
    this.networkManager ??= import('../network/manager.js').then(
      ({ NetworkManager }) => new NetworkManager(this.layout.root, (id) => networkActivity(this, id)),
    );
    return this.networkManager;
  }

  private file(id: string, name: string): string {
    return containerFile(this, id, name);
  }

  // ---------------------------------------------------------------- reading and reconciling

  /** All containers (running only unless `all`), reconciled; damaged records are skipped. */
  async list(options: { all?: boolean } = {}): Promise<{
    records: ContainerRecord[];
    /** Records that cannot be read: left out (with the name the container holds, if any). */
    damaged: { id: string; name?: string; error: Error }[];
    /** Containers whose end could not be recorded yet: listed as they were. */
    unsettled?: { id: string; error: Error }[];
  }> {
    // Directories without a record were rebuilt by load(), or are creates under way.
    const { records, damaged } = await this.containers.list();
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
        refreshed.push(withHealth(current, this.containers.dir(current.Id)));
    }
    refreshed.sort((a, b) => b.Created.localeCompare(a.Created));
    // Addresses and rules of starts whose gantry process was killed before the helper ran.
    if (fs.existsSync(path.join(this.layout.root, 'networks', 'state.json'))) {
      const network = await this.network();
      await network.sweep().catch((error: unknown) => trace(`network sweep: ${String(error)}`));
    }
    const named = [];
    for (const bad of damaged) {
      const [name] = await namesOf(this, bad.id).catch(() => []);
      named.push(name === undefined ? bad : { ...bad, name });
    }
    return { records: refreshed, damaged: named, unsettled };
  }

  async get(reference: string): Promise<ContainerRecord> {
    const id = await this.containers.resolveId(reference);
    const record = await this.refresh(await this.containers.load(id));
    if (!record) throw new NotFoundError(`no such container: ${reference}`);
    return record;
  }

  /** See Reconciler.refresh: the record brought up to date with what the monitor left. */
  refresh(
    record: ContainerRecord,
    options: { waitForLock?: boolean } = {},
  ): Promise<ContainerRecord | undefined> {
    return this.reconciler.refresh(record, options);
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
    resolveRecordUser(this, record);
    await resolveNetworkReferences(this, record);
    await resolveSharedNamespaces(this, record);
    await assignSelinuxLabels(this, record);
    trace('create: record built, user resolved');
    // A limit this host cannot enforce (a missing controller, --memory-high on v1) is refused
    // now, before anything exists, rather than when the container starts.
    await this.cgroup(record).checkSupport(record.HostConfig.Resources);
    // Recorded before the name is taken: should this process die before the record is saved,
    // the next one frees the name and the directory at once.
    const entry = this.journal.begin('create', record.Id);
    const volumeEntries: JournalEntry[] = [];
    try {
      for (let attempt = 1; ; attempt += 1) {
        try {
          await this.containers.reserveName(record.Name, record.Id, (owner) => nameOwner(this, owner));
          break;
        } catch (error) {
          // A generated name can be taken already (a few hundred containers make that likely):
          // pick another, then add a digit, as docker's generator does on a retry.
          if (options.name !== undefined || !(error instanceof ConflictError) || attempt >= 20) throw error;
          record.Name = attempt < 5 ? generateName() : `${generateName()}${attempt}`;
        }
      }
      trace('create: name reserved');
      let volumesLock: FileLock | undefined;
      try {
        // Held until the record is saved: a `volume rm` sees this container as a user, or is done.
        volumesLock = await prepareMounts(this, record, {
          ...(options.volumesFrom ? { volumesFrom: options.volumesFrom } : {}),
          imageVolumes: options.skipImageVolumes ? [] : Object.keys(image.config.config?.Volumes ?? {}),
          journal: { journal: this.journal, held: volumeEntries },
        });
        trace('create: mounts prepared');
        await makeContainerDirectory(this.containers.dir(record.Id));
        trace('create: directory made');
        // The range is taken once the directory exists: a create killed from here on leaves an
        // entry the next allocation sees is stale (no directory) and releases.
        await assignIdMappings(this, record);
        await this.containers.save(record);
        trace('create: saved');
      } catch (error) {
        await this.containers.removeDirectory(record.Id).catch(() => undefined);
        await releaseIdMappings(this, record.Id).catch(() => undefined);
        await this.containers.releaseName(record.Name, record.Id);
        volumesLock?.release();
        volumesLock = undefined;
        await removeAnonymousVolumes(this, record).catch(() => undefined);
        throw error;
      } finally {
        volumesLock?.release();
      }
    } finally {
      for (const volumeEntry of volumeEntries) volumeEntry.end();
      entry.end();
    }
    return record;
  }

  exitCommand(record: ContainerRecord): string[] {
    return exitCommand(this, record);
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
        const exit = await readExitStatus(this, id);
        if (!exit && isAlive(record.Monitor)) {
          if (options.attach)
            throw new ConflictError(`container ${record.Name} is already running; use \`gantry attach\``);
          return { record };
        }
        const finalized = await this.reconciler.finalize(record);
        if (!finalized)
          throw new NotFoundError(`no such container: ${reference} (it was removed when it stopped)`);
        record = finalized;
      }
      if (record.State.Status === 'removing')
        throw new NotFoundError(`no such container: ${reference} (it is being removed)`);
      await launch(this, record, options);
      // The lock is held until the process is released from the exec fifo: a start that is
      // killed half-way is then recognisable (fifo present, lock free) and refresh() undoes it.
      let attached: AttachHandle | undefined;
      try {
        if (options.attach) attached = await attach(this.containers.dir(id), FILES.attach, options.attach);
        trace('start: attached');
      } finally {
        await releaseExecFifo(this.file(record.Id, FILES.fifo), record.InitProcess);
        trace('start: released');
      }
      return attached ? { record, attached } : { record };
    } finally {
      lock.release();
    }
  }

  async kill(reference: string, signal: string | number = 'SIGKILL'): Promise<ContainerRecord> {
    const number = parseSignal(signal);
    const record = await this.get(reference);
    if (record.State.Status !== 'running' && record.State.Status !== 'paused') {
      throw new ConflictError(`cannot kill container ${record.Name}: container is not running`);
    }
    // SIGKILL reaches a frozen process only once thawed; the freezer is asked whatever the
    // record says (a pause cut short leaves it frozen with the record saying running).
    if (number === 9) await this.reconciler.thawQuietly(record);
    // As docker's: SIGKILL or the stop signal ends the container for good (no restart by its
    // policy); another signal is the process's business.
    if (number === 9 || number === parseSignal(record.Config.StopSignal || 'SIGTERM'))
      await requestStop(this, record.Id);
    if (record.InitProcess) appendContainerEvent(this.containers.dir(record.Id), 'kill', String(number));
    if (!record.InitProcess || !signalIdentity(record.InitProcess, number)) {
      return (await this.refresh(record)) ?? record;
    }
    // As docker's kill with SIGKILL: it returns once the container has stopped, so a `ps` after
    // it sees the end (a stopped monitor or a process stuck in D is not waited out).
    if (
      number === 9 &&
      (await waitForExit(this, record, KILLED_EXIT_WAIT_MS, () => endWillNotBeRecorded(record)))
    )
      return (await this.refresh(record, { waitForLock: true })) ?? record;
    return record;
  }

  async stop(reference: string, timeoutSeconds?: number): Promise<ContainerRecord> {
    let record = await this.get(reference);
    if (record.State.Status !== 'running' && record.State.Status !== 'paused') return record;
    // Before any signal, so the monitor's restart policy sees it whenever the process ends; read
    // again after it, for the process of the run that is current now.
    await requestStop(this, record.Id);
    record = (await this.refresh(record)) ?? record;
    if (record.State.Status !== 'running' && record.State.Status !== 'paused') return record;
    const timeout = timeoutSeconds ?? record.Config.StopTimeout ?? 10;
    let ended = true;
    if (!record.InitProcess) {
      // Waiting out a restart's delay: the monitor ends at the stop marker.
      ended = await waitForExit(this, record, 10_000);
    } else {
      const stopSignal = parseSignal(record.Config.StopSignal || 'SIGTERM');
      appendContainerEvent(this.containers.dir(record.Id), 'kill', String(stopSignal));
      signalIdentity(record.InitProcess, stopSignal);
      // A paused container (or one whose pause was cut short) gets the signal once thawed.
      await this.reconciler.thawQuietly(record);
      const hopeless = () => endWillNotBeRecorded(record);
      if (!(await waitForExit(this, record, timeout * 1000, hopeless))) {
        appendContainerEvent(this.containers.dir(record.Id), 'kill', '9');
        signalIdentity(record.InitProcess, 9);
        ended = await waitForExit(this, record, KILLED_EXIT_WAIT_MS, hopeless);
      }
    }
    // Whether it ended is the monitor's to say (an exit status, or gone), not the record's: an
    // --rm container's record is gone by now, and another process may be recording the end.
    if (!ended) throw notStoppedError(record);
    const stopped = (await this.refresh(record, { waitForLock: true })) ?? record;
    appendContainerEvent(this.containers.dir(record.Id), 'stop');
    return stopped;
  }

  async restart(reference: string, timeoutSeconds?: number): Promise<ContainerRecord> {
    const stopped = await this.stop(reference, timeoutSeconds);
    const { record } = await this.start(stopped.Id);
    // RestartCount counts restarts by a restart policy, as docker's; a manual one is not one.
    return record;
  }

  /** `volumes` (rm -v): the container's anonymous volumes go with it, unless another uses one. */
  async remove(reference: string, options: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    const id = await this.containers.resolveId(reference);
    // Optional: a disk too full for the entry must not stop the removal that frees it.
    const entry = this.journal.begin('remove', id, { optional: true });
    try {
      trace('remove: begun');
      await removeContainer(this, this.reconciler, id, options);
    } finally {
      entry.end();
    }
  }

  /** Thaws a container a killed commit left frozen (a pause the user made stays). */
  async undoTemporaryPause(id: string): Promise<void> {
    try {
      await this.reconciler.undoTemporaryPause(id);
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
  }

  /** Named and anonymous volumes (loaded on first use). */
  get volumes(): VolumeStore {
    this.volumeStore ??= new VolumeStore(this.layout);
    return this.volumeStore;
  }

  /** `rename`: the new name is taken first, the old one freed last. */
  rename(reference: string, newName: string): Promise<ContainerRecord> {
    return renameContainer(this, this.reconciler, reference, newName);
  }

  /** `top`: the host's ps of the container's processes (ps options given, default -ef). */
  async top(reference: string, psArgs: readonly string[]): Promise<TopResult> {
    const { topContainer } = await import('./top.js');
    return topContainer(this, await this.get(reference), psArgs);
  }

  /** `healthcheck run`: one check now, by the container's monitor; the status after it. */
  async healthcheckRun(reference: string): Promise<HealthState['Status']> {
    const { runHealthcheck } = await import('./health/run.js');
    return runHealthcheck(this, await this.get(reference));
  }

  /** Blocks until the condition holds (by default: not running); returns the exit code. */
  async wait(reference: string, options: WaitOptions = {}): Promise<number> {
    const id = await this.containers.resolveId(reference);
    return waitForContainer(this, id, options);
  }

  /**
   * Why the container's last run could not execute its process after the start (the monitor
   * recorded the errno), said as docker says it; undefined when it ran. Read before the end is
   * recorded, so an --rm container still has it.
   */
  async execFailure(record: ContainerRecord): Promise<GantryError | undefined> {
    const exit = await readExitStatus(this, record.Id);
    return exit?.execErrno ? runExecError(record, exit.execErrno) : undefined;
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

  /** Freezes every process of the container (cgroup freezer); they do not notice. */
  async pause(reference: string, options: { temporary?: boolean } = {}): Promise<ContainerRecord> {
    const id = await this.containers.resolveId(reference);
    return this.reconciler.withLock(id, async () => {
      const record = await this.reconciler.loadCurrent(id, reference);
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

  /** Thaws a paused container. */
  async unpause(reference: string): Promise<ContainerRecord> {
    const id = await this.containers.resolveId(reference);
    return this.reconciler.withLock(id, async () => {
      const record = await this.reconciler.loadCurrent(id, reference);
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
    return this.reconciler.withLock(id, async () => {
      const record = await this.reconciler.loadCurrent(id, reference);
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

  // ---------------------------------------------------------------- networks

  /** `network connect`: a running container gets the interface at once, a stopped one at start. */
  async connectNetwork(
    reference: string,
    network: string,
    aliases: readonly string[] = [],
    ip?: string,
  ): Promise<ContainerRecord> {
    const id = await this.containers.resolveId(reference);
    return this.reconciler.withLock(id, async () =>
      connectContainer(this, await this.reconciler.loadCurrent(id, reference), network, aliases, ip),
    );
  }

  async disconnectNetwork(reference: string, network: string): Promise<ContainerRecord> {
    const id = await this.containers.resolveId(reference);
    return this.reconciler.withLock(id, async () =>
      disconnectContainer(this, await this.reconciler.loadCurrent(id, reference), network),
    );
  }

  /** Containers whose configuration names the network, running or not. */
  networkUsers(network: string): Promise<{ id: string; name: string; status: string }[]> {
    return networkUsers(this, network);
  }

  // ---------------------------------------------------------------- exec and logs

  async exec(reference: string, options: ExecOptions): Promise<ExecHandle> {
    return execInContainer(this, await this.get(reference), options);
  }

  async *logs(reference: string, options: LogOptions = {}): AsyncGenerator<LogEntry> {
    const record = await this.get(reference);
    const id = record.Id;
    refuseWithoutLog(record);
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

  /** The `count` entries before `cursor` (given by `logs` through onStart), for a pager. */
  async olderLogs(
    reference: string,
    cursor: LogCursor,
    count: number,
    signal?: AbortSignal,
  ): Promise<{ entries: LogEntry[]; olderBefore: LogCursor | undefined }> {
    const record = await this.get(reference);
    refuseWithoutLog(record);
    return readOlderLogs(this.file(record.Id, FILES.log), cursor, count, signal);
  }

  logPath(record: ContainerRecord): string {
    return this.file(record.Id, FILES.log);
  }
}

/** docker: "configured logging driver does not support reading". */
function refuseWithoutLog(record: ContainerRecord): void {
  if (logConfigOf(record.HostConfig).Type === 'none') {
    throw new UnsupportedError(
      `container ${record.Name} keeps no log: it was created with --log-driver none`,
      {
        hint: 'its output is not recorded; create it again without --log-driver none to keep a log',
      },
    );
  }
}

export { ContainerStartError };
