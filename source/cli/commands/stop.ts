import { num, type CommandSpec, type OptionSpec, type ParsedArgs } from '../args.js';
import type { CommandContext } from '../context.js';
import { InvalidArgumentError } from '../../runtime/errors.js';
import { eachContainer } from './each-container.js';

/** -t: how long stop (and restart) waits after the stop signal before SIGKILL. */
export const STOP_TIME_OPTION: OptionSpec = {
  name: 'time',
  short: 't',
  type: 'number',
  placeholder: 'seconds',
  description: 'Seconds to wait before killing the container (default 10; -1 waits for ever)',
};

/** -t as docker takes it: whole seconds, 0 or more, or -1 for no limit. */
export function stopTimeout(parsed: ParsedArgs): number | undefined {
  const timeout = num(parsed.options, 'time');
  if (timeout === undefined) return undefined;
  if (timeout === -1) return Number.POSITIVE_INFINITY;
  if (timeout < 0 || !Number.isInteger(timeout)) {
    throw new InvalidArgumentError(
      `invalid --time ${timeout}: give a whole number of seconds, 0 or more, or -1 to wait for ever`,
    );
  }
  return timeout;
}

export const spec: CommandSpec = {
  name: 'stop',
  usage: 'stop [OPTIONS] CONTAINER [CONTAINER...]',
  description: 'Stop one or more running containers (SIGTERM, then SIGKILL after the timeout)',
  minArgs: 1,
  options: [STOP_TIME_OPTION],
};

export async function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const engine = await context.hostEngine();
  const timeout = stopTimeout(parsed);
  return eachContainer(parsed.args, context, (reference) => engine.stop(reference, timeout));
}
