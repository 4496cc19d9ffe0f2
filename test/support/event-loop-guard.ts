/**
 * Setup file of every test worker: fails the test (or hook) that blocked the worker's event loop
 * for 30 s or more. vitest's worker talks to the main process over an RPC whose calls time out
 * after 60 s, a fixed figure in vitest 3; a worker stuck that long in synchronous work (a
 * synchronous child process, a big gzipSync) misses the reply, and the whole run fails with
 * `Timeout calling "onTaskUpdate"` and no name. A loaded machine stretches such work several
 * times, so the work must be asynchronous; this names the test that is not, long before 60 s.
 */
import { afterAll, afterEach, expect } from 'vitest';

const LIMIT_MS = 30_000;
const TICK_MS = 1000;

interface Stall {
  milliseconds: number;
  during: string;
}

// The real clock and timer, kept before any test fakes them (vi.useFakeTimers).
const clock = performance.now.bind(performance);
const every = setInterval;
const stalls: Stall[] = [];
let last = clock();

function check(): void {
  const now = clock();
  // Since the last tick (or check): about TICK_MS when nothing blocks.
  const stalled = now - last;
  last = now;
  if (stalled >= LIMIT_MS) {
    stalls.push({
      milliseconds: Math.round(stalled),
      during: expect.getState().currentTestName ?? 'a hook or the collection of this file',
    });
  }
}

every(check, TICK_MS).unref();

function report(): void {
  check();
  if (stalls.length === 0) return;
  const found = stalls.splice(0);
  throw new Error(
    `the test worker's event loop was blocked for ${found
      .map((stall) => `${(stall.milliseconds / 1000).toFixed(1)} s during "${stall.during}"`)
      .join(', ')}: vitest's worker RPC times out after 60 s, so make that work asynchronous`,
  );
}

afterEach(report);
afterAll(report);
