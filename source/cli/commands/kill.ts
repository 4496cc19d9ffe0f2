import { str, type CommandSpec, type ParsedArgs } from '../args.js';
import { write, type CommandContext } from '../context.js';
import { reportError } from '../errors.js';
import { parseSignal } from '../../runtime/signals.js';

export const spec: CommandSpec = {
  name: 'kill',
  usage: 'kill [OPTIONS] CONTAINER [CONTAINER...]',
  description: 'Kill one or more running containers',
  minArgs: 1,
  options: [
    {
      name: 'signal',
      short: 's',
      type: 'string',
      description: 'Signal to send to the container (default SIGKILL)',
    },
  ],
};

export async function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const engine = await context.engine();
  const signal = parseSignal(str(parsed.options, 'signal') ?? 'SIGKILL');
  let failed = 0;
  for (const reference of parsed.args) {
    try {
      await engine.kill(reference, signal);
      write(context.stdout, reference);
    } catch (error) {
      reportError(error, context.stderr);
      failed = 1;
    }
  }
  return failed;
}
