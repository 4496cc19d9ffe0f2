/**
 * What the TUI needs from the runtime, as one interface: the real Engine through `adaptEngine`,
 * a fake in tests (so panes and key flows run without containers).
 */
import os from 'node:os';
import type { Resources, StatsOptions } from '../runtime/cgroups/types.js';
import type { EngineEvent } from '../runtime/containers/events.js';
import type { ContainerStats } from '../runtime/containers/stats.js';
import type { Engine, ExecOptions } from '../runtime/containers/engine.js';
import type { CreateOptions } from '../runtime/containers/create.js';
import type { LogCursor, LogEntry, LogOptions } from '../runtime/containers/logs.js';
import type { ContainerRecord } from '../runtime/containers/record.js';
import type { LayerTree } from '../runtime/images/tree/types.js';
import type { ImageRecord, OciImageConfig } from '../runtime/images/types.js';
import type { HostStatus } from './hosts/keys.js';

export type { ContainerStats } from '../runtime/containers/stats.js';
export type { EngineEvent } from '../runtime/containers/events.js';

export interface ExecSession {
  pid: number;
  exit: Promise<number>;
}

/** The hosts of a TUI that shows more than one (see hosts/multi-host-engine.ts). */
export interface TuiHosts {
  /** "local" first, then the remote hosts in the order given. */
  readonly names: readonly string[];
  statuses(): HostStatus[];
  onStatus(listener: (status: HostStatus) => void): () => void;
  /** One host's containers, keyed by host (keys.ts); a host that is down gives its last list. */
  list(
    host: string,
    options?: { all?: boolean },
  ): Promise<{ records: ContainerRecord[]; damaged?: { id: string; name?: string; error: Error }[] }>;
  /** Connects to the remote hosts (each reconnects by itself after that). */
  start(): void;
  close(): void;
}

/**
 * The engine's log options, and what a remote host says instead of a start cursor when its
 * gantry is too old to page back through a log (the pane's `o` shows it).
 */
export type TuiLogOptions = LogOptions & { onOlderUnsupported?: (reason: string) => void };

export interface TuiEngine {
  /** State root, watched for changes made by other processes. */
  readonly root: string;
  /** Present when the TUI shows several hosts: container keys then name their host. */
  readonly hosts?: TuiHosts;
  /** The containers; those whose record cannot be read come apart, to be shown marked. */
  list(options?: { all?: boolean }): Promise<{
    records: ContainerRecord[];
    damaged?: { id: string; name?: string; error: Error }[];
  }>;
  /**
   * Finishes or undoes what killed gantry processes left half-done (the journal). Resolves true
   * while live processes have operations under way (one may yet be killed): ask again later.
   */
  recoverInterrupted(): Promise<boolean>;
  get(reference: string): Promise<ContainerRecord>;
  /** Creates on this machine, or with `host` (several hosts shown) on that host. */
  create(options: CreateOptions, host?: string): Promise<ContainerRecord>;
  start(reference: string): Promise<void>;
  stop(reference: string, timeoutSeconds?: number): Promise<void>;
  restart(reference: string): Promise<void>;
  kill(reference: string, signal?: string): Promise<void>;
  remove(reference: string, options?: { force?: boolean }): Promise<void>;
  pause(reference: string): Promise<void>;
  unpause(reference: string): Promise<void>;
  update(reference: string, resources: Resources): Promise<void>;
  /**
   * One sample of a container's cgroup. Takes the record the TUI already keeps current (from
   * events), so sampling a screenful costs only the cgroup reads, not a state refresh per
   * container; CPU rates are derived from successive samples by the stats reducer.
   */
  stats(record: ContainerRecord, options?: StatsOptions): Promise<ContainerStats>;
  /** Engine events until `signal` aborts; undefined when the engine has no event stream. */
  events(signal: AbortSignal): AsyncIterable<EngineEvent> | undefined;
  exec(reference: string, options: ExecOptions): Promise<ExecSession>;
  logs(reference: string, options: TuiLogOptions): AsyncIterable<LogEntry>;
  /** The `count` entries before `cursor`, and whether older ones exist (a cursor to them). */
  olderLogs(
    reference: string,
    cursor: LogCursor,
    count: number,
    signal?: AbortSignal,
  ): Promise<{ entries: LogEntry[]; olderBefore: LogCursor | undefined }>;
  /** What `gantry inspect` prints for a container (docker's ContainerJSON shape). */
  inspect(reference: string): Promise<unknown>;
  /** The layer tree of a container: its image's layers and its live writable layer, walked now. */
  containerLayerTree(reference: string, options?: { changes?: boolean }): Promise<LayerTree>;
  images: {
    /**
     * The images; with several hosts every host's, keyed by host as containers are (keys.ts), or
     * with `host` only that host's (a host that is down gives its last list).
     */
    list(host?: string): Promise<ImageRecord[]>;
    readConfig(record: ImageRecord): Promise<OciImageConfig>;
    remove(reference: string, options?: { force?: boolean; allNames?: boolean }): Promise<unknown>;
    fromHost(name: string): Promise<ImageRecord>;
    /**
     * Pulls an image as `gantry pull` does (the same registry client, auth file and progress
     * text): each progress line the CLI prints off a terminal goes to `onLine`. With `host`
     * (several hosts shown) the pull runs on that host, from the registries it reaches.
     */
    pull(
      reference: string,
      onLine: (line: string) => void,
      host?: string,
    ): Promise<{ id: string; name: string }>;
    /**
     * Builds an image as `gantry build` does (the same builder, cache and words): what the CLI
     * prints goes to `onText` (`step` set when a step starts); `signal` cancels it, keeping
     * nothing of it.
     */
    build(
      request: { context: string; tag?: string; file?: string },
      onText: (text: string, step?: string) => void,
      signal: AbortSignal,
    ): Promise<{ id: string; name: string }>;
    /** What `gantry image inspect` prints for an image, by id. */
    inspect(id: string): Promise<unknown>;
    /** The layer tree of an image: what each layer changes, and what the stack wastes. */
    layerTree(record: ImageRecord): Promise<LayerTree>;
  };
}

export function adaptEngine(engine: Engine): TuiEngine {
  const onlineCpus = os.availableParallelism();
  return {
    root: engine.layout.root,
    list: (options) => engine.list(options),
    recoverInterrupted: async () => {
      const tried = await engine.recoverInterrupted();
      return engine.journal.anyUnderWay(tried);
    },
    get: (reference) => engine.get(reference),
    create: (options) => engine.create(options),
    start: async (reference) => {
      await engine.start(reference);
    },
    stop: async (reference, timeout) => {
      await engine.stop(reference, timeout);
    },
    restart: async (reference) => {
      await engine.restart(reference);
    },
    kill: async (reference, signal) => {
      await engine.kill(reference, signal ?? 'SIGKILL');
    },
    remove: (reference, options) => engine.remove(reference, options),
    pause: async (reference) => {
      await engine.pause(reference);
    },
    unpause: async (reference) => {
      await engine.unpause(reference);
    },
    update: async (reference, resources) => {
      await engine.update(reference, resources);
    },
    stats: async (record, options) => {
      const cgroup = await engine.cgroup(record).stats(options);
      return {
        id: record.Id,
        name: record.Name,
        time: cgroup.time,
        status: record.State.Status,
        cgroup,
        onlineCpus,
      };
    },
    events: (signal) => engine.events({ signal }),
    exec: (reference, options) => engine.exec(reference, options),
    logs: (reference, options) => engine.logs(reference, options),
    olderLogs: (reference, cursor, count, signal) => engine.olderLogs(reference, cursor, count, signal),
    inspect: async (reference) => {
      const { inspectContainer } = await import('../runtime/containers/inspect.js');
      const record = await engine.get(reference);
      return inspectContainer(record, engine.containers.dir(record.Id));
    },
    containerLayerTree: async (reference, options) => {
      const { containerLayerTree } = await import('../runtime/images/tree/container-tree.js');
      return containerLayerTree(engine, reference, options);
    },
    images: {
      list: () => engine.images.list(),
      readConfig: (record) => engine.images.readConfig(record),
      remove: (reference, options) => engine.images.remove(reference, options),
      fromHost: (name) => engine.images.fromHost(name),
      pull: async (reference, onLine) => {
        // Loaded on first use: the registry client is not part of the TUI's start.
        const [{ pullImage }, { pullLines }, { authFileLocation }] = await Promise.all([
          import('../runtime/images/registry/pull.js'),
          import('./pull-lines.js'),
          import('../runtime/images/registry/auth-file.js'),
        ]);
        const progress = pullLines(onLine);
        try {
          const result = await pullImage(engine.images, reference, {
            authFile: authFileLocation(engine.layout.root),
            onEvent: (event) => progress.handle(event),
          });
          return { id: result.record.id, name: result.name ?? reference };
        } finally {
          progress.close();
        }
      },
      build: async (request, onText, signal) => {
        // Loaded on first use, as the CLI does: the builder is not part of the TUI's start.
        const [{ build }, { buildEventText, buildDoneText }, { parseImageName }] = await Promise.all([
          import('../runtime/images/build/builder.js'),
          import('../cli/build-progress.js'),
          import('../runtime/images/reference.js'),
        ]);
        const tags = request.tag ? [request.tag] : [];
        const result = await build(engine, {
          context: request.context,
          ...(request.file ? { file: request.file } : {}),
          tags,
          signal,
          onEvent: (event) => {
            const said = buildEventText(event);
            if (said) onText(said.text, event.type === 'step' ? said.text.trimEnd() : undefined);
          },
        });
        const names = tags.map((tag) => parseImageName(tag));
        onText(buildDoneText(result.image.id, names));
        return { id: result.image.id, name: names[0] ?? result.image.id.slice(7, 19) };
      },
      inspect: async (id) => {
        const { inspectImage } = await import('../runtime/images/inspect.js');
        const record = await engine.images.resolve(id);
        return inspectImage(record, await engine.images.readConfig(record));
      },
      layerTree: async (record) => {
        const { layerTree } = await import('../runtime/images/tree/layer-tree.js');
        return layerTree(engine.images, record);
      },
    },
  };
}
