/**
 * Reading a log from its end: walk back over whole records, block by block and across rotated
 * files, until enough lines lie after the position reached; then read forward from there. The
 * cost is the size of the tail, never the size of the log.
 */
import type { LogFileSet } from './log-files.js';
import { parseRecordHeader, type CriParser, type LogEntry } from './log-parser.js';

/** A place in a LogFileSet: the index-th file from the newest, a byte offset in it. */
export interface LogPosition {
  index: number;
  offset: number;
}

export interface TimeFilter {
  since?: Date;
  until?: Date;
}

const BLOCK = 64 * 1024;
/** Enough of a record to read its time, stream and tag. */
const HEADER = 256;
const NEWLINE = 0x0a;

export interface TailStart {
  /** Where the lines to show begin (after a whole line: an entry starts there). */
  start: LogPosition;
  /** End of the last whole line in the file scanning began in. */
  end: number;
  /** True when nothing older exists before `start`. */
  atBeginning: boolean;
}

/**
 * Walks back from `from` until `count` whole lines (F records inside the time filter) lie
 * between the returned start and `from`, or a line older than `since` is met, or the oldest file
 * begins. Reads only the blocks it crosses.
 */
export async function findTailStart(
  files: LogFileSet,
  from: LogPosition,
  count: number,
  filter: TimeFilter = {},
  signal?: AbortSignal,
): Promise<TailStart> {
  // One full line more than asked: the position after it is an entry boundary.
  const need = count + 1;
  let found = 0;
  let end = from.offset;
  const since = filter.since?.getTime();
  const until = filter.until?.getTime();
  const buffer = Buffer.alloc(BLOCK + HEADER);
  for (let index = from.index; ; index++) {
    const file = await files.get(index);
    if (!file) {
      const oldest = Math.max(from.index, index - 1);
      return { start: { index: oldest, offset: 0 }, end, atBeginning: true };
    }
    const fileEnd = index === from.index ? from.offset : file.size;
    /** End of the line being walked over (after its newline); undefined until a newline is met. */
    let lineEnd: number | undefined;
    /** Looks at the line starting at `lineStart`; returns true when the start is found. */
    const visit = (headerBytes: Buffer, headerAt: number, headerEnd: number): boolean => {
      const header = parseRecordHeader(headerBytes, headerAt, headerEnd);
      if (!header) return false;
      if (since !== undefined || until !== undefined) {
        const time = Date.parse(header.time);
        if (since !== undefined && time < since) return true;
        if (until !== undefined && time > until) return false;
      }
      if (!header.full) return false;
      found += 1;
      return found >= need;
    };
    let blockEnd = fileEnd;
    while (blockEnd > 0) {
      if (signal?.aborted) return { start: { index, offset: blockEnd }, end, atBeginning: false };
      const blockStart = Math.max(0, blockEnd - BLOCK);
      const readEnd = Math.min(fileEnd, blockEnd + HEADER);
      const { bytesRead } = await file.handle.read(buffer, 0, readEnd - blockStart, blockStart);
      const limit = Math.min(bytesRead, blockEnd - blockStart);
      for (let at = limit - 1; at >= 0; at--) {
        at = buffer.lastIndexOf(NEWLINE, at);
        if (at < 0) break;
        const lineStart = blockStart + at + 1;
        if (lineEnd === undefined) {
          // Bytes after the last newline are a record still being written.
          lineEnd = lineStart;
          if (index === from.index) end = lineEnd;
          continue;
        }
        if (visit(buffer, at + 1, Math.min(bytesRead, at + 1 + HEADER))) {
          return { start: { index, offset: lineEnd }, end, atBeginning: false };
        }
        lineEnd = lineStart;
      }
      if (blockStart === 0 && lineEnd !== undefined && lineEnd > 0) {
        if (visit(buffer, 0, Math.min(bytesRead, HEADER))) {
          return { start: { index, offset: lineEnd }, end, atBeginning: false };
        }
      }
      blockEnd = blockStart;
    }
    // No whole line in the file the walk began in: it holds only a record still being written.
    if (index === from.index && lineEnd === undefined) end = 0;
  }
}

/**
 * Reads `[start, stop)` of the set forward, from an older file to newer ones (`stop` is in file
 * `stop.index`), yielding each block's entries. `parser` may hold a partial record on return,
 * to be continued by what follows `stop`.
 */
export async function* readRegion(
  files: LogFileSet,
  start: LogPosition,
  stop: LogPosition,
  parser: CriParser,
  signal?: AbortSignal,
): AsyncGenerator<LogEntry[]> {
  const buffer = Buffer.alloc(BLOCK);
  for (let index = start.index; index >= stop.index; index--) {
    const file = await files.get(index);
    if (!file) continue;
    let position = index === start.index ? start.offset : 0;
    const end = index === stop.index ? stop.offset : file.size;
    while (position < end) {
      if (signal?.aborted) return;
      const { bytesRead } = await file.handle.read(buffer, 0, Math.min(BLOCK, end - position), position);
      if (bytesRead === 0) break;
      position += bytesRead;
      const entries = parser.feed(buffer.subarray(0, bytesRead), index, position - bytesRead);
      if (entries.length > 0) yield entries;
    }
    // A rotated file ends with a whole record; anything half-written is not continued elsewhere.
    if (index > stop.index) parser.endOfFile();
  }
}
