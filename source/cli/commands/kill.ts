import { str, type CommandSpec, type ParsedArgs } from '../args.js';
import type { CommandContext } from '../context.js';
import { parseSignal } from '../../runtime/signals.js';
import { ALL_OPTION, eachContainer, targetContainers } from './each-container.js';

export const spec: CommandSpec = {
  name: 'kill',
  usage: 'kill [OPTIONS] CONTAINER [CONTAINER...] | --all',
  description: 'Kill one or more running containers',
  options: [
    ALL_OPTION('Kill all running containers', 'a'),
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
  const targets = await targetContainers(parsed, spec, engine, ['running', 'paused']);
  return eachContainer(targets, context, (reference) => engine.kill(reference, signal));
}
