import { UsageError, type CommandSpec, type ParsedArgs } from '../args.js';
import { write, type CommandContext } from '../context.js';
import { reportError } from '../errors.js';
import { anyGiven, resourcesFromOptions, UPDATE_RESOURCE_OPTIONS } from './resource-options.js';

export const spec: CommandSpec = {
  name: 'update',
  usage: 'update [OPTIONS] CONTAINER [CONTAINER...]',
  description:
    'Update resource limits of one or more containers (at once if running or paused; kept for the next start)',
  minArgs: 1,
  options: UPDATE_RESOURCE_OPTIONS,
};

export async function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  if (!anyGiven(parsed.options, UPDATE_RESOURCE_OPTIONS)) {
    throw new UsageError(
      `you must provide one or more flags when using this command\nSee 'gantry update --help'.`,
    );
  }
  // Every value is checked before the first container changes.
  const resources = resourcesFromOptions(parsed.options, { update: true });
  const engine = await context.engine();
  let failed = 0;
  for (const reference of parsed.args) {
    try {
      await engine.update(reference, resources);
      write(context.stdout, reference);
    } catch (error) {
      reportError(error, context.stderr);
      failed = 1;
    }
  }
  return failed;
}
