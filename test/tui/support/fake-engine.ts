/** An in-memory TuiEngine: records calls, serves fixtures, refuses what a test tells it to. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Resources } from '../../../source/runtime/cgroups/types.js';
import type { CreateOptions } from '../../../source/runtime/containers/create.js';
import {
  readLogs,
  readOlderLogs,
  type LogCursor,
  type LogEntry,
  type LogOptions,
} from '../../../source/runtime/containers/logs.js';
import { inspectContainer } from '../../../source/runtime/containers/inspect.js';
import type { ContainerRecord } from '../../../source/runtime/containers/record.js';
import { inspectImage } from '../../../source/runtime/images/inspect.js';
import { InvalidArgumentError, NotFoundError } from '../../../source/runtime/errors.js';
import type { LayerTree } from '../../../source/runtime/images/tree/types.js';
import type { ImageRecord, OciImageConfig } from '../../../source/runtime/images/types.js';
import type { ContainerStats, TuiEngine } from '../../../source/tui/engine-adapter.js';
import { afterAll } from 'vitest';
import { container, image, layer, sample } from './fixtures.js';

/** Every fake's scratch directory, removed when the test file ends (whether or not it called cleanup). */
const roots = new Set<string>();
afterAll(() => {
  for (const root of roots) fs.rmSync(root, { recursive: true, force: true });
  roots.clear();
});

export class FakeEngine implements TuiEngine {
  readonly root = fs.mkdtempSync(path.join(os.tmpdir(), 'gantry-tui-fake-'));
  readonly calls: string[] = [];
  records = new Map<string, ContainerRecord>();
  imageRecords: ImageRecord[] = [];
  logLines: LogEntry[] = [];
  /** When set, logs and older pages are read from this real log file by the runtime's reader. */
  logFile: string | undefined;
  /** Logs of one container by name (others get logLines). */
  containerLogs = new Map<string, LogEntry[]>();
  /** Log readers open now: a follower stays open until the pane aborts it. */
  openLogReaders = 0;
  /** What layerTree and containerLayerTree serve, by image or container ID. */
  layerTrees = new Map<string, LayerTree>();
  /** CPU % a container's samples report, by name (12.5 otherwise). */
  cpuPercent = new Map<string, number>();
  /** Names of the containers sampled, in order. */
  sampled: string[] = [];
  /** Makes update() refuse, as the runtime does for a value the kernel does not take. */
  refuseUpdate: string | Error | undefined;

  constructor(records: ContainerRecord[] = [], images: ImageRecord[] = []) {
    roots.add(this.root);
    for (const record of records) this.records.set(record.Id, record);
    this.imageRecords = images;
  }

  private record(reference: string): ContainerRecord {
    const record =
      this.records.get(reference) ??
      [...this.records.values()].find((candidate) => candidate.Name === reference);
    if (!record) throw new NotFoundError(`no such container: ${reference}`);
    return record;
  }

  private setStatus(reference: string, status: ContainerRecord['State']['Status']): void {
    const record = this.record(reference);
    this.records.set(record.Id, { ...record, State: { ...record.State, Status: status } });
  }

  /** Containers whose record cannot be read, as the engine lists them apart. */
  damaged: { id: string; name?: string; error: Error }[] = [];
  /** How often the TUI asked to recover interrupted operations; true while `underWay`. */
  recoveries = 0;
  underWay = false;
  async list() {
    return { records: [...this.records.values()], damaged: this.damaged };
  }
  async recoverInterrupted() {
    this.recoveries += 1;
    return this.underWay;
  }
  async get(reference: string) {
    return this.record(reference);
  }
  async create(options: CreateOptions) {
    this.calls.push(`create ${JSON.stringify(options)}`);
    const record = container(options.name ?? 'new', {
      status: 'created',
      resources: options.resources ?? {},
    });
    this.records.set(record.Id, record);
    return record;
  }
  /** The next start fails with this error (a command the image does not have, say). */
  startError: Error | undefined;
  async start(reference: string) {
    this.calls.push(`start ${this.record(reference).Name}`);
    const error = this.startError;
    this.startError = undefined;
    if (error) throw error;
    this.setStatus(reference, 'running');
  }
  /** The progress lines a pull reports, then it waits for holdPull and fails with pullError. */
  pullLines: string[] = [];
  holdPull: Promise<void> | undefined;
  pullError: Error | undefined;
  /** What a build says (text, and the STEP line when it starts a step), then it waits for holdBuild (or a cancel) and fails with buildError. */
  buildTexts: Array<[string, string?]> = [];
  holdBuild: Promise<void> | undefined;
  buildError: Error | undefined;
  /** While set, stop() waits for it: a container that takes its time to exit. */
  holdStop: Promise<void> | undefined;
  async stop(reference: string) {
    this.calls.push(`stop ${this.record(reference).Name}`);
    await this.holdStop;
    this.setStatus(reference, 'exited');
  }
  async restart(reference: string) {
    this.calls.push(`restart ${this.record(reference).Name}`);
  }
  async kill(reference: string, signal?: string) {
    this.calls.push(`kill ${this.record(reference).Name} ${signal}`);
    this.setStatus(reference, 'exited');
  }
  async remove(reference: string) {
    const damaged = this.damaged.find((bad) => bad.id === reference);
    if (damaged) {
      this.calls.push(`remove ${damaged.name ?? reference} (damaged)`);
      this.damaged = this.damaged.filter((bad) => bad !== damaged);
      return;
    }
    const record = this.record(reference);
    this.calls.push(`remove ${record.Name}`);
    this.records.delete(record.Id);
  }
  async pause(reference: string) {
    this.calls.push(`pause ${this.record(reference).Name}`);
    this.setStatus(reference, 'paused');
  }
  async unpause(reference: string) {
    this.calls.push(`unpause ${this.record(reference).Name}`);
    this.setStatus(reference, 'running');
  }
  async update(reference: string, resources: Resources) {
    const record = this.record(reference);
    this.calls.push(`update ${record.Name} ${JSON.stringify(resources)}`);
    if (this.refuseUpdate)
      throw typeof this.refuseUpdate === 'string'
        ? new InvalidArgumentError(this.refuseUpdate)
        : this.refuseUpdate;
    this.records.set(record.Id, {
      ...record,
      HostConfig: { ...record.HostConfig, Resources: { ...record.HostConfig.Resources, ...resources } },
    });
  }
  async stats(current: ContainerRecord): Promise<ContainerStats> {
    const record = this.record(current.Id);
    this.sampled.push(record.Name);
    const limit = record.HostConfig.Resources.memory;
    return sample(
      record,
      Date.now(),
      {
        memory: {
          usage: 40 * 1024 * 1024,
          workingSet: 32 * 1024 * 1024,
          ...(limit && limit > 0 ? { limit } : {}),
          oomKills: 0,
        },
        cpu: { usageNanos: 1e9, throttledNanos: 0 },
        pids: {
          current: 3,
          ...(record.HostConfig.Resources.pidsLimit ? { limit: record.HostConfig.Resources.pidsLimit } : {}),
        },
      },
      { cpuPercent: this.cpuPercent.get(record.Name) ?? 12.5 },
    );
  }
  events() {
    return undefined;
  }
  async exec() {
    this.calls.push('exec');
    return { pid: 1, exit: Promise.resolve(0) };
  }
  async *logs(reference: string, options: LogOptions = {}): AsyncGenerator<LogEntry> {
    this.openLogReaders += 1;
    try {
      if (this.logFile) {
        yield* readLogs(this.logFile, options);
        return;
      }
      // The in-memory log: an entry's cursor is its index.
      const lines = this.containerLogs.get(this.record(reference).Name) ?? this.logLines;
      const start = options.tail === undefined ? 0 : Math.max(0, lines.length - options.tail);
      options.onStart?.(start > 0 ? { inode: 0, born: 0, offset: start } : undefined);
      for (let index = start; index < lines.length; index++)
        yield { ...lines[index]!, cursor: { inode: 0, born: 0, offset: index } };
      const signal = options.signal;
      if (options.follow && signal && !signal.aborted)
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    } finally {
      this.openLogReaders -= 1;
    }
  }
  async olderLogs(_reference: string, cursor: LogCursor, count: number, signal?: AbortSignal) {
    this.calls.push(`older logs ${count}`);
    if (this.logFile) return readOlderLogs(this.logFile, cursor, count, signal);
    const from = Math.max(0, cursor.offset - count);
    return {
      entries: this.logLines
        .slice(from, cursor.offset)
        .map((entry, index) => ({ ...entry, cursor: { inode: 0, born: 0, offset: from + index } })),
      olderBefore: from > 0 ? { inode: 0, born: 0, offset: from } : undefined,
    };
  }
  private layerTreeOf(id: string, name: string): LayerTree {
    this.calls.push(`layer tree ${name}`);
    const tree = this.layerTrees.get(id);
    if (!tree) throw new NotFoundError(`no layer tree for ${name}`);
    return tree;
  }
  /** The runtime's own inspect output for the fixture record. */
  async inspect(reference: string) {
    const record = this.record(reference);
    this.calls.push(`inspect ${record.Name}`);
    return inspectContainer(record, path.join(this.root, record.Id));
  }
  async containerLayerTree(reference: string) {
    const record = this.record(reference);
    return this.layerTreeOf(record.Id, record.Name);
  }
  images = {
    list: async () => this.imageRecords,
    readConfig: async (): Promise<OciImageConfig> => ({
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: [] },
      history: [{ created_by: '/bin/sh -c #(nop) ADD file:abc in /' }],
    }),
    remove: async (reference: string) => {
      // As the store: an image a container uses is refused, naming them.
      const users = [...this.records.values()].filter((record) => record.Image === reference);
      if (users.length > 0)
        throw new Error(
          `image ${reference.replace(/^sha256:/, '').slice(0, 12)} is used by containers ${users.map((record) => record.Name).join(', ')}`,
        );
      this.calls.push(`rmi ${reference}`);
      this.imageRecords = this.imageRecords.filter((record) => record.id !== reference);
    },
    fromHost: async (name: string) => {
      this.calls.push(`from-host ${name}`);
      const created = image(name.replace(/:latest$/, ''), [layer('host', 2_000_000)]);
      this.imageRecords = [created];
      return created;
    },
    layerTree: async (record: ImageRecord) => this.layerTreeOf(record.id, record.names[0] ?? record.id),
    pull: async (reference: string, onLine: (line: string) => void) => {
      this.calls.push(`pull ${reference}`);
      for (const line of this.pullLines) onLine(line);
      await this.holdPull;
      if (this.pullError) throw this.pullError;
      const pulled = image(reference.replace(/:latest$/, ''), [layer(reference, 3_000_000)]);
      this.imageRecords = [...this.imageRecords, pulled];
      return { id: pulled.id, name: pulled.names[0]! };
    },
    build: async (
      request: { context: string; tag?: string; file?: string },
      onText: (text: string, step?: string) => void,
      signal: AbortSignal,
    ) => {
      this.calls.push(`build ${request.context} tag=${request.tag ?? ''} file=${request.file ?? ''}`);
      for (const [text, step] of this.buildTexts) onText(text, step);
      await new Promise<void>((resolve, reject) => {
        signal.addEventListener('abort', () => reject(new Error('the build was cancelled')), { once: true });
        void (this.holdBuild ?? Promise.resolve()).then(resolve);
      });
      if (this.buildError) throw this.buildError;
      const built = image(request.tag ?? 'built', [layer(`built-${request.context}`, 1_000_000)]);
      this.imageRecords = [...this.imageRecords, built];
      return { id: built.id, name: built.names[0] ?? built.id };
    },
    inspect: async (id: string) => {
      const record = this.imageRecords.find((candidate) => candidate.id === id);
      if (!record) throw new NotFoundError(`no such image: ${id}`);
      this.calls.push(`image inspect ${record.names[0] ?? id}`);
      return inspectImage(record, await this.images.readConfig());
    },
  };

  cleanup(): void {
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}
