import type { CommandSpec, ParsedArgs } from '../args.js';
import type { CommandContext } from '../context.js';
import { ALL_OPTION, eachContainer, targetContainers } from './each-container.js';

export const spec: CommandSpec = {
  name: 'unpause',
  usage: 'unpause [OPTIONS] CONTAINER [CONTAINER...] | --all',
  description: 'Unpause all processes within one or more containers',
  options: [ALL_OPTION('Unpause all paused containers', 'a')],
};

export async function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const engine = await context.hostEngine();
  const targets = await targetContainers(parsed, spec, engine, ['paused']);
  return eachContainer(targets, context, (reference) => engine.unpause(reference));
}
