/**
 * docker's multi-container commands (stop, rm, pause, wait...): the action runs for each
 * reference in turn; a success prints the reference (or what `output` makes of the result), a
 * failure is reported and the next reference is tried; the status is 1 if any failed.
 */
import { bool, UsageError, type CommandSpec, type OptionSpec, type ParsedArgs } from '../args.js';
import { write, type CommandContext } from '../context.js';
import type { ContainerRecord, ContainerStatus } from '../../runtime/containers/record.js';
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

/** podman's `--all` of start, stop, kill, pause and unpause. */
export const ALL_OPTION = (description: string, short?: string): OptionSpec => ({
  name: 'all',
  ...(short ? { short } : {}),
  type: 'boolean',
  description,
});

/**
 * The containers a command acts on: those named, or with --all every container whose state is
 * one of `states` (by full id, oldest first, as podman acts). Names beside --all are refused.
 */
export async function targetContainers(
  parsed: ParsedArgs,
  spec: CommandSpec,
  engine: { list(options: { all?: boolean }): Promise<{ records: ContainerRecord[] }> },
  states: readonly ContainerStatus[],
): Promise<string[]> {
  if (!bool(parsed.options, 'all')) {
    if (parsed.args.length === 0)
      throw new UsageError(
        `"gantry ${spec.name}" requires at least 1 argument (or --all).\nSee 'gantry ${spec.name} --help'.\n\nUsage:  gantry ${spec.usage}`,
      );
    return parsed.args;
  }
  if (parsed.args.length > 0)
    throw new UsageError(
      `--all and container names cannot be given together (--all acts on every ${states.join(' or ')} container)`,
    );
  const { records } = await engine.list({ all: true });
  return records
    .filter((record) => states.includes(record.State.Status))
    .reverse()
    .map((record) => record.Id);
}
