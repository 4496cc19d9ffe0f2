import type { CommandSpec, ParsedArgs } from '../args.js';
import type { CommandContext } from '../context.js';
import { eachContainer } from './each-container.js';

export const spec: CommandSpec = {
  name: 'wait',
  usage: 'wait CONTAINER [CONTAINER...]',
  description: 'Block until one or more containers stop, then print their exit codes',
  minArgs: 1,
  options: [],
};

export async function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const engine = await context.engine();
  return eachContainer(
    parsed.args,
    context,
    (reference) => engine.wait(reference),
    (_reference, code) => String(code),
  );
}
