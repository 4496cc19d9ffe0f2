import type { CommandSpec, ParsedArgs } from '../args.js';
import type { CommandContext } from '../context.js';
import { ALL_OPTION, eachContainer, targetContainers } from './each-container.js';

export const spec: CommandSpec = {
  name: 'pause',
  usage: 'pause [OPTIONS] CONTAINER [CONTAINER...] | --all',
  description: 'Pause all processes within one or more containers (cgroup freezer)',
  options: [ALL_OPTION('Pause all running containers', 'a')],
};

export async function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const engine = await context.hostEngine();
  const targets = await targetContainers(parsed, spec, engine, ['running']);
  return eachContainer(targets, context, (reference) => engine.pause(reference));
}
