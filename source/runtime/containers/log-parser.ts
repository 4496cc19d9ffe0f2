/**
 * The CRI log format the monitor writes, one record per line: "<time> <stream> <F|P> <text>".
 * A P(artial) record is joined with the records of the same stream that follow it, up to an F; the
 * parser works on bytes, so a character split between two records (or two reads) comes back whole.
 */

/** Where an entry begins in the log, to read what came before it later. */
export interface LogCursor {
  /** The file, by inode and birth time: they stay with it across rotations. */
  inode: number;
  born: number;
  offset: number;
}

export interface LogEntry {
  time: string;
  stream: 'stdout' | 'stderr';
  /** The text including its trailing newline (absent for a final partial line). */
  text: string;
  /** Where it begins (only when asked for, see LogOptions.positions). */
  cursor?: LogCursor;
}

/**
 * An entry longer than this is handed out in pieces of this size (without newlines between
 * them), so one endless line cannot take the reader's memory.
 */
export const MAX_ENTRY_BYTES = 1024 * 1024;
/** A line the monitor cannot have written (no record is this long): dropped as damage. */
const MAX_LINE_BYTES = 8 * 1024 * 1024;

const NEWLINE = 0x0a;
const SPACE = 0x20;
const TAG_FULL = 0x46; // F

export interface RecordHeader {
  time: string;
  stream: 'stdout' | 'stderr';
  full: boolean;
  /** Offset of the text in the buffer given. */
  textStart: number;
}

/** The fields of the record starting at `start` in `buffer` (up to `end`), or undefined if damaged. */
export function parseRecordHeader(buffer: Buffer, start: number, end: number): RecordHeader | undefined {
  const first = buffer.indexOf(SPACE, start);
  if (first < 0 || first >= end) return undefined;
  const second = buffer.indexOf(SPACE, first + 1);
  if (second < 0 || second + 2 >= end || buffer[second + 2] !== SPACE) return undefined;
  return {
    time: buffer.toString('latin1', start, first),
    stream: second - first - 1 === 6 && buffer[first + 4] === 0x65 /* stdErr */ ? 'stderr' : 'stdout',
    full: buffer[second + 1] === TAG_FULL,
    textStart: second + 3,
  };
}

/** Where a record begins: a file (by the reader's own numbering) and a byte offset in it. */
export interface RecordStart {
  index: number;
  offset: number;
}

interface Pending {
  time: string;
  stream: 'stdout' | 'stderr';
  chunks: Buffer[];
  length: number;
  start: RecordStart;
}

export class CriParser {
  private pending: Pending | undefined;
  private carry: Buffer[] = [];
  private carryLength = 0;
  private carryStart: RecordStart = { index: 0, offset: 0 };
  /** Where each entry of the last feed or flush began, by position in its result. */
  readonly starts: RecordStart[] = [];

  /**
   * Feeds bytes as read (the buffer may be reused afterwards), which begin at `offset` of file
   * `index`; returns the complete entries.
   */
  feed(chunk: Buffer, index = 0, offset = 0): LogEntry[] {
    const out: LogEntry[] = [];
    this.starts.length = 0;
    let position = 0;
    if (this.carryLength > 0) {
      const newline = chunk.indexOf(NEWLINE);
      if (newline < 0) {
        this.keep(chunk, index, offset);
        return out;
      }
      this.carry.push(chunk.subarray(0, newline + 1));
      const line = Buffer.concat(this.carry);
      this.carry = [];
      this.carryLength = 0;
      this.record(line, 0, line.length - 1, this.carryStart, out);
      position = newline + 1;
    }
    for (;;) {
      const newline = chunk.indexOf(NEWLINE, position);
      if (newline < 0) break;
      this.record(chunk, position, newline, { index, offset: offset + position }, out);
      position = newline + 1;
    }
    if (position < chunk.length) this.keep(chunk.subarray(position), index, offset + position);
    return out;
  }

  /** A trailing partial record, output as it is once nothing more will come. */
  flush(): LogEntry[] {
    const out: LogEntry[] = [];
    this.starts.length = 0;
    if (this.pending) this.emit(this.pending, out);
    this.pending = undefined;
    return out;
  }

  /** The end of a rotated file: a line cut there (never written whole) is not continued. */
  endOfFile(): void {
    this.carry = [];
    this.carryLength = 0;
  }

  /** Forgets everything half-read (the file was cut back under the reader). */
  reset(): void {
    this.pending = undefined;
    this.carry = [];
    this.carryLength = 0;
  }

  private keep(bytes: Buffer, index: number, offset: number): void {
    if (this.carryLength + bytes.length > MAX_LINE_BYTES) {
      this.carry = [];
      this.carryLength = 0;
      return;
    }
    if (this.carryLength === 0) this.carryStart = { index, offset };
    this.carry.push(Buffer.from(bytes));
    this.carryLength += bytes.length;
  }

  private emit(pending: Pending, out: LogEntry[]): void {
    out.push({
      time: pending.time,
      stream: pending.stream,
      text: Buffer.concat(pending.chunks, pending.length).toString('utf8'),
    });
    this.starts.push(pending.start);
  }

  /** One record: `buffer[start, end)`, without its newline. */
  private record(buffer: Buffer, start: number, end: number, at: RecordStart, out: LogEntry[]): void {
    const header = parseRecordHeader(buffer, start, end + 1);
    if (!header) return;
    const { time, stream, full, textStart } = header;
    const textEnd = Math.max(textStart, end);
    if (this.pending && this.pending.stream !== stream) {
      this.emit(this.pending, out);
      this.pending = undefined;
    }
    if (!this.pending && full) {
      // The common case: one whole line, decoded straight from the read buffer.
      out.push({ time, stream, text: `${buffer.toString('utf8', textStart, textEnd)}\n` });
      this.starts.push(at);
      return;
    }
    this.pending ??= { time, stream, chunks: [], length: 0, start: at };
    const pending = this.pending;
    let text = buffer.subarray(textStart, textEnd);
    while (pending.length + text.length > MAX_ENTRY_BYTES) {
      let room = MAX_ENTRY_BYTES - pending.length;
      // Cut before a UTF-8 continuation byte, so each piece decodes whole.
      while (room > 0 && (text[room]! & 0xc0) === 0x80) room -= 1;
      if (room === 0 && pending.length === 0) room = MAX_ENTRY_BYTES;
      pending.chunks.push(Buffer.from(text.subarray(0, room)));
      pending.length += room;
      text = text.subarray(room);
      this.emit(pending, out);
      pending.chunks = [];
      pending.length = 0;
      pending.start = at;
    }
    pending.chunks.push(Buffer.from(text));
    pending.length += text.length;
    if (full) {
      pending.chunks.push(Buffer.from('\n'));
      pending.length += 1;
      this.emit(pending, out);
      this.pending = undefined;
    }
  }
}
