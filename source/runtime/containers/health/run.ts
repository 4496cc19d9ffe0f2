/**
 * `healthcheck run`: asks the container's monitor to run a check now (FRAME_HEALTH on its attach
 * socket) and waits for the status after it, so the monitor stays the one writer of the health
 * state and the check runs exactly as the scheduled ones do.
 */
import fs from 'node:fs';
import net from 'node:net';
import { ConflictError, GantryError } from '../../errors.js';
import { FILES, type EngineCore } from '../core.js';
import type { ContainerRecord } from '../record.js';
import { hasHealthcheck, type HealthState } from './state.js';

/** Frame types of the monitor's attach protocol (native/helper.h). */
const FRAME_HEALTH = 8;

/** The container has no health check (none in its image, none given, or --no-healthcheck). */
export class NoHealthcheckError extends GantryError {}

export async function runHealthcheck(
  core: EngineCore,
  record: ContainerRecord,
): Promise<HealthState['Status']> {
  if (!hasHealthcheck(record)) {
    throw new NoHealthcheckError(`container ${record.Name} has no defined healthcheck`, {
      hint: 'give one with --health-cmd at create, or use an image with a HEALTHCHECK',
    });
  }
  const notRunning = () =>
    new ConflictError(`container ${record.Name} is not running`, {
      hint: `start it first: gantry start ${record.Name}`,
    });
  if (record.State.Status !== 'running' || record.State.Restarting) throw notRunning();
  // The socket's path may be longer than a socket address holds; the directory's descriptor
  // makes it short.
  const directory = fs.openSync(
    core.containers.dir(record.Id),
    fs.constants.O_RDONLY | fs.constants.O_DIRECTORY,
  );
  try {
    const answer = await askMonitor(`/proc/self/fd/${directory}/${FILES.attach}`);
    if (answer === 'stopped' || answer === undefined) throw notRunning();
    if (answer === 'none')
      throw new NoHealthcheckError(`container ${record.Name} has no defined healthcheck`);
    return answer as HealthState['Status'];
  } finally {
    fs.closeSync(directory);
  }
}

function askMonitor(socketPath: string): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(socketPath);
    let buffer = Buffer.alloc(0);
    let settled = false;
    const finish = (value: string | undefined) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(value);
    };
    socket.on('connect', () => socket.write(Buffer.from([FRAME_HEALTH, 0, 0, 0, 0])));
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      // Other frames (the container's output) go by; the answer is the health frame.
      while (buffer.length >= 5) {
        const length = buffer.readUInt32BE(1);
        if (buffer.length < 5 + length) break;
        const type = buffer[0];
        const payload = buffer.subarray(5, 5 + length).toString('utf8');
        buffer = buffer.subarray(5 + length);
        if (type === FRAME_HEALTH) return finish(payload);
      }
    });
    socket.on('end', () => finish(undefined));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED') resolve(undefined);
      else
        reject(new GantryError(`cannot reach the container's monitor: ${error.message}`, { cause: error }));
    });
  });
}
