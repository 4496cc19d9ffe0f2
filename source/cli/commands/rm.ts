import { bool, type CommandSpec, type ParsedArgs } from '../args.js';
import type { CommandContext } from '../context.js';
import { eachContainer } from './each-container.js';

export const spec: CommandSpec = {
  name: 'rm',
  usage: 'rm [OPTIONS] CONTAINER [CONTAINER...]',
  description: 'Remove one or more containers',
  minArgs: 1,
  options: [
    {
      name: 'force',
      short: 'f',
      type: 'boolean',
      description: 'Force the removal of a running container (uses SIGKILL)',
    },
    {
      name: 'volumes',
      short: 'v',
      type: 'boolean',
      description: 'Remove anonymous volumes associated with the container',
    },
  ],
};

export async function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const engine = await context.hostEngine();
  const force = bool(parsed.options, 'force');
  const volumes = bool(parsed.options, 'volumes');
  return eachContainer(parsed.args, context, (reference) => engine.remove(reference, { force, volumes }));
}
