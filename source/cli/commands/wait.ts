import type { CommandSpec, ParsedArgs } from '../args.js';
import { write, type CommandContext } from '../context.js';
import { reportError } from '../errors.js';

export const spec: CommandSpec = {
  name: 'wait',
  usage: 'wait CONTAINER [CONTAINER...]',
  description: 'Block until one or more containers stop, then print their exit codes',
  minArgs: 1,
  options: [],
};

export async function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const engine = await context.engine();
  let failed = 0;
  for (const reference of parsed.args) {
    try {
      write(context.stdout, String(await engine.wait(reference)));
    } catch (error) {
      reportError(error, context.stderr);
      failed = 1;
    }
  }
  return failed;
}
