/** `gantry rename CONTAINER NEW_NAME`, as docker's. */
import type { CommandSpec, ParsedArgs } from '../args.js';
import type { CommandContext } from '../context.js';

export const spec: CommandSpec = {
  name: 'rename',
  usage: 'rename CONTAINER NEW_NAME',
  description: 'Rename a container',
  minArgs: 2,
  maxArgs: 2,
  options: [],
};

export async function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const [reference, newName] = parsed.args as [string, string];
  const engine = await context.engine();
  await engine.rename(reference, newName);
  return 0;
}
