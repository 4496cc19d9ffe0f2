/** How the CLI reports a failure: one line that says what was wrong, a hint, docker's exit code. */
import { GantryError } from '../runtime/errors.js';

export function reportError(error: unknown, stderr: NodeJS.WritableStream): number {
  if (error instanceof GantryError) {
    stderr.write(`gantry: ${error.message}\n`);
    if (error.hint) stderr.write(`hint: ${error.hint}\n`);
    return error.exitCode;
  }
  const message =
    error instanceof Error
      ? process.env.GANTRY_DEBUG
        ? (error.stack ?? error.message)
        : error.message
      : String(error);
  stderr.write(`gantry: ${message}\n`);
  return 125;
}

/**
 * `gantry image ls | head -1`: the reader is gone, which is not an error worth a stack trace.
 * Exit at once with the status of a process ended by SIGPIPE, as docker (Go) does; whatever was
 * under way is reconciled by the next command as after any interruption (an attached container's
 * monitor sees its client go and records the end itself).
 */
export function exitQuietlyOnClosedPipe(...streams: NodeJS.WritableStream[]): void {
  for (const stream of streams) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(141);
      throw error;
    });
  }
}
