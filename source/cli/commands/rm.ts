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
  ],
};

export async function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const engine = await context.engine();
  const force = bool(parsed.options, 'force');
  return eachContainer(parsed.args, context, (reference) => engine.remove(reference, { force }));
}
