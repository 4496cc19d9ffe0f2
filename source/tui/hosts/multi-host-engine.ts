/**
 * The TUI's engine when it shows more than one host: this machine's engine and remote hosts
 * behind one TuiEngine. A container's key names its host (keys.ts); every call goes to that
 * host with the container's own id, and what comes back is keyed again. Events of all hosts
 * arrive as one stream. A remote host that is down fails its own calls at once, naming it, and
 * its event stream waits for it to come back; this machine's calls never wait on another host.
 */
import type { Resources, StatsOptions } from '../../runtime/cgroups/types.js';
import type { ExecOptions } from '../../runtime/containers/engine.js';
import type { EngineEvent } from '../../runtime/containers/events.js';
import type { LogEntry } from '../../runtime/containers/logs.js';
import type { ContainerRecord } from '../../runtime/containers/record.js';
import { InvalidArgumentError, NotFoundError, UnsupportedError } from '../../runtime/errors.js';
import type { ImageRecord } from '../../runtime/images/types.js';
import type { HostEngine, HostLogOptions } from '../../runtime/remote/host-engine.js';
import type { ExecSession, TuiEngine, TuiHosts, TuiLogOptions } from '../engine-adapter.js';
import { releaseInput, resumeInput } from '../terminal.js';
import { containerKey, LOCAL_HOST, splitKey, type HostStatus } from './keys.js';
import { RemoteHost, type RemoteHostSpec } from './remote-host.js';

type ListOutcome = Awaited<ReturnType<TuiEngine['list']>>;

/** The terminal a shell in a remote container is relayed to. */
export interface ShellTerminal {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
}

/** A remote container keyed by its host; its image too, so it counts as a user of that host's image. */
function rekey(host: string, record: ContainerRecord): ContainerRecord {
  if (host === LOCAL_HOST) return record;
  return {
    ...record,
    Id: containerKey(host, record.Id),
    ...(record.Image ? { Image: containerKey(host, record.Image) } : {}),
  };
}

/** A remote image keyed by its host: the same image on two hosts is two rows, stored twice. */
function rekeyImage(host: string, record: ImageRecord): ImageRecord {
  return host === LOCAL_HOST ? record : { ...record, id: containerKey(host, record.id) };
}

/** Several async streams as one, in arrival order; ends when all have ended. */
async function* merge<T>(sources: AsyncIterable<T>[], signal: AbortSignal): AsyncGenerator<T> {
  const queue: T[] = [];
  let running = sources.length;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  for (const source of sources) {
    void (async () => {
      try {
        for await (const item of source) {
          queue.push(item);
          notify();
        }
      } catch (error) {
        failure ??= error;
      } finally {
        running -= 1;
        notify();
      }
    })();
  }
  signal.addEventListener('abort', notify, { once: true });
  for (;;) {
    if (queue.length > 0) {
      yield queue.shift()!;
      continue;
    }
    if (failure !== undefined && !signal.aborted) throw failure;
    if (running === 0 || signal.aborted) return;
    await new Promise<void>((resolve) => (wake = resolve));
  }
}

export class MultiHostEngine implements TuiEngine {
  readonly hosts: TuiHosts;
  private readonly remotes = new Map<string, RemoteHost>();
  /** A remote host's rows as last listed: shown (marked unreachable) while it is down. */
  private readonly lastListed = new Map<string, ListOutcome>();
  /** A remote host's images as last listed, likewise. */
  private readonly lastImages = new Map<string, ImageRecord[]>();
  readonly images: TuiEngine['images'];

  constructor(
    private readonly local: TuiEngine,
    specs: readonly RemoteHostSpec[],
    private readonly terminal?: ShellTerminal,
  ) {
    for (const spec of specs) {
      if (spec.name === LOCAL_HOST || this.remotes.has(spec.name))
        throw new InvalidArgumentError(`the host ${JSON.stringify(spec.name)} is named twice`, {
          hint: '"local" is this machine; give each other host once',
        });
      this.remotes.set(spec.name, new RemoteHost(spec));
    }
    const remotes = this.remotes;
    this.hosts = {
      names: [LOCAL_HOST, ...remotes.keys()],
      statuses: () => [
        { name: LOCAL_HOST, state: 'up' },
        ...[...remotes.values()].map((remote) => remote.status),
      ],
      onStatus: (listener) => {
        const offs = [...remotes.values()].map((remote) => remote.onStatus(listener));
        return () => offs.forEach((off) => off());
      },
      list: (host, options) => this.listHost(host, options),
      start: () => {
        for (const remote of remotes.values()) remote.start();
      },
      close: () => {
        for (const remote of remotes.values()) remote.close();
      },
    };
    this.images = this.imageOperations();
  }

  get root(): string {
    return this.local.root;
  }

  private remoteHost(host: string): RemoteHost {
    const remote = this.remotes.get(host);
    if (!remote) throw new NotFoundError(`no such host: ${host}`);
    return remote;
  }

  /**
   * The remote host of a key (and the container's or image's id there), or undefined for this
   * machine. Throws at once, naming the host, when it is down.
   */
  private route(key: string): { remote: HostEngine; id: string; host: string } | undefined {
    const { host, id } = splitKey(key);
    if (host === LOCAL_HOST) return undefined;
    return { remote: this.remoteHost(host).engine(), id, host };
  }

  private async listHost(host: string, options?: { all?: boolean }): Promise<ListOutcome> {
    if (host === LOCAL_HOST) return this.local.list(options);
    const remote = this.remotes.get(host);
    if (!remote) throw new NotFoundError(`no such host: ${host}`);
    try {
      const result = await remote.engine().list(options);
      const outcome: ListOutcome = {
        records: result.records.map((record) => rekey(host, record)),
        damaged: result.damaged.map((bad) => ({ ...bad, id: containerKey(host, bad.id) })),
      };
      this.lastListed.set(host, outcome);
      return outcome;
    } catch (error) {
      const last = this.lastListed.get(host);
      if (last) return last;
      throw error;
    }
  }

  async list(options?: { all?: boolean }): Promise<ListOutcome> {
    const outcomes = await Promise.allSettled(this.hosts.names.map((host) => this.listHost(host, options)));
    const records: ContainerRecord[] = [];
    const damaged: NonNullable<ListOutcome['damaged']> = [];
    outcomes.forEach((outcome, index) => {
      if (outcome.status === 'fulfilled') {
        records.push(...outcome.value.records);
        damaged.push(...(outcome.value.damaged ?? []));
      } else if (index === 0) {
        throw outcome.reason;
      }
    });
    return { records, damaged };
  }

  recoverInterrupted(): Promise<boolean> {
    // A remote host's service finishes its own interrupted work when it serves.
    return this.local.recoverInterrupted();
  }

  async get(key: string): Promise<ContainerRecord> {
    const target = this.route(key);
    if (!target) return this.local.get(key);
    return rekey(target.host, await target.remote.get(target.id));
  }

  async create(options: Parameters<TuiEngine['create']>[0], host?: string): Promise<ContainerRecord> {
    if (host === undefined || host === LOCAL_HOST) return this.local.create(options);
    return rekey(host, await this.remoteHost(host).engine().create(options));
  }

  private async act(
    key: string,
    local: () => Promise<void>,
    remote: (engine: HostEngine, id: string) => Promise<unknown>,
  ): Promise<void> {
    const target = this.route(key);
    if (!target) return local();
    await remote(target.remote, target.id);
  }

  start(key: string): Promise<void> {
    return this.act(
      key,
      () => this.local.start(key),
      (engine, id) => engine.start(id),
    );
  }

  stop(key: string, timeoutSeconds?: number): Promise<void> {
    return this.act(
      key,
      () => this.local.stop(key, timeoutSeconds),
      (engine, id) => engine.stop(id, timeoutSeconds),
    );
  }

  restart(key: string): Promise<void> {
    return this.act(
      key,
      () => this.local.restart(key),
      (engine, id) => engine.restart(id),
    );
  }

  kill(key: string, signal?: string): Promise<void> {
    return this.act(
      key,
      () => this.local.kill(key, signal),
      (engine, id) => engine.kill(id, signal ?? 'SIGKILL'),
    );
  }

  remove(key: string, options?: { force?: boolean }): Promise<void> {
    return this.act(
      key,
      () => this.local.remove(key, options),
      (engine, id) => engine.remove(id, options),
    );
  }

  pause(key: string): Promise<void> {
    return this.act(
      key,
      () => this.local.pause(key),
      (engine, id) => engine.pause(id),
    );
  }

  unpause(key: string): Promise<void> {
    return this.act(
      key,
      () => this.local.unpause(key),
      (engine, id) => engine.unpause(id),
    );
  }

  update(key: string, resources: Resources): Promise<void> {
    return this.act(
      key,
      () => this.local.update(key, resources),
      (engine, id) => engine.update(id, resources),
    );
  }

  async stats(record: ContainerRecord, options?: StatsOptions): ReturnType<TuiEngine['stats']> {
    const target = this.route(record.Id);
    if (!target) return this.local.stats(record, options);
    return { ...(await target.remote.stats(target.id, options)), id: record.Id };
  }

  events(signal: AbortSignal): AsyncIterable<EngineEvent> | undefined {
    const local = this.local.events(signal);
    const remotes = [...this.remotes.values()].map((remote) => this.remoteEvents(remote, signal));
    return merge(local ? [local, ...remotes] : remotes, signal);
  }

  /** A remote host's events, keyed; across drops (the stream waits until the host is back). */
  private async *remoteEvents(remote: RemoteHost, signal: AbortSignal): AsyncGenerator<EngineEvent> {
    while (!signal.aborted) {
      if (!(await remote.whenUp(signal))) return;
      try {
        for await (const event of remote.engine().events({ signal })) {
          yield event.type === 'container' ? { ...event, id: containerKey(remote.name, event.id) } : event;
        }
      } catch {
        // The connection dropped: the host's status says so; wait for it to come back.
      }
      // A stream that ended without an error (the service closed it) is asked for again once up.
      if (!signal.aborted) await new Promise((resolve) => setTimeout(resolve, 1000).unref());
    }
  }

  async exec(key: string, options: ExecOptions): Promise<ExecSession> {
    const target = this.route(key);
    if (!target) return this.local.exec(key, options);
    const terminal = this.terminal;
    if (!terminal) throw new InvalidArgumentError('no terminal to relay a remote shell to');
    const { stdin, stdout } = terminal;
    const stream = await target.remote.exec(target.id, {
      command: options.command,
      tty: options.tty === true,
      interactive: options.interactive === true,
      ...(options.tty && stdout.isTTY ? { consoleSize: { rows: stdout.rows, cols: stdout.columns } } : {}),
    });
    // The pty is on the far side: this terminal only passes bytes, raw, Ctrl-C included.
    stream.onOutput((data) => stdout.write(data));
    // Read the way Ink reads ('readable', not 'data': a stream once switched to flowing mode did
    // not give Ink its keys again). Ink set the encoding: keys arrive as text, sent as their bytes.
    const onReadable = () => {
      let chunk: Buffer | string | null;
      while ((chunk = stdin.read() as Buffer | string | null) !== null)
        stream.write(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
    };
    // The terminal resized while the shell has it: the far pty follows.
    const onResize = () => stream.resize(stdout.rows, stdout.columns);
    if (options.tty && stdout.isTTY) stdout.on('resize', onResize);
    resumeInput(stdin);
    if (stdin.isTTY) stdin.setRawMode(true);
    stdin.on('readable', onReadable);
    const exit = stream.exit.finally(() => {
      stdout.off('resize', onResize);
      stdin.off('readable', onReadable);
      // Back as the TUI left it for the shell: it takes the terminal again itself.
      releaseInput(stdin);
    });
    return { pid: stream.pid, exit };
  }

  async *logs(key: string, options: TuiLogOptions): AsyncGenerator<LogEntry> {
    const target = this.route(key);
    if (!target) {
      yield* this.local.logs(key, options);
      return;
    }
    const remoteOptions: HostLogOptions = {};
    if (options.follow) remoteOptions.follow = true;
    if (options.tail !== undefined) remoteOptions.tail = options.tail;
    if (options.since) remoteOptions.since = options.since;
    if (options.until) remoteOptions.until = options.until;
    if (options.signal) remoteOptions.signal = options.signal;
    // Paged as locally: where the tail begins, each entry's cursor (or why the host cannot).
    if (options.onStart) remoteOptions.onStart = options.onStart;
    if (options.positions) remoteOptions.positions = true;
    if (options.onOlderUnsupported) remoteOptions.onOlderUnsupported = options.onOlderUnsupported;
    yield* target.remote.logs(target.id, remoteOptions);
  }

  olderLogs(...args: Parameters<TuiEngine['olderLogs']>): ReturnType<TuiEngine['olderLogs']> {
    const [key, cursor, count, signal] = args;
    const target = this.route(key);
    if (!target) return this.local.olderLogs(...args);
    return target.remote.olderLogs(target.id, cursor, count, signal);
  }

  inspect(key: string): Promise<unknown> {
    const target = this.route(key);
    if (!target) return this.local.inspect(key);
    return target.remote.inspect(target.id, 'container');
  }

  containerLayerTree(
    key: string,
    options?: Parameters<TuiEngine['containerLayerTree']>[1],
  ): ReturnType<TuiEngine['containerLayerTree']> {
    const { host, id } = splitKey(key);
    if (host === LOCAL_HOST) return this.local.containerLayerTree(key, options);
    // Walked on the host, where the layers are: the image's and the container's writable one.
    return (async () => this.remoteHost(host).engine().images.tree(id, { container: true }))();
  }

  /** One host's images, keyed; a remote host that is down gives its last list. */
  private async imagesOf(host: string): Promise<ImageRecord[]> {
    if (host === LOCAL_HOST) return this.local.images.list();
    const remote = this.remoteHost(host);
    try {
      const records = (await remote.engine().images.list()).map((record) => rekeyImage(host, record));
      this.lastImages.set(host, records);
      return records;
    } catch (error) {
      const last = this.lastImages.get(host);
      if (last) return last;
      throw error;
    }
  }

  private imageOperations(): TuiEngine['images'] {
    const local = this.local.images;
    return {
      list: async (host) => {
        if (host !== undefined) return this.imagesOf(host);
        const outcomes = await Promise.allSettled(this.hosts.names.map((name) => this.imagesOf(name)));
        return outcomes.flatMap((outcome, index) => {
          if (outcome.status === 'fulfilled') return outcome.value;
          if (index === 0) throw outcome.reason;
          return [];
        });
      },
      readConfig: async (record) => {
        const target = this.route(record.id);
        if (!target) return local.readConfig(record);
        throw new UnsupportedError(`the config of an image on ${target.host} is not served over ssh`, {
          hint: `its layers and history come with its layer tree; \`gantry --host ${target.host} image inspect\` prints the rest`,
        });
      },
      remove: async (key, options = {}) => {
        const target = this.route(key);
        if (!target) return local.remove(key, options);
        return target.remote.images.remove(target.id, {
          ...(options.force ? { force: true } : {}),
          ...(options.allNames ? { allNames: true } : {}),
        });
      },
      fromHost: (name) => local.fromHost(name),
      pull: async (reference, onLine, host) => {
        if (host === undefined || host === LOCAL_HOST) return local.pull(reference, onLine);
        const remote = this.remoteHost(host).engine();
        const { pullLines } = await import('../pull-lines.js');
        const progress = pullLines(onLine);
        try {
          const result = await remote.images.pull({ reference }, (event) => progress.handle(event));
          return { id: containerKey(host, result.Id), name: result.Name ?? reference };
        } finally {
          progress.close();
        }
      },
      // The build context is a directory here: the protocol has no build (the keys refuse it).
      build: (request, onText, signal) => local.build(request, onText, signal),
      inspect: async (key) => {
        const target = this.route(key);
        if (!target) return local.inspect(key);
        return target.remote.inspect(target.id, 'image');
      },
      layerTree: async (record) => {
        const target = this.route(record.id);
        if (!target) return local.layerTree(record);
        return target.remote.images.tree(target.id);
      },
    };
  }
}

export type { HostStatus };
