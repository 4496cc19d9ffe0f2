/**
 * Reads a container's log (the monitor's CRI-format files, rotated by size) as entries, streamed
 * from disk: the whole log from its oldest file, or the last N lines found by walking back from
 * the end (log-tail.ts), then, when following, what the monitor appends, across rotations. Memory
 * stays a few blocks whatever the size of the log.
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { InvalidArgumentError } from '../errors.js';
import { currentInode, LogFileSet, type OpenLogFile } from './log-files.js';
import { CriParser, type LogCursor, type LogEntry, type RecordStart } from './log-parser.js';
import { findTailStart, readRegion, type LogPosition, type TimeFilter } from './log-tail.js';

export type { LogCursor, LogEntry } from './log-parser.js';

export interface LogOptions {
  follow?: boolean;
  /** Number of lines from the end; undefined for all. */
  tail?: number;
  /** Only entries at or after this time. */
  since?: Date;
  until?: Date;
  /** Stop following when this resolves true (the container ended). */
  isDone?: () => Promise<boolean>;
  signal?: AbortSignal;
  /**
   * Told, before the first entry, where the entries begin: a cursor for `readOlderLogs`, or
   * undefined when they begin at the start of the oldest file (nothing older is kept).
   */
  onStart?: (olderBefore: LogCursor | undefined) => void;
  /** Give every entry its cursor (where it begins), for a pager that drops and reloads lines. */
  positions?: boolean;
}

/** Finds the cursor of a record start read through some file set; undefined: not wanted. */
type Locate = ((start: RecordStart) => LogCursor | undefined) | undefined;

function located(entries: LogEntry[], starts: readonly RecordStart[], locate: Locate): LogEntry[] {
  if (locate) {
    entries.forEach((entry, index) => {
      const start = starts[index];
      const cursor = start && locate(start);
      if (cursor) entry.cursor = cursor;
    });
  }
  return entries;
}

/** Parses "10m", "1h30m", "2s", RFC 3339 times and unix seconds into a Date. */
export function parseSince(value: string, now = Date.now()): Date {
  if (/^\d+(\.\d+)?$/.test(value)) return new Date(Number(value) * 1000);
  const duration = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?$/.exec(value);
  if (duration && value !== '') {
    const ms =
      (Number(duration[1] ?? 0) * 3600 + Number(duration[2] ?? 0) * 60 + Number(duration[3] ?? 0)) * 1000;
    return new Date(now - ms);
  }
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) {
    throw new InvalidArgumentError(
      `invalid time ${JSON.stringify(value)}: give a duration like 10m or 1h30m, a timestamp like 2026-01-01T15:04:05Z, or unix seconds`,
    );
  }
  return date;
}

const BLOCK = 64 * 1024;
const POLL_MS = 250;

/** Keeps the entries inside the time window; `past` turns true at the first entry after `until`. */
class TimeWindow {
  past = false;
  private readonly since: number | undefined;
  private readonly until: number | undefined;

  constructor(filter: TimeFilter) {
    this.since = filter.since?.getTime();
    this.until = filter.until?.getTime();
  }

  accepts(entry: LogEntry): boolean {
    if (this.since === undefined && this.until === undefined) return true;
    const time = Date.parse(entry.time);
    if (this.until !== undefined && time > this.until) this.past = true;
    return !this.past && (this.since === undefined || time >= this.since);
  }

  select(entries: LogEntry[]): LogEntry[] {
    if (this.since === undefined && this.until === undefined) return entries;
    const kept: LogEntry[] = [];
    for (const entry of entries) if (this.accepts(entry)) kept.push(entry);
    return kept;
  }
}

/**
 * The last `count` entries of `[start, stop)`: counted first, then read again skipping the
 * surplus, so a tail costs two reads of its own bytes and never holds more than a block.
 * `finalFlush`: nothing follows `stop`, so a trailing partial record is an entry. `onFirst` is
 * told, before the first entry, where it begins and whether entries before it were skipped.
 */
async function* tailRegion(
  files: LogFileSet,
  start: LogPosition,
  stop: LogPosition,
  count: number,
  finalFlush: boolean,
  filter: TimeFilter,
  parser: CriParser,
  onFirst: (at: RecordStart | undefined, skipped: boolean) => void,
  locate: Locate,
  signal?: AbortSignal,
): AsyncGenerator<LogEntry> {
  const counting = new TimeWindow(filter);
  const counter = new CriParser();
  let total = 0;
  for await (const entries of readRegion(files, start, stop, counter, signal))
    total += counting.select(entries).length;
  if (finalFlush) total += counting.select(counter.flush()).length;
  const skipped = total > count;
  let skip = total - count;
  let told = false;
  const window = new TimeWindow(filter);
  const take = function* (entries: LogEntry[], starts: readonly RecordStart[]) {
    located(entries, starts, locate);
    for (const [index, entry] of entries.entries()) {
      if (!window.accepts(entry)) continue;
      if (skip > 0) {
        skip -= 1;
        continue;
      }
      if (!told) {
        told = true;
        onFirst(starts[index], skipped);
      }
      yield entry;
    }
  };
  for await (const entries of readRegion(files, start, stop, parser, signal))
    yield* take(entries, parser.starts);
  if (finalFlush) yield* take(parser.flush(), parser.starts);
  if (!told) onFirst(undefined, skipped);
}

/** Waits for the log's directory to change, a poll interval, or the abort. */
async function waitForChange(file: string, signal?: AbortSignal): Promise<void> {
  const base = path.basename(file);
  const controller = new AbortController();
  const stop = () => controller.abort();
  signal?.addEventListener('abort', stop, { once: true });
  let watcher: fs.FSWatcher | undefined;
  try {
    await new Promise<void>((resolve) => {
      try {
        watcher = fs.watch(path.dirname(file), (_event, name) => {
          if (name === null || String(name).startsWith(base)) resolve();
        });
        watcher.on('error', () => resolve());
      } catch {
        watcher = undefined;
      }
      void sleep(POLL_MS, undefined, { signal: controller.signal })
        .catch(() => undefined)
        .then(() => resolve());
    });
  } finally {
    controller.abort();
    signal?.removeEventListener('abort', stop);
    watcher?.close();
  }
}

/** Everything of the set up to `stop` in the current file, oldest file first. */
async function* wholeLog(
  files: LogFileSet,
  stop: LogPosition,
  window: TimeWindow,
  parser: CriParser,
  locate: Locate,
  signal?: AbortSignal,
): AsyncGenerator<LogEntry> {
  const all = await files.all();
  const oldest = { index: Math.max(0, all.length - 1), offset: 0 };
  for await (const entries of readRegion(files, oldest, stop, parser, signal)) {
    yield* window.select(located(entries, parser.starts, locate));
    if (window.past) return;
  }
}

export async function* readLogs(file: string, options: LogOptions = {}): AsyncGenerator<LogEntry> {
  const { signal } = options;
  const filter: TimeFilter = {
    ...(options.since ? { since: options.since } : {}),
    ...(options.until ? { until: options.until } : {}),
  };
  const window = new TimeWindow(filter);
  const parser = new CriParser();
  const files = new LogFileSet(file);
  const locate: Locate = options.positions ? (start) => cursorAt(files, start) : undefined;
  let current: OpenLogFile | undefined;
  try {
    current = await files.get(0);
    let position: number;
    if (options.tail !== undefined) {
      const from = { index: 0, offset: current?.size ?? 0 };
      const { start, end, atBeginning } = await findTailStart(files, from, options.tail, filter, signal);
      const stop = { index: 0, offset: end };
      const onFirst = (at: RecordStart | undefined, skipped: boolean) =>
        options.onStart?.(atBeginning && !skipped ? undefined : cursorAt(files, at ?? stop));
      yield* tailRegion(
        files,
        start,
        stop,
        options.tail,
        !options.follow,
        filter,
        parser,
        onFirst,
        locate,
        signal,
      );
      if (!options.follow) return;
      position = end;
    } else {
      options.onStart?.(undefined);
      position = current?.size ?? 0;
      yield* wholeLog(files, { index: 0, offset: position }, window, parser, locate, signal);
      if (window.past) return;
    }
    // From here on only the current file is read; the rotated ones are done with.
    await files.close(current);
    yield* followLog(file, current, position, parser, window, options);
    current = undefined;
  } finally {
    await files.close();
    await current?.handle.close().catch(() => undefined);
  }
}

/**
 * What is appended to the current file after `position` (once, or until done when following),
 * moving on to the new file when the monitor rotates: the old file is finished first (what was
 * appended between its last read and the rotation), then any file rotated in between, oldest
 * first.
 */
async function* followLog(
  file: string,
  opened: OpenLogFile | undefined,
  from: number,
  parser: CriParser,
  window: TimeWindow,
  options: LogOptions,
): AsyncGenerator<LogEntry> {
  const { signal } = options;
  let current = opened;
  let position = from;
  const buffer = Buffer.alloc(BLOCK);
  const here: Locate = options.positions
    ? (start) => current && { inode: current.inode, born: current.born, offset: start.offset }
    : undefined;
  /** Reads the current file on from `position` to its end; true when the reading is over. */
  async function* readOn(): AsyncGenerator<LogEntry, boolean> {
    for (;;) {
      if (signal?.aborted) return true;
      const { bytesRead } = await current!.handle.read(buffer, 0, BLOCK, position);
      if (bytesRead === 0) return false;
      position += bytesRead;
      const entries = parser.feed(buffer.subarray(0, bytesRead), 0, position - bytesRead);
      yield* window.select(located(entries, parser.starts, here));
      if (window.past) return true;
    }
  }
  try {
    for (;;) {
      if (signal?.aborted) return;
      const done = options.follow && options.isDone ? await options.isDone() : false;
      if (!current) {
        const appeared = new LogFileSet(file);
        current = await appeared.get(0);
        await appeared.close(current);
        position = 0;
      }
      if (current) {
        if ((await current.handle.stat()).size < position) {
          // Cut back to nothing (a log of one file): read it again from its start.
          parser.reset();
          position = 0;
        }
        if (yield* readOn()) return;
      }
      if (!options.follow) {
        yield* window.select(located(parser.flush(), parser.starts, here));
        return;
      }
      const inode = await currentInode(file);
      if (current && inode !== undefined && inode !== current.inode) {
        const rotated = new LogFileSet(file);
        const all = await rotated.all();
        const seenAt = all.findIndex((candidate) => candidate.inode === current!.inode);
        if (seenAt !== 0) {
          // What the monitor wrote to our file after our last read and before it rotated (our
          // descriptor still reads it, even once the file is rotated away): it comes first.
          if (yield* readOn()) return;
          parser.endOfFile();
          // Our file is NAME.seenAt now; those after it are newer. Gone entirely: all are newer.
          const oldestNewer = seenAt < 0 ? all.length - 1 : seenAt - 1;
          if (oldestNewer >= 1) {
            const region = readRegion(
              rotated,
              { index: oldestNewer, offset: 0 },
              { index: 1, offset: all[1]!.size },
              parser,
              signal,
            );
            const there: Locate = options.positions ? (start) => cursorAt(rotated, start) : undefined;
            for await (const entries of region) yield* window.select(located(entries, parser.starts, there));
            parser.endOfFile();
          }
          await current.handle.close();
          current = all[0];
          position = 0;
        }
        await rotated.close(current);
        continue;
      }
      if (done) {
        yield* window.select(located(parser.flush(), parser.starts, here));
        return;
      }
      await waitForChange(file, signal);
    }
  } finally {
    await current?.handle.close().catch(() => undefined);
  }
}

function cursorAt(files: LogFileSet, position: RecordStart): LogCursor | undefined {
  const file = files.files[position.index];
  return file ? { inode: file.inode, born: file.born, offset: position.offset } : undefined;
}

/**
 * The `count` entries before `cursor` (from `onStart` or an earlier call), and the cursor before
 * them; undefined when nothing older is kept (the file was rotated away, or this is the start).
 */
export async function readOlderLogs(
  file: string,
  cursor: LogCursor,
  count: number,
  signal?: AbortSignal,
): Promise<{ entries: LogEntry[]; olderBefore: LogCursor | undefined }> {
  const files = new LogFileSet(file);
  try {
    let index = 0;
    for (let candidate = await files.get(0); candidate; candidate = await files.get(++index)) {
      if (candidate.inode === cursor.inode && candidate.born === cursor.born) break;
    }
    if (!files.files[index]) return { entries: [], olderBefore: undefined };
    const from = { index, offset: cursor.offset };
    const { start, atBeginning } = await findTailStart(files, from, count, {}, signal);
    const entries: LogEntry[] = [];
    let olderBefore: LogCursor | undefined;
    const onFirst = (at: RecordStart | undefined, skipped: boolean) => {
      olderBefore = atBeginning && !skipped ? undefined : cursorAt(files, at ?? from);
    };
    const locate: Locate = (at) => cursorAt(files, at);
    const older = tailRegion(files, start, from, count, true, {}, new CriParser(), onFirst, locate, signal);
    for await (const entry of older) entries.push(entry);
    return { entries, olderBefore };
  } finally {
    await files.close();
  }
}
