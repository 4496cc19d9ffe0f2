import { bool, type CommandSpec, type ParsedArgs } from '../args.js';
import { write, type CommandContext } from '../context.js';
import { reportError } from '../errors.js';

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
  let failed = 0;
  for (const reference of parsed.args) {
    try {
      await engine.remove(reference, { force: bool(parsed.options, 'force') });
      write(context.stdout, reference);
    } catch (error) {
      reportError(error, context.stderr);
      failed = 1;
    }
  }
  return failed;
}
