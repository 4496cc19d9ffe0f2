/**
 * Flow control for the byte streams the remote protocol carries (cp's archives, either way): a
 * sender never has more than a window of bytes on the wire that its receiver has not read yet, and
 * the receiver hands credit back as its consumer reads (as an ssh channel's window works). So a
 * 200 MB copy holds a window's worth of it in memory on either side, however slow the disk at the
 * far end, and other requests on the same connection are never held up behind it.
 */
import { Readable, Writable } from 'node:stream';
import { GantryError } from '../errors.js';

/** Bytes a receiver takes before it has handed back any credit (each side assumes it at the start). */
export const STREAM_WINDOW = 2 << 20;
/** The largest piece of a stream in one message (base64 in a JSON line). */
export const STREAM_CHUNK = 128 << 10;

/** The receiving end went (its command ended, its session dropped) while a stream was sent. */
export class StreamAbortedError extends GantryError {}

export interface CreditedSender {
  /** Sends one piece; a promise when the transport wants the sender to wait for it to drain. */
  send(data: Buffer): void | Promise<void>;
  /** Credit from the receiver, each time its consumer has read more. */
  onCredit(listener: (bytes: number) => void): void;
  /** Ends the wait for credit (the peer went): the writable fails. */
  signal?: AbortSignal;
}

/** A Writable whose bytes go to the peer in pieces, never more than the window ahead of its reading. */
export function creditedWritable(sender: CreditedSender, window = STREAM_WINDOW): Writable {
  let credit = window;
  let wake: (() => void) | undefined;
  sender.onCredit((bytes) => {
    if (!Number.isSafeInteger(bytes) || bytes <= 0) return;
    credit += bytes;
    wake?.();
    wake = undefined;
  });
  sender.signal?.addEventListener('abort', () => wake?.(), { once: true });
  const aborted = () =>
    new StreamAbortedError('the other end stopped reading the stream', {
      hint: 'its command ended or its connection dropped; run the copy again',
    });
  const untilCredit = async (): Promise<void> => {
    while (credit <= 0) {
      if (sender.signal?.aborted) throw aborted();
      await new Promise<void>((resolve) => (wake = resolve));
    }
    if (sender.signal?.aborted) throw aborted();
  };
  return new Writable({
    highWaterMark: STREAM_CHUNK,
    write(chunk: Buffer, _encoding, callback) {
      void (async () => {
        for (let offset = 0; offset < chunk.length; offset += STREAM_CHUNK) {
          await untilCredit();
          const piece = chunk.subarray(offset, offset + STREAM_CHUNK);
          credit -= piece.length;
          await sender.send(piece);
        }
      })().then(() => callback(), callback);
    },
  });
}

/**
 * The receiving end: pieces from the peer wait in a queue of at most a window, and move into
 * `readable` as its consumer asks for more; credit goes back (through `grant`) for what has moved,
 * a piece's worth at a time (or all of it once the queue is empty, so the window never stays shut).
 */
export function creditedReadable(grant: (bytes: number) => void): {
  readable: Readable;
  deliver(data: Buffer): void;
  end(): void;
  fail(error: Error): void;
} {
  const queue: (Buffer | null)[] = [];
  let wanted = false;
  let owed = 0;
  const flush = (): void => {
    while (wanted && queue.length > 0) {
      const data = queue.shift()!;
      if (data) owed += data.length;
      wanted = readable.push(data);
    }
    if (owed >= STREAM_CHUNK || (owed > 0 && queue.length === 0)) {
      grant(owed);
      owed = 0;
    }
  };
  const readable = new Readable({
    highWaterMark: STREAM_CHUNK * 2,
    read: () => {
      wanted = true;
      flush();
    },
  });
  return {
    readable,
    deliver: (data) => {
      if (readable.destroyed) return;
      queue.push(data);
      flush();
    },
    end: () => {
      if (readable.destroyed) return;
      queue.push(null);
      flush();
    },
    fail: (error) => {
      if (!readable.destroyed) readable.destroy(error);
    },
  };
}
