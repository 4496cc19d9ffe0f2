import type { CommandSpec, ParsedArgs } from '../args.js';
import type { CommandContext } from '../context.js';
import { eachContainer } from './each-container.js';
import { STOP_TIME_OPTIONS, stopTimeout } from './stop.js';

export const spec: CommandSpec = {
  name: 'restart',
  usage: 'restart [OPTIONS] CONTAINER [CONTAINER...]',
  description: 'Restart one or more containers',
  minArgs: 1,
  options: [...STOP_TIME_OPTIONS],
};

export async function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const engine = await context.hostEngine();
  const timeout = stopTimeout(parsed);
  return eachContainer(parsed.args, context, (reference) => engine.restart(reference, timeout));
}
