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
