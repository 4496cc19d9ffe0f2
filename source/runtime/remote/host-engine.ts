/**
 * The engine as a command sees it, local or remote: what the CLI's container commands and the
 * remote protocol's dispatcher call. `LocalHostEngine` puts it over the embedded Engine;
 * RemoteEngine (client.ts) sends the same calls over ssh to `gantry system service --stdio`,
 * whose dispatcher calls a LocalHostEngine there. Everything crosses as JSON, so nothing here
 * takes or returns what JSON cannot carry (functions, bigints, Error instances in results).
 */
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { Resources, StatsOptions } from '../cgroups/types.js';
import type { Engine } from '../containers/engine.js';
import type { CreateOptions } from '../containers/create.js';
import type { EngineEvent } from '../containers/events.js';
import type { ExecOptions } from '../containers/exec.js';
import type { ExecHandle } from '../init/helper.js';
import type { LogCursor, LogEntry, LogOptions } from '../containers/logs.js';
import type { ContainerRecord } from '../containers/record.js';
import type { ContainerStats } from '../containers/stats.js';
import { ConflictError, NotFoundError } from '../errors.js';
import type { ImageRecord } from '../images/types.js';
import type { TransferEvent } from '../images/registry/transfer.js';
import type { LayerTree } from '../images/tree/types.js';
import type {
  HostCopyFrom,
  HostCopyTo,
  HostImageRemoval,
  HostNetwork,
  HostPullRequest,
  HostPullResult,
  HostVolume,
} from './host-resources.js';

export type {
  HostCopyFrom,
  HostCopyTo,
  HostImageRemoval,
  HostNetwork,
  HostPullRequest,
  HostPullResult,
  HostVolume,
};

export interface ListResult {
  records: ContainerRecord[];
  /** Records that cannot be read: left out (with the name the container holds, if any). */
  damaged: { id: string; name?: string; error: Error }[];
  /** Containers whose end could not be recorded yet: listed as they were. */
  unsettled?: { id: string; error: Error }[];
}

/** Log reading options that cross the wire (dates as they are; no callbacks). */
export type HostLogOptions = Pick<LogOptions, 'follow' | 'tail' | 'since' | 'until' | 'signal'> &
  OlderLogOptions;

/**
 * What paging back through a log needs (see LogOptions): where the entries begin, and each entry's
 * cursor. A remote gantry too old to page says why through `onOlderUnsupported` instead.
 */
export interface OlderLogOptions {
  onStart?: LogOptions['onStart'];
  positions?: boolean;
  onOlderUnsupported?: (reason: string) => void;
}

/** A page of older entries, and the cursor before it (undefined: nothing older is kept). */
export interface OlderLogPage {
  entries: LogEntry[];
  olderBefore: LogCursor | undefined;
}

/**
 * What exec takes on any host: docker's exec flags, and the pty's size at the start (not
 * --privileged, nor the local engine's choice of pipes).
 */
export type HostExecOptions = Omit<ExecOptions, 'privileged' | 'pipes'>;

/** How `run` (without -d) and `start -a` attach on any host: the container's own streams, relayed. */
export interface HostAttachOptions {
  /** -i: the caller's input goes to the container (as created with it). */
  stdin: boolean;
  /** The container has a tty (its Config.Tty). */
  tty: boolean;
  /** The caller's terminal size at the start (the container's pty takes it). */
  consoleSize?: { rows: number; cols: number };
}

/** A process started by exec whose input and output the caller relays (a pipe or a pty inside). */
export interface ExecStream {
  /** Its pid on its host. */
  pid: number;
  /** Its exit status (128+N for a signal). */
  exit: Promise<number>;
  onOutput(listener: (data: Buffer, fd: 1 | 2) => void): void;
  write(data: Buffer): void;
  endInput(): void;
  signal(name: NodeJS.Signals): void;
  /** The caller's terminal changed size: the pty follows, and its process gets SIGWINCH. */
  resize(rows: number, cols: number): void;
  /**
   * Ctrl-P Ctrl-Q (an attached container's relay, not an exec's): the relay ends, the container
   * runs on, and its end is left to its monitor's cleanup. Resolves once the host let go of it.
   */
  detach?(): Promise<void>;
}

export interface HostEngine {
  /** Which host this is: "local", or the ssh:// address. Errors and the TUI's host column say it. */
  readonly host: string;
  list(options?: { all?: boolean }): Promise<ListResult>;
  get(reference: string): Promise<ContainerRecord>;
  /** What `gantry inspect` prints for one reference: a container, else an image (or only `type`). */
  inspect(reference: string, type?: 'container' | 'image'): Promise<unknown>;
  create(options: CreateOptions): Promise<ContainerRecord>;
  start(reference: string): Promise<ContainerRecord>;
  stop(reference: string, timeoutSeconds?: number): Promise<ContainerRecord>;
  restart(reference: string, timeoutSeconds?: number): Promise<ContainerRecord>;
  kill(reference: string, signal?: string | number): Promise<ContainerRecord>;
  remove(reference: string, options?: { force?: boolean; volumes?: boolean }): Promise<void>;
  pause(reference: string): Promise<ContainerRecord>;
  unpause(reference: string): Promise<ContainerRecord>;
  update(reference: string, resources: Resources): Promise<ContainerRecord>;
  wait(reference: string, options?: { condition?: string }): Promise<number>;
  stats(reference: string, options?: StatsOptions): Promise<ContainerStats>;
  events(options?: { signal?: AbortSignal }): AsyncIterable<EngineEvent>;
  logs(reference: string, options?: HostLogOptions): AsyncIterable<LogEntry>;
  /** The `count` entries before `cursor` (from `logs` with onStart or positions). */
  olderLogs(reference: string, cursor: LogCursor, count: number, signal?: AbortSignal): Promise<OlderLogPage>;
  /** Runs a process in the container with its stdio relayed through the returned stream. */
  exec(reference: string, options: HostExecOptions): Promise<ExecStream>;
  /**
   * Starts a created or stopped container with its streams relayed through the returned stream
   * (run without -d, start -a); its exit is the container's, its end recorded on its host.
   */
  startAttached(reference: string, options: HostAttachOptions): Promise<ExecStream>;
  /**
   * `attach`: a running container's streams relayed through the returned stream (its stdin only
   * when it was created with -i and `stdin` is asked); its exit is the container's.
   */
  attach(reference: string, options: HostAttachOptions): Promise<ExecStream>;
  /** `cp CONTAINER:SRC ...`: the source as a tar stream, resolved inside the container's root. */
  copyFrom(reference: string, request: HostCopyFrom): Promise<Readable>;
  /** `cp ... CONTAINER:DEST`: a tar stream written inside the container's root. */
  copyTo(reference: string, request: HostCopyTo, archive: Readable): Promise<void>;
  images: {
    list(): Promise<ImageRecord[]>;
    /** `image tree` of an image (or, with `container`, of a container's image and its upper layer). */
    tree(reference: string, options?: { container?: boolean }): Promise<LayerTree>;
    /** `allNames`: by ID, every name goes (the TUI asked about each); an image in use is still refused. */
    remove(reference: string, options?: { force?: boolean; allNames?: boolean }): Promise<HostImageRemoval>;
    /** Pulls on the host (from the registries it reaches), its progress as it goes. */
    pull(request: HostPullRequest, onEvent?: (event: TransferEvent) => void): Promise<HostPullResult>;
  };
  volumes: {
    list(options?: { sizes?: boolean }): Promise<HostVolume[]>;
  };
  networks: {
    list(): Promise<HostNetwork[]>;
  };
  /** Lets go of what the engine holds open (a remote one's ssh connection). */
  close(): void;
}

/** The embedded engine of this machine. */
export class LocalHostEngine implements HostEngine {
  readonly host = 'local';

  constructor(readonly engine: Engine) {}

  list(options: { all?: boolean } = {}): Promise<ListResult> {
    return this.engine.list(options);
  }

  get(reference: string): Promise<ContainerRecord> {
    return this.engine.get(reference);
  }

  async inspect(reference: string, type?: 'container' | 'image'): Promise<unknown> {
    if (type !== 'image') {
      try {
        const record = await this.engine.get(reference);
        const { inspectContainer } = await import('../containers/inspect.js');
        return inspectContainer(record, this.engine.containers.dir(record.Id));
      } catch (error) {
        if (!(error instanceof NotFoundError) || type === 'container') throw error;
      }
    }
    const image = await this.engine.images.resolve(reference).catch((error: unknown) => {
      if (error instanceof NotFoundError) throw new NotFoundError(`no such object: ${reference}`);
      throw error;
    });
    const { inspectImage } = await import('../images/inspect.js');
    return inspectImage(image, await this.engine.images.readConfig(image));
  }

  create(options: CreateOptions): Promise<ContainerRecord> {
    return this.engine.create(options);
  }

  async start(reference: string): Promise<ContainerRecord> {
    return (await this.engine.start(reference)).record;
  }

  stop(reference: string, timeoutSeconds?: number): Promise<ContainerRecord> {
    return this.engine.stop(reference, timeoutSeconds);
  }

  restart(reference: string, timeoutSeconds?: number): Promise<ContainerRecord> {
    return this.engine.restart(reference, timeoutSeconds);
  }

  kill(reference: string, signal?: string | number): Promise<ContainerRecord> {
    return this.engine.kill(reference, signal);
  }

  remove(reference: string, options: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    return this.engine.remove(reference, options);
  }

  pause(reference: string): Promise<ContainerRecord> {
    return this.engine.pause(reference);
  }

  unpause(reference: string): Promise<ContainerRecord> {
    return this.engine.unpause(reference);
  }

  update(reference: string, resources: Resources): Promise<ContainerRecord> {
    return this.engine.update(reference, resources);
  }

  wait(reference: string, options: { condition?: string } = {}): Promise<number> {
    return this.engine.wait(reference, options as Parameters<Engine['wait']>[1]);
  }

  stats(reference: string, options?: StatsOptions): Promise<ContainerStats> {
    return this.engine.stats(reference, options);
  }

  events(options: { signal?: AbortSignal } = {}): AsyncIterable<EngineEvent> {
    return this.engine.events(options);
  }

  logs(reference: string, options: HostLogOptions = {}): AsyncIterable<LogEntry> {
    return this.engine.logs(reference, options);
  }

  olderLogs(
    reference: string,
    cursor: LogCursor,
    count: number,
    signal?: AbortSignal,
  ): Promise<OlderLogPage> {
    return this.engine.olderLogs(reference, cursor, count, signal);
  }

  async exec(reference: string, options: HostExecOptions): Promise<ExecStream> {
    const handle = await this.engine.exec(reference, { ...options, pipes: true });
    return pipedStream(handle, handle.pid);
  }

  async startAttached(reference: string, options: HostAttachOptions): Promise<ExecStream> {
    const record = await this.engine.get(reference);
    let started;
    try {
      started = await this.engine.start(record.Id, {
        attach: {
          stdin: options.stdin,
          tty: options.tty,
          // docker's -a: only the streams the container was created to attach.
          stdout: record.Config.AttachStdout,
          stderr: record.Config.AttachStderr,
          ownsCleanup: true,
          pipes: true,
        },
        ...(options.consoleSize && options.tty ? { consoleSize: options.consoleSize } : {}),
      });
    } catch (error) {
      // A --rm container that could not start goes (one that runs already is left alone).
      const running = record.State.Status === 'running' || record.State.Status === 'paused';
      if (record.HostConfig.AutoRemove && !running)
        await this.engine.remove(record.Id, { force: true }).catch(() => undefined);
      throw error;
    }
    return pipedStream(started.attached!, started.record.State.Pid, {
      detachable: true,
      settle: async (code, say) => {
        // The process could not be executed after all: the monitor's words, as a local run says them.
        if (code === 126 || code === 127) {
          const failure = await this.engine.execFailure(record).catch(() => undefined);
          if (failure) say(Buffer.from(`gantry: ${failure.message}\n`), 2);
        }
        // The end is recorded now (the monitor starts no cleanup process: this caller owns it).
        await this.engine.get(record.Id).catch((error: unknown) => {
          if (!(error instanceof NotFoundError)) throw error;
        });
      },
    });
  }

  async attach(reference: string, options: HostAttachOptions): Promise<ExecStream> {
    const record = await this.engine.get(reference);
    if (record.State.Status !== 'running' && record.State.Status !== 'paused')
      throw new ConflictError('you cannot attach to a stopped container, start it first');
    const { attach } = await import('../init/helper.js');
    const handle = await attach(this.engine.containers.dir(record.Id), 'attach.sock', {
      tty: record.Config.Tty,
      stdin: record.Config.OpenStdin && options.stdin,
      pipes: true,
    });
    if (options.consoleSize && record.Config.Tty)
      handle.resize?.(options.consoleSize.rows, options.consoleSize.cols);
    return pipedStream(handle, record.State.Pid, {
      detachable: true,
      settle: async () => {
        await this.engine.get(record.Id).catch(() => undefined);
      },
    });
  }

  async copyFrom(reference: string, request: HostCopyFrom): Promise<Readable> {
    return (await import('./host-resources.js')).copyFrom(this.engine, reference, request);
  }

  async copyTo(reference: string, request: HostCopyTo, archive: Readable): Promise<void> {
    return (await import('./host-resources.js')).copyTo(this.engine, reference, request, archive);
  }

  get images(): HostEngine['images'] {
    const resources = () => import('./host-resources.js');
    return {
      list: () => this.engine.images.list(),
      tree: async (reference, options) => (await resources()).imageTree(this.engine, reference, options),
      remove: async (reference, options) => (await resources()).removeImage(this.engine, reference, options),
      pull: async (request, onEvent) =>
        (await resources()).pullImage(this.engine, request, onEvent ? { onEvent } : {}),
    };
  }

  get volumes(): HostEngine['volumes'] {
    return {
      list: async (options) => (await import('./host-resources.js')).listVolumes(this.engine, options),
    };
  }

  get networks(): HostEngine['networks'] {
    return { list: async () => (await import('./host-resources.js')).listNetworks(this.engine) };
  }

  close(): void {
    // Nothing held open: every call reads the state from disk.
  }
}

/**
 * The relay of a helper process (exec, or an attach to a container's monitor) with its stdio as
 * pipes, as an ExecStream. Its status comes once every byte of output has been read, not merely
 * when the relay exits, and after `settle` (which may say more on the caller's stderr).
 * `detachable`: a detach ends the relay alone (SIGKILL, so it passes nothing on to the container);
 * the monitor sees its client go and takes the container's end over.
 */
export function pipedStream(
  handle: Pick<ExecHandle, 'exit' | 'signal' | 'pipes' | 'resize'>,
  pid: number,
  options: {
    detachable?: boolean;
    settle?: (code: number, say: (data: Buffer, fd: 1 | 2) => void) => Promise<void>;
  } = {},
): ExecStream {
  const pipes = handle.pipes;
  const listeners: ((data: Buffer, fd: 1 | 2) => void)[] = [];
  // Read from the start, kept until a listener comes: node drains and drops the output of a child
  // that exited while no one read it (a short process ends before the relay's caller listens).
  const early: [Buffer, 1 | 2][] = [];
  const deliver = (data: Buffer, fd: 1 | 2) => {
    if (listeners.length === 0) early.push([data, fd]);
    for (const listener of listeners) listener(data, fd);
  };
  pipes?.stdout?.on('data', (data: Buffer) => deliver(data, 1));
  pipes?.stderr?.on('data', (data: Buffer) => deliver(data, 2));
  const drained = [pipes?.stdout, pipes?.stderr].map((stream) =>
    stream ? finished(stream).catch(() => undefined) : undefined,
  );
  const exit = Promise.all([handle.exit, ...drained]).then(async ([code]) => {
    await options.settle?.(code, deliver);
    return code;
  });
  return {
    pid,
    exit,
    onOutput: (listener) => {
      listeners.push(listener);
      for (const [data, fd] of early.splice(0)) listener(data, fd);
    },
    write: (data) => pipes?.stdin?.write(data),
    endInput: () => pipes?.stdin?.end(),
    signal: (name) => handle.signal(name),
    resize: (rows, cols) => handle.resize?.(rows, cols),
    ...(options.detachable
      ? {
          detach: async () => {
            handle.signal('SIGKILL');
            await exit.catch(() => undefined);
          },
        }
      : {}),
  };
}
