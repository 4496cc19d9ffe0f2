import { str, type CommandSpec, type ParsedArgs } from '../args.js';
import type { CommandContext } from '../context.js';
import { parseSignal } from '../../runtime/signals.js';
import { eachContainer } from './each-container.js';

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
  const engine = await context.hostEngine();
  const signal = parseSignal(str(parsed.options, 'signal') ?? 'SIGKILL');
  return eachContainer(parsed.args, context, (reference) => engine.kill(reference, signal));
}
