/**
 * Reads the monitor's CRI-format log ("<time> <stream> <F|P> <text>"): partial records are
 * joined with what follows; a partial record at the very end is output without a newline,
 * so what the container printed comes back byte for byte.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { InvalidArgumentError } from '../errors.js';

export interface LogEntry {
  time: string;
  stream: 'stdout' | 'stderr';
  /** The text including its trailing newline (absent for a final partial line). */
  text: string;
}

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
      `invalid time ${JSON.stringify(value)}: give a duration like 10m or 1h30m, a timestamp like 2026-01-02T15:04:05Z, or unix seconds`,
    );
  }
  return date;
}

class Parser {
  private pending: LogEntry | undefined;
  private carry = '';

  /** Feeds raw file text; returns complete entries. */
  feed(chunk: string): LogEntry[] {
    const text = this.carry + chunk;
    const lines = text.split('\n');
    this.carry = lines.pop() ?? '';
    const out: LogEntry[] = [];
    for (const line of lines) {
      const first = line.indexOf(' ');
      const second = line.indexOf(' ', first + 1);
      const third = line.indexOf(' ', second + 1);
      if (first < 0 || second < 0 || third < 0) continue;
      const time = line.slice(0, first);
      const stream = line.slice(first + 1, second) === 'stderr' ? 'stderr' : 'stdout';
      const tag = line.slice(second + 1, third);
      const content = line.slice(third + 1);
      if (this.pending && this.pending.stream === stream) {
        this.pending.text += content;
      } else {
        if (this.pending) out.push(this.pending);
        this.pending = { time, stream, text: content };
      }
      if (tag === 'F') {
        this.pending.text += '\n';
        out.push(this.pending);
        this.pending = undefined;
      }
    }
    return out;
  }

  /** A trailing partial record, output as it is once nothing more will come. */
  flush(): LogEntry[] {
    const rest = this.pending ? [this.pending] : [];
    this.pending = undefined;
    return rest;
  }
}

export async function* readLogs(file: string, options: LogOptions = {}): AsyncGenerator<LogEntry> {
  const parser = new Parser();
  const selected = (entry: LogEntry) =>
    (!options.since || new Date(entry.time) >= options.since) &&
    (!options.until || new Date(entry.time) <= options.until);
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(file, 'r');
  } catch {
    return;
  }
  try {
    let position = 0;
    const buffer = Buffer.alloc(65536);
    const readAvailable = async (): Promise<LogEntry[]> => {
      const entries: LogEntry[] = [];
      for (;;) {
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
        if (bytesRead === 0) break;
        position += bytesRead;
        entries.push(...parser.feed(buffer.subarray(0, bytesRead).toString('utf8')));
      }
      return entries.filter(selected);
    };
    let initial = await readAvailable();
    // Without --follow nothing more will come: a trailing partial line is the last line.
    if (!options.follow) initial.push(...parser.flush().filter(selected));
    if (options.tail !== undefined) initial = options.tail === 0 ? [] : initial.slice(-options.tail);
    yield* initial;
    if (!options.follow) return;
    let watcher: fs.FSWatcher | undefined;
    let wake: (() => void) | undefined;
    try {
      watcher = fs.watch(file, () => wake?.());
    } catch {
      watcher = undefined;
    }
    try {
      for (;;) {
        if (options.signal?.aborted) return;
        const done = options.isDone ? await options.isDone() : false;
        yield* await readAvailable();
        if (done) {
          yield* parser.flush().filter(selected);
          return;
        }
        await Promise.race([new Promise<void>((resolve) => (wake = resolve)), sleep(250)]);
        wake = undefined;
      }
    } finally {
      watcher?.close();
    }
  } finally {
    await handle.close();
  }
}
