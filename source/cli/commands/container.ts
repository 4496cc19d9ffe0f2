import type { CommandSpec, ParsedArgs } from '../args.js';
import type { CommandContext } from '../context.js';

export const spec: CommandSpec = {
  name: 'container',
  usage: 'container cleanup CONTAINER',
  description: 'Internal: record the end of a container (run by its monitor when it exits)',
  minArgs: 2,
  maxArgs: 2,
  options: [],
};

export async function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const [subcommand, id] = parsed.args;
  if (subcommand !== 'cleanup') {
    context.stderr.write(
      `gantry: unknown container subcommand ${JSON.stringify(subcommand)}; accepted: cleanup\n`,
    );
    return 125;
  }
  const engine = await context.engine();
  await engine.cleanup(id!);
  return 0;
}
