/**
 * docker's multi-container commands (stop, rm, pause, wait...): the action runs for each
 * reference in turn; a success prints the reference (or what `output` makes of the result), a
 * failure is reported and the next reference is tried; the status is 1 if any failed.
 */
import { write, type CommandContext } from '../context.js';
import { reportError } from '../errors.js';

export async function eachContainer<T>(
  references: readonly string[],
  context: CommandContext,
  action: (reference: string) => Promise<T>,
  output: (reference: string, result: T) => string = (reference) => reference,
): Promise<number> {
  let failed = 0;
  for (const reference of references) {
    try {
      write(context.stdout, output(reference, await action(reference)));
    } catch (error) {
      reportError(error, context.stderr);
      failed = 1;
    }
  }
  return failed;
}
