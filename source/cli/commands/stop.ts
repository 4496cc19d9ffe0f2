import { num, type CommandSpec, type ParsedArgs } from '../args.js';
import { write, type CommandContext } from '../context.js';
import { reportError } from '../errors.js';

export const spec: CommandSpec = {
  name: 'stop',
  usage: 'stop [OPTIONS] CONTAINER [CONTAINER...]',
  description: 'Stop one or more running containers (SIGTERM, then SIGKILL after the timeout)',
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
  const timeout = num(parsed.options, 'time');
  if (timeout !== undefined && (timeout < 0 || !Number.isInteger(timeout))) {
    context.stderr.write('gantry: --time must be a whole number of seconds, 0 or more\n');
    return 125;
  }
  let failed = 0;
  for (const reference of parsed.args) {
    try {
      await engine.stop(reference, timeout);
      write(context.stdout, reference);
    } catch (error) {
      reportError(error, context.stderr);
      failed = 1;
    }
  }
  return failed;
}
