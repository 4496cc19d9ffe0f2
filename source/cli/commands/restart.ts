import { num, type CommandSpec, type ParsedArgs } from '../args.js';
import { write, type CommandContext } from '../context.js';
import { reportError } from '../errors.js';

export const spec: CommandSpec = {
  name: 'restart',
  usage: 'restart [OPTIONS] CONTAINER [CONTAINER...]',
  description: 'Restart one or more containers',
  minArgs: 1,
  options: [
    {
      name: 'time',
      short: 't',
      type: 'number',
      placeholder: 'seconds',
      description: 'Seconds to wait before killing the container (default 10)',
    },
  ],
};

export async function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const engine = await context.engine();
  let failed = 0;
  for (const reference of parsed.args) {
    try {
      await engine.restart(reference, num(parsed.options, 'time'));
      write(context.stdout, reference);
    } catch (error) {
      reportError(error, context.stderr);
      failed = 1;
    }
  }
  return failed;
}
