/**
 * RemoteEngine: the HostEngine of a host reached over ssh. Each method is one request on the
 * host's single connection (see connection.ts); streams (logs, events) are cancelled on the far end
 * when the caller stops reading. Dates and errors are turned back into what the local engine gives.
 */
import type { Resources, StatsOptions } from '../cgroups/types.js';
import type { CreateOptions } from '../containers/create.js';
import type { EngineEvent } from '../containers/events.js';
import type { LogCursor, LogEntry } from '../containers/logs.js';
import { UnsupportedError } from '../errors.js';
import type { ContainerRecord } from '../containers/record.js';
import type { ContainerStats } from '../containers/stats.js';
import type { ImageRecord } from '../images/types.js';
import type { TransferEvent } from '../images/registry/transfer.js';
import type { LayerTree } from '../images/tree/types.js';
import type { Readable } from 'node:stream';
import { Connection, type ConnectionOptions } from './connection.js';
import { creditedReadable, creditedWritable } from './flow.js';
import type {
  ExecStream,
  HostAttachOptions,
  HostCopyFrom,
  HostCopyTo,
  HostEngine,
  HostExecOptions,
  HostImageRemoval,
  HostLogOptions,
  HostNetwork,
  HostPullResult,
  HostVolume,
  ListResult,
  OlderLogPage,
} from './host-engine.js';
import { SINCE_PROTOCOL, encodeTimeout } from './protocol.js';
import type { SshTarget } from './ssh-url.js';

/** Errors of a list come as plain objects: made Errors again, for the same printing. */
function asError(value: { message: string; name?: string }): Error {
  const error = new Error(value.message);
  if (value.name) error.name = value.name;
  return error;
}

/** The first item of a logs stream asked for `start`: where its entries begin. */
interface LogStart {
  start: { olderBefore: LogCursor | null };
}

export class RemoteEngine implements HostEngine {
  readonly host: string;

  private constructor(
    readonly target: SshTarget,
    readonly connection: Connection,
  ) {
    this.host = target.url;
  }

  static async connect(target: SshTarget, options: ConnectionOptions = {}): Promise<RemoteEngine> {
    return new RemoteEngine(target, await Connection.open(target, options));
  }

  async list(options: { all?: boolean } = {}): Promise<ListResult> {
    const result = await this.connection.call<{
      records: ContainerRecord[];
      damaged: { id: string; name?: string; error: { message: string; name?: string } }[];
      unsettled?: { id: string; error: { message: string; name?: string } }[];
    }>('list', options);
    return {
      records: result.records,
      damaged: result.damaged.map((bad) => ({ ...bad, error: asError(bad.error) })),
      unsettled: (result.unsettled ?? []).map((bad) => ({ ...bad, error: asError(bad.error) })),
    };
  }

  get(reference: string): Promise<ContainerRecord> {
    return this.connection.call('get', { reference });
  }

  inspect(reference: string, type?: 'container' | 'image'): Promise<unknown> {
    return this.connection.call('inspect', { reference, ...(type ? { type } : {}) });
  }

  create(options: CreateOptions): Promise<ContainerRecord> {
    return this.connection.call('create', { options });
  }

  start(reference: string): Promise<ContainerRecord> {
    return this.connection.call('start', { reference });
  }

  stop(reference: string, timeoutSeconds?: number): Promise<ContainerRecord> {
    return this.connection.call('stop', { reference, timeout: encodeTimeout(timeoutSeconds) });
  }

  restart(reference: string, timeoutSeconds?: number): Promise<ContainerRecord> {
    return this.connection.call('restart', { reference, timeout: encodeTimeout(timeoutSeconds) });
  }

  kill(reference: string, signal?: string | number): Promise<ContainerRecord> {
    return this.connection.call('kill', { reference, ...(signal !== undefined ? { signal } : {}) });
  }

  async remove(reference: string, options: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    await this.connection.call('remove', { reference, ...options });
  }

  pause(reference: string): Promise<ContainerRecord> {
    return this.connection.call('pause', { reference });
  }

  unpause(reference: string): Promise<ContainerRecord> {
    return this.connection.call('unpause', { reference });
  }

  update(reference: string, resources: Resources): Promise<ContainerRecord> {
    return this.connection.call('update', { reference, resources });
  }

  wait(reference: string, options: { condition?: string } = {}): Promise<number> {
    return this.connection.call('wait', { reference, ...options });
  }

  stats(reference: string, options: StatsOptions = {}): Promise<ContainerStats> {
    return this.connection.call('stats', { reference, options });
  }

  events(options: { signal?: AbortSignal } = {}): AsyncIterable<EngineEvent> {
    return this.connection.stream<EngineEvent>('events', {}, options.signal);
  }

  async *logs(reference: string, options: HostLogOptions = {}): AsyncGenerator<LogEntry> {
    if (options.onStart || options.positions) {
      yield* this.pagedLogs(reference, options);
      return;
    }
    const { signal, ...rest } = options;
    yield* this.connection.stream<LogEntry>('logs', { reference, options: rest }, signal);
  }

  /**
   * Why this host cannot page back through a log (its service predates `logs.older`), or
   * undefined when it can.
   */
  olderLogsUnsupported(): string | undefined {
    const remote = this.connection.remoteVersion;
    if (!remote || remote.protocol >= SINCE_PROTOCOL.olderLogs) return undefined;
    return `loading older log lines is not supported by the remote gantry (version ${remote.gantry}, protocol ${remote.protocol}) on ${this.host}; upgrade it`;
  }

  /** A logs stream that says where it begins and gives each entry its cursor (protocol 2). */
  private async *pagedLogs(reference: string, options: HostLogOptions): AsyncGenerator<LogEntry> {
    const { signal, onStart, positions, onOlderUnsupported, ...rest } = options;
    const unsupported = this.olderLogsUnsupported();
    if (unsupported) {
      // The tail and what follows still come; only paging back is missing.
      onOlderUnsupported?.(unsupported);
      yield* this.connection.stream<LogEntry>('logs', { reference, options: rest }, signal);
      return;
    }
    const params = {
      reference,
      options: { ...rest, ...(positions ? { positions: true } : {}), ...(onStart ? { start: true } : {}) },
    };
    for await (const item of this.connection.stream<LogEntry | LogStart>('logs', params, signal)) {
      if ('start' in item) onStart?.(item.start.olderBefore ?? undefined);
      else yield item;
    }
  }

  async olderLogs(
    reference: string,
    cursor: LogCursor,
    count: number,
    signal?: AbortSignal,
  ): Promise<OlderLogPage> {
    const unsupported = this.olderLogsUnsupported();
    if (unsupported)
      throw new UnsupportedError(unsupported, { hint: `install a newer gantry on ${this.host}` });
    signal?.throwIfAborted();
    const page = await this.connection.call<{ entries: LogEntry[]; olderBefore: LogCursor | null }>(
      'logs.older',
      { reference, cursor, count },
    );
    signal?.throwIfAborted();
    return { entries: page.entries, olderBefore: page.olderBefore ?? undefined };
  }

  exec(reference: string, options: HostExecOptions): Promise<ExecStream> {
    return this.relayed('exec', { reference, options });
  }

  startAttached(reference: string, options: HostAttachOptions): Promise<ExecStream> {
    return this.relayed('start.attached', { reference, options }, { detachable: true });
  }

  attach(reference: string, options: HostAttachOptions): Promise<ExecStream> {
    return this.relayed('attach', { reference, options }, { detachable: true });
  }

  /**
   * A process on the host whose streams, signals and terminal size travel over a channel;
   * `detachable` (an attached container) on a host whose service knows the detach.
   */
  private async relayed(
    method: string,
    params: unknown,
    options: { detachable?: boolean } = {},
  ): Promise<ExecStream> {
    const channel = this.connection.channel(method, params);
    // The first reply says the process runs (its pid), or why it could not start.
    const started = await channel.started;
    const remote = this.connection.remoteVersion;
    const detachable = options.detachable && remote !== undefined && remote.protocol >= SINCE_PROTOCOL.detach;
    return {
      pid: started.pid,
      // A detached relay has no exit code: the container runs on.
      exit: channel.result.then((result) => (result as { exitCode?: number }).exitCode ?? 0),
      onOutput: (listener) => channel.onOutput(listener),
      write: (data) => channel.write(data),
      endInput: () => channel.endInput(),
      signal: (name) => channel.signal(name),
      resize: (rows, cols) => channel.resize(rows, cols),
      ...(detachable
        ? {
            detach: async () => {
              channel.detach();
              await channel.result;
            },
          }
        : {}),
    };
  }

  async copyFrom(reference: string, request: HostCopyFrom): Promise<Readable> {
    const channel = this.connection.channel('copy.from', { reference, request });
    await channel.started;
    const stream = creditedReadable((bytes) => channel.credit(bytes));
    let settled = false;
    channel.onOutput((data) => stream.deliver(data));
    channel.result.then(
      () => {
        settled = true;
        stream.end();
      },
      (error: Error) => {
        settled = true;
        stream.fail(error);
      },
    );
    // The reader stopped early (it failed to write here): the host stops sending.
    stream.readable.once('close', () => {
      if (!settled) channel.cancel();
    });
    return stream.readable;
  }

  async copyTo(reference: string, request: HostCopyTo, archive: Readable): Promise<void> {
    const channel = this.connection.channel('copy.to', { reference, request });
    await channel.started;
    const { pipeline } = await import('node:stream/promises');
    const stop = new AbortController();
    const writable = creditedWritable({
      send: (data) => channel.write(data),
      onCredit: (listener) => channel.onCredit(listener),
      signal: stop.signal,
    });
    let readFailure: unknown;
    void pipeline(archive, writable).then(
      () => channel.endInput(),
      (error: unknown) => {
        if (stop.signal.aborted) return;
        // Reading here failed: the host stops too (and its error is not the one to report).
        readFailure = error;
        channel.cancel();
      },
    );
    try {
      await channel.result;
    } catch (error) {
      throw readFailure ?? error;
    } finally {
      // The host has read what it needed (an archive's end marker): the rest is not sent.
      stop.abort();
    }
    if (readFailure) throw readFailure;
  }

  get images(): HostEngine['images'] {
    return {
      list: () => this.connection.call<ImageRecord[]>('images.list'),
      tree: (reference, options = {}) =>
        this.connection.call<LayerTree>('images.tree', { reference, container: options.container === true }),
      remove: (reference, options = {}) =>
        this.connection.call<HostImageRemoval>('images.remove', {
          reference,
          force: options.force === true,
          // Sent only when asked: a service older than it would not know it, and refuses by ID.
          ...(options.allNames ? { allNames: true } : {}),
        }),
      pull: (request, onEvent) =>
        this.connection.progress<HostPullResult, TransferEvent>('images.pull', { request }, onEvent),
    };
  }

  get volumes(): HostEngine['volumes'] {
    return {
      list: (options = {}) =>
        this.connection.call<HostVolume[]>('volumes.list', { sizes: options.sizes === true }),
    };
  }

  get networks(): HostEngine['networks'] {
    return { list: () => this.connection.call<HostNetwork[]>('networks.list') };
  }

  close(): void {
    this.connection.close();
  }
}
