/**
 * Container events without polling: inotify (fs.watch) on the state root's containers directory
 * and on each container's directory. A changed state.json is compared with what was known to
 * tell create/start/pause/unpause/update/die; a directory that goes away is a destroy; lines the
 * monitor appends to the container's `events` file are OOM kills. Any number of processes can
 * watch at once: everything comes from the state directory, which every CLI and TUI writes.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { hasCode, NotFoundError } from '../errors.js';
import { PRIVATE_DIRECTORY_MODE } from '../state-permissions.js';
import { ZERO_TIME, type ContainerRecord, type ContainerStatus } from './record.js';
import { trace } from '../trace.js';

export type EngineEventAction =
  | 'create'
  | 'start'
  | 'die'
  | 'oom'
  | 'pause'
  | 'unpause'
  | 'update'
  | 'destroy'
  | 'kill'
  | 'stop'
  /** docker's spelling: the new status after the colon. */
  | `health_status: ${'starting' | 'healthy' | 'unhealthy'}`;

export interface EngineEvent {
  /** When it happened, ms since the epoch (the record's or the monitor's time where there is one). */
  time: number;
  type: 'container';
  action: EngineEventAction;
  /** Full container id. */
  id: string;
  name: string;
  /** docker's Actor.Attributes: always image and name; exitCode on die; oomKillCount on oom. */
  attributes?: Record<string, string>;
}

export interface EventOptions {
  /** Ends the stream (the iterator returns) when aborted. */
  signal?: AbortSignal;
}

/** The name of the file the monitor appends "TIMESTAMP oom COUNT" lines to. */
export const EVENTS_FILE = 'events';

/** What the watcher needs from the engine. */
export interface EventSourceDeps {
  containersDir: string;
  load(id: string): Promise<ContainerRecord>;
  /** Reconciles a record whose container ended (finalizes it); returns the current record. */
  refresh(record: ContainerRecord): Promise<ContainerRecord | undefined>;
}

interface Known {
  name: string;
  image: string;
  status: ContainerStatus;
  startedAt: string;
  resources: string;
  eventsOffset: number;
}

const ID = /^[0-9a-f]{64}$/;
const LIVE = new Set<ContainerStatus>(['running', 'paused']);

function timeOf(iso: string | undefined): number {
  const time = iso ? Date.parse(iso) : NaN;
  return Number.isFinite(time) && time > 0 ? time : Date.now();
}

/**
 * What the monitor appends: OOM kills, the runs its restart policy ends and starts, health
 * changes; and what `kill` and `stop` append (`kill SIGNUM` before the signal, `stop` once the
 * container has ended), so every watcher tells them in docker's order: kill, die, stop.
 */
export type MonitorEventAction = 'oom' | 'die' | 'start' | 'health_status' | 'kill' | 'stop';
const MONITOR_ACTIONS = new Set<string>(['oom', 'die', 'start', 'health_status', 'kill', 'stop']);

/** Appends a `kill`/`stop` line to a container's events file (one write: O_APPEND keeps it whole). */
export function appendContainerEvent(containerDir: string, action: 'kill' | 'stop', value = ''): void {
  const stamp = new Date().toISOString();
  try {
    fs.appendFileSync(
      path.join(containerDir, EVENTS_FILE),
      `${stamp} ${action}${value ? ` ${value}` : ''}\n`,
    );
  } catch (error) {
    // Gone meanwhile (an --rm container removed as it ended): there is nobody to tell. On a full
    // disk the line is lost, not the stop or kill it tells of: those must work there (they free
    // space), and a reader skips a line cut short.
    if (!hasCode(error, 'ENOENT') && !hasCode(error, 'ENOSPC') && !hasCode(error, 'EDQUOT')) throw error;
  }
}
const HEALTH_STATUSES = new Set<string>(['starting', 'healthy', 'unhealthy']);

/**
 * Parses the monitor's "2024-05-01T10:00:00.123456789Z ACTION VALUE" lines: `oom COUNT`, for
 * a restart `die EXITCODE` then `start PID`, and `health_status STATUS` (native/health.c).
 */
export function parseMonitorEvents(
  text: string,
): { time: number; action: MonitorEventAction; count: number; status?: string }[] {
  const events: { time: number; action: MonitorEventAction; count: number; status?: string }[] = [];
  for (const line of text.split('\n')) {
    const [stamp, action, count] = line.trim().split(' ');
    if (action === undefined || !MONITOR_ACTIONS.has(action) || stamp === undefined) continue;
    if (action === 'health_status') {
      if (count !== undefined && HEALTH_STATUSES.has(count))
        events.push({ time: timeOf(stamp), action, count: 0, status: count });
      continue;
    }
    events.push({ time: timeOf(stamp), action: action as MonitorEventAction, count: Number(count ?? 0) });
  }
  return events;
}

export function watchContainerEvents(
  deps: EventSourceDeps,
  options: EventOptions = {},
): AsyncIterable<EngineEvent> {
  return {
    [Symbol.asyncIterator]: () => new ContainerEventStream(deps, options.signal).iterator(),
  };
}

class ContainerEventStream {
  private readonly known = new Map<string, Known>();
  /** inotify of each container directory, from the moment it appears until it goes away. */
  private readonly watchers = new Map<string, fs.FSWatcher>();
  /** Per container: a check is running (`busy`); `again` asks for one more after it. */
  private readonly pending = new Map<string, { busy: boolean; again: boolean }>();
  private readonly queue: EngineEvent[] = [];
  private wake: (() => void) | undefined;
  private rootWatcher: fs.FSWatcher | undefined;
  private closed = false;
  private failure: Error | undefined;

  constructor(
    private readonly deps: EventSourceDeps,
    private readonly signal: AbortSignal | undefined,
  ) {}

  async *iterator(): AsyncGenerator<EngineEvent> {
    const onAbort = () => this.close();
    this.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      if (this.signal?.aborted) return;
      await this.start();
      for (;;) {
        while (this.queue.length > 0) yield this.queue.shift() as EngineEvent;
        if (this.failure) throw this.failure;
        if (this.closed) return;
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
      }
    } finally {
      this.signal?.removeEventListener('abort', onAbort);
      this.close();
    }
  }

  private notify(): void {
    this.wake?.();
  }

  private emit(event: EngineEvent): void {
    this.queue.push(event);
    this.notify();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.rootWatcher?.close();
    for (const watcher of this.watchers.values()) watcher.close();
    this.watchers.clear();
    this.known.clear();
    this.notify();
  }

  private async start(): Promise<void> {
    await fsp.mkdir(this.deps.containersDir, { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
    // Closed while waiting: a watcher made now would keep the process alive for nothing.
    if (this.closed) return;
    // Watch first, then take the baseline, so nothing that happens in between is missed.
    this.rootWatcher = fs.watch(this.deps.containersDir, (_type, filename) => {
      if (filename && ID.test(filename)) this.schedule(filename);
      else if (!filename) void this.rescan();
    });
    this.rootWatcher.on('error', (error) => this.fail(error));
    for (const id of await this.ids()) await this.adopt(id);
    // Tests wait for this line before they make the events they expect to see.
    trace('events: watching');
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.notify();
  }

  private async ids(): Promise<string[]> {
    try {
      return (await fsp.readdir(this.deps.containersDir)).filter((name) => ID.test(name));
    } catch (error) {
      if (hasCode(error, 'ENOENT')) return [];
      throw error;
    }
  }

  /** When the kernel's queue overflowed (no file name), every container is checked again. */
  private async rescan(): Promise<void> {
    const ids = new Set(await this.ids().catch(() => []));
    for (const id of new Set([...ids, ...this.known.keys()])) this.schedule(id);
  }

  /** A container that existed before the stream began: its present state is the baseline. */
  private async adopt(id: string): Promise<void> {
    if (this.closed || this.known.has(id)) return;
    this.watchDirectory(id);
    let record: ContainerRecord;
    try {
      record = await this.deps.load(id);
    } catch {
      // Not there yet (a create in progress) or damaged: the watcher reports it when it appears.
      this.schedule(id);
      return;
    }
    this.entryFor(record, await this.eventsSize(id));
    this.schedule(id);
  }

  private entryFor(record: ContainerRecord, eventsOffset: number): Known {
    const entry: Known = {
      name: record.Name,
      image: record.ImageName,
      status: record.State.Status,
      startedAt: record.State.StartedAt,
      resources: JSON.stringify(record.HostConfig.Resources),
      eventsOffset,
    };
    this.known.set(record.Id, entry);
    return entry;
  }

  private async eventsSize(id: string): Promise<number> {
    try {
      return (await fsp.stat(path.join(this.deps.containersDir, id, EVENTS_FILE))).size;
    } catch {
      return 0;
    }
  }

  private watchDirectory(id: string): void {
    if (this.watchers.has(id) || this.closed) return;
    try {
      const watcher = fs.watch(path.join(this.deps.containersDir, id), (_type, filename) => {
        // ctr.log changes with every line of output; only these files carry state.
        if (filename === 'state.json' || filename === 'exit.json' || filename === EVENTS_FILE || !filename) {
          this.schedule(id);
        }
      });
      watcher.on('error', () => this.schedule(id));
      this.watchers.set(id, watcher);
    } catch {
      // The directory went away already; the containers directory's watcher reports that.
    }
  }

  private unwatchDirectory(id: string): void {
    this.watchers.get(id)?.close();
    this.watchers.delete(id);
  }

  /** Runs check(id) now, or once more after the one in progress (never two at once). */
  private schedule(id: string): void {
    if (this.closed) return;
    let slot = this.pending.get(id);
    if (!slot) {
      slot = { busy: false, again: false };
      this.pending.set(id, slot);
    }
    if (slot.busy) {
      slot.again = true;
      return;
    }
    slot.busy = true;
    const run = async (): Promise<void> => {
      const current = slot as { busy: boolean; again: boolean };
      do {
        current.again = false;
        try {
          await this.check(id);
        } catch (error) {
          this.fail(error as Error);
        }
      } while (current.again && !this.closed);
      current.busy = false;
      if (!this.known.has(id)) this.pending.delete(id);
    };
    void run();
  }

  private attributes(
    entry: { image: string; name: string },
    extra: Record<string, string> = {},
  ): Record<string, string> {
    return { image: entry.image, name: entry.name, ...extra };
  }

  private event(
    id: string,
    entry: { image: string; name: string },
    action: EngineEventAction,
    time: number,
    extra?: Record<string, string>,
  ): void {
    this.emit({
      time,
      type: 'container',
      action,
      id,
      name: entry.name,
      attributes: this.attributes(entry, extra),
    });
  }

  /** `stop` lines read in this check, told after its state change (the die comes first). */
  private readonly stops: Array<{ id: string; time: number }> = [];

  private flushStops(id: string, entry: Known | undefined): void {
    for (let index = 0; index < this.stops.length;) {
      const stop = this.stops[index]!;
      if (stop.id !== id) {
        index += 1;
        continue;
      }
      this.stops.splice(index, 1);
      if (entry) this.event(id, entry, 'stop', stop.time);
    }
  }

  private async readMonitorEvents(id: string, entry: Known): Promise<void> {
    const file = path.join(this.deps.containersDir, id, EVENTS_FILE);
    let handle: fsp.FileHandle;
    try {
      handle = await fsp.open(file, 'r');
    } catch {
      return;
    }
    try {
      const { size } = await handle.stat();
      // A new run may start a new file (the directory is the same): read it from the start.
      if (size < entry.eventsOffset) entry.eventsOffset = 0;
      if (size === entry.eventsOffset) return;
      const buffer = Buffer.alloc(size - entry.eventsOffset);
      await handle.read(buffer, 0, buffer.length, entry.eventsOffset);
      const text = buffer.toString('utf8');
      const complete = text.lastIndexOf('\n') + 1;
      entry.eventsOffset += Buffer.byteLength(text.slice(0, complete));
      for (const event of parseMonitorEvents(text.slice(0, complete))) {
        if (event.action === 'oom')
          this.event(id, entry, 'oom', event.time, { oomKillCount: String(event.count) });
        else if (event.action === 'die')
          this.event(id, entry, 'die', event.time, { exitCode: String(event.count) });
        else if (event.action === 'kill')
          this.event(id, entry, 'kill', event.time, { signal: String(event.count) });
        else if (event.action === 'stop') this.stops.push({ id, time: event.time });
        else if (event.action === 'health_status')
          this.event(
            id,
            entry,
            `health_status: ${event.status as 'starting' | 'healthy' | 'unhealthy'}`,
            event.time,
          );
        else this.event(id, entry, 'start', event.time);
      }
    } finally {
      await handle.close();
    }
  }

  private async check(id: string): Promise<void> {
    if (this.closed) return;
    try {
      await this.checkState(id);
    } finally {
      this.flushStops(id, this.known.get(id));
    }
  }

  private async checkState(id: string): Promise<void> {
    // Watch before reading: whatever changes after this read schedules another check.
    const exists = fs.existsSync(path.join(this.deps.containersDir, id));
    if (exists) this.watchDirectory(id);
    else this.unwatchDirectory(id);
    const entry = this.known.get(id);
    if (entry) await this.readMonitorEvents(id, entry);
    let record: ContainerRecord | undefined;
    try {
      record = await this.deps.load(id);
    } catch (error) {
      if (!(error instanceof NotFoundError)) return; // damaged: nothing to compare
      record = undefined;
    }
    if (
      record &&
      LIVE.has(record.State.Status) &&
      fs.existsSync(path.join(this.deps.containersDir, id, 'exit.json'))
    ) {
      // The monitor wrote the exit status; finalize now rather than wait for its exit command.
      record = await this.deps.refresh(record).catch(() => record);
    }
    if (!record) {
      // A directory without state.json is a create in progress; without the directory, gone.
      if (!entry || exists) return;
      // Removed before we saw it end (--rm): its code is in the engine's exit code cache, which
      // holds one only for a container that ran.
      const code = this.keptExitCode(id);
      if (LIVE.has(entry.status)) {
        this.event(id, entry, 'die', Date.now(), code === undefined ? undefined : { exitCode: code });
      } else if (entry.status === 'created' && code !== undefined) {
        // Started, ended and removed between two looks (a busy machine, a short --rm run).
        this.event(id, entry, 'start', Date.now());
        this.event(id, entry, 'die', Date.now(), { exitCode: code });
      }
      // The stop comes before the destroy, after the die.
      this.flushStops(id, entry);
      this.event(id, entry, 'destroy', Date.now());
      this.known.delete(id);
      return;
    }
    if (!entry) {
      const created = this.entryFor(record, 0);
      this.event(id, created, 'create', timeOf(record.Created));
      await this.readMonitorEvents(id, created);
      this.transition(id, created, { status: 'created', startedAt: ZERO_TIME }, record);
      return;
    }
    const before = { ...entry };
    entry.name = record.Name;
    entry.status = record.State.Status;
    entry.startedAt = record.State.StartedAt;
    this.transition(id, entry, before, record);
    const resources = JSON.stringify(record.HostConfig.Resources);
    if (resources !== entry.resources) {
      entry.resources = resources;
      this.event(id, entry, 'update', Date.now());
    }
  }

  private keptExitCode(id: string): string | undefined {
    try {
      const text = fs.readFileSync(
        path.join(path.dirname(this.deps.containersDir), 'exit-codes', id),
        'utf8',
      );
      return /^-?\d+$/.test(text.trim()) ? text.trim() : undefined;
    } catch {
      return undefined;
    }
  }

  /** Events that take the container from `before` to `record`'s state. */
  private transition(
    id: string,
    entry: Known,
    before: Pick<Known, 'status' | 'startedAt'>,
    record: ContainerRecord,
  ): void {
    const now = record.State.Status;
    // A live container whose record moved to a later run by its restart policy: the monitor's
    // events file told those runs already (a start by hand resets RestartCount).
    const restartedByPolicy = LIVE.has(before.status) && record.RestartCount > 0;
    const newRun =
      record.State.StartedAt !== before.startedAt &&
      record.State.StartedAt !== ZERO_TIME &&
      !restartedByPolicy;
    if (newRun) {
      if (LIVE.has(before.status)) this.event(id, entry, 'die', Date.now());
      this.event(id, entry, 'start', timeOf(record.State.StartedAt));
      if (now === 'paused') this.event(id, entry, 'pause', Date.now());
    } else if (before.status === 'running' && now === 'paused') {
      this.event(id, entry, 'pause', Date.now());
    } else if (before.status === 'paused' && now === 'running') {
      this.event(id, entry, 'unpause', Date.now());
    }
    const ended = !LIVE.has(now) && now !== 'created';
    if (ended && (LIVE.has(before.status) || newRun)) {
      this.event(id, entry, 'die', timeOf(record.State.FinishedAt), {
        exitCode: String(record.State.ExitCode),
      });
    }
  }
}
