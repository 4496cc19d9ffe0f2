/**
 * Flow control of the protocol's byte streams (cp's archives): a sender stops at the receiver's
 * window until the receiver's consumer has read, so a slow reader bounds what is in flight; bytes
 * arrive whole and in order; a receiver that goes away fails the sender instead of hanging it.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import {
  creditedReadable,
  creditedWritable,
  STREAM_CHUNK,
  StreamAbortedError,
} from '../../../source/runtime/remote/flow.js';

/** A writer and a reader joined as the protocol joins them (send -> deliver, grant -> credit). */
function link(window: number) {
  let creditListener: (bytes: number) => void = () => undefined;
  let sent = 0;
  let read = 0;
  let maxInFlight = 0;
  const receiver = creditedReadable((bytes) => setImmediate(() => creditListener(bytes)));
  const writable = creditedWritable(
    {
      send: (data) => {
        sent += data.length;
        expect(data.length).toBeLessThanOrEqual(STREAM_CHUNK);
        maxInFlight = Math.max(maxInFlight, sent - read);
        // The wire: a message arrives later, as over a pipe.
        setImmediate(() => receiver.deliver(Buffer.from(data)));
      },
      onCredit: (listener) => (creditListener = listener),
    },
    window,
  );
  writable.on('finish', () => setImmediate(() => setImmediate(() => receiver.end())));
  return {
    writable,
    readable: receiver.readable,
    consumed: (bytes: number) => (read += bytes),
    stats: () => ({ sent, maxInFlight }),
  };
}

function pattern(size: number): Buffer {
  const buffer = Buffer.alloc(size);
  for (let index = 0; index < size; index += 1) buffer[index] = (index * 31 + (index >> 11)) & 0xff;
  return buffer;
}

describe('credited streams', () => {
  it('never has more than the window unread in flight, and delivers every byte in order', async () => {
    const window = 4 * STREAM_CHUNK;
    const data = pattern(40 * STREAM_CHUNK + 12345);
    const wire = link(window);
    const hash = createHash('sha256');
    const reading = (async () => {
      for await (const chunk of wire.readable) {
        // A slow reader: each piece waits a few turns of the loop before the next is read.
        await new Promise((resolve) => setImmediate(resolve));
        await new Promise((resolve) => setImmediate(resolve));
        hash.update(chunk as Buffer);
        wire.consumed((chunk as Buffer).length);
      }
    })();
    await pipeline(Readable.from([data.subarray(0, 1000), data.subarray(1000)]), wire.writable);
    await reading;
    expect(hash.digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
    expect(wire.stats().sent).toBe(data.length);
    // What was sent and not yet read: the window, plus what the Readable buffers (its high-water
    // mark, one push past it) and hands the reader at once: a bound, however long the stream.
    expect(wire.stats().maxInFlight).toBeLessThanOrEqual(window + 5 * STREAM_CHUNK);
    expect(wire.stats().maxInFlight).toBeLessThan(data.length / 4);
    expect(wire.stats().maxInFlight).toBeGreaterThan(0);
  });

  it('stops sending at the window while nobody reads', async () => {
    const window = 3 * STREAM_CHUNK;
    let sent = 0;
    const writable = creditedWritable(
      { send: (data) => void (sent += data.length), onCredit: () => undefined },
      window,
    );
    writable.write(pattern(10 * STREAM_CHUNK));
    for (let turn = 0; turn < 20; turn += 1) await new Promise((resolve) => setImmediate(resolve));
    expect(sent).toBe(window);
  });

  it('fails the sender when the receiver goes, rather than waiting for credit forever', async () => {
    const stop = new AbortController();
    const writable = creditedWritable(
      { send: () => undefined, onCredit: () => undefined, signal: stop.signal },
      STREAM_CHUNK,
    );
    const failed = pipeline(Readable.from([pattern(4 * STREAM_CHUNK)]), writable);
    for (let turn = 0; turn < 5; turn += 1) await new Promise((resolve) => setImmediate(resolve));
    stop.abort();
    await expect(failed).rejects.toBeInstanceOf(StreamAbortedError);
  });

  it('ignores credit that is not a positive whole number', async () => {
    let sent = 0;
    let give: (bytes: number) => void = () => undefined;
    const writable = creditedWritable(
      { send: (data) => void (sent += data.length), onCredit: (listener) => (give = listener) },
      STREAM_CHUNK,
    );
    writable.write(pattern(3 * STREAM_CHUNK));
    await new Promise((resolve) => setImmediate(resolve));
    for (const bogus of [-1e9, Number.NaN, 0.5, Number.POSITIVE_INFINITY]) give(bogus);
    for (let turn = 0; turn < 5; turn += 1) await new Promise((resolve) => setImmediate(resolve));
    expect(sent).toBe(STREAM_CHUNK);
    give(STREAM_CHUNK);
    for (let turn = 0; turn < 5; turn += 1) await new Promise((resolve) => setImmediate(resolve));
    expect(sent).toBe(2 * STREAM_CHUNK);
  });
});
