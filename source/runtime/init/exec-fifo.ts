/**
 * The start signal: a created container's process blocks opening the exec fifo for writing; the
 * starter opens it for reading and takes the byte the process writes, after which it execs.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive } from '../containers/process-identity.js';
import type { ProcessIdentity } from '../containers/record.js';
import { hasCode } from '../errors.js';

export type FifoRelease = 'released' | 'missing' | 'exited' | 'timeout';

/** Releases the process waiting at `fifo` and removes the fifo. */
export async function releaseExecFifo(
  fifo: string,
  process: ProcessIdentity | undefined,
  timeoutMs = 10_000,
): Promise<FifoRelease> {
  let fd: number;
  try {
    // Non-blocking: a blocking open would wait for ever if the process died before opening.
    fd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (error) {
    if (hasCode(error, 'ENOENT')) return 'missing';
    throw error;
  }
  try {
    const byte = Buffer.alloc(1);
    const deadline = Date.now() + timeoutMs;
    for (let delay = 0; ; delay = Math.min(delay + 1, 10)) {
      let count = 0;
      try {
        count = fs.readSync(fd, byte, 0, 1, null);
      } catch (error) {
        if (!hasCode(error, 'EAGAIN')) throw error;
      }
      if (count === 1) return 'released';
      if (!isAlive(process)) return 'exited';
      if (Date.now() > deadline) return 'timeout';
      await sleep(delay);
    }
  } finally {
    fs.closeSync(fd);
    await fsp.rm(fifo, { force: true });
  }
}
