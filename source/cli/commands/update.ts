import { UsageError, type CommandSpec, type ParsedArgs } from '../args.js';
import type { CommandContext } from '../context.js';
import { anyGiven, resourcesFromOptions, UPDATE_RESOURCE_OPTIONS } from './resource-options.js';
import { eachContainer } from './each-container.js';

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
  const engine = await context.hostEngine();
  return eachContainer(parsed.args, context, (reference) => engine.update(reference, resources));
}
