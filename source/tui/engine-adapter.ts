/**
 * What the TUI needs from the runtime, as one interface: the real Engine through `adaptEngine`,
 * a fake in tests (so panes and key flows run without containers).
 */
import os from 'node:os';
import type { Resources } from '../runtime/cgroups/types.js';
import type { EngineEvent } from '../runtime/containers/events.js';
import type { ContainerStats } from '../runtime/containers/stats.js';
import type { Engine, ExecOptions } from '../runtime/containers/engine.js';
import type { CreateOptions } from '../runtime/containers/create.js';
import type { LogEntry, LogOptions } from '../runtime/containers/logs.js';
import type { ContainerRecord } from '../runtime/containers/record.js';
import type { ImageRecord, OciImageConfig } from '../runtime/images/types.js';

export type { ContainerStats } from '../runtime/containers/stats.js';
export type { EngineEvent } from '../runtime/containers/events.js';

export interface ExecSession {
  pid: number;
  exit: Promise<number>;
}

export interface TuiEngine {
  /** State root, watched for changes made by other processes. */
  readonly root: string;
  list(options?: { all?: boolean }): Promise<{ records: ContainerRecord[] }>;
  get(reference: string): Promise<ContainerRecord>;
  create(options: CreateOptions): Promise<ContainerRecord>;
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
  stats(record: ContainerRecord): Promise<ContainerStats>;
  /** Engine events until `signal` aborts; undefined when the engine has no event stream. */
  events(signal: AbortSignal): AsyncIterable<EngineEvent> | undefined;
  exec(reference: string, options: ExecOptions): Promise<ExecSession>;
  logs(reference: string, options: LogOptions): AsyncIterable<LogEntry>;
  /** Directory of the container's writable layer. */
  upperDir(id: string): string;
  images: {
    list(): Promise<ImageRecord[]>;
    readConfig(record: ImageRecord): Promise<OciImageConfig>;
    remove(reference: string, options?: { force?: boolean }): Promise<unknown>;
    fromHost(name: string): Promise<ImageRecord>;
    /** Directory of an unpacked layer, by ChainID. */
    layerDir(chainId: string): string;
  };
}

export function adaptEngine(engine: Engine): TuiEngine {
  const onlineCpus = os.availableParallelism();
  return {
    root: engine.layout.root,
    list: (options) => engine.list(options),
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
    stats: async (record) => {
      const cgroup = await engine.cgroup(record).stats();
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
    upperDir: (id) => engine.containers.file(id, 'upper'),
    images: {
      list: () => engine.images.list(),
      readConfig: (record) => engine.images.readConfig(record),
      remove: (reference, options) => engine.images.remove(reference, options),
      fromHost: (name) => engine.images.fromHost(name),
      layerDir: (chainId) => `${engine.layout.layer(chainId)}/diff`,
    },
  };
}
