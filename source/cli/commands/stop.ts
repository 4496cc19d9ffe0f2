import { num, type CommandSpec, type OptionSpec, type ParsedArgs } from '../args.js';
import type { CommandContext } from '../context.js';
import { InvalidArgumentError } from '../../runtime/errors.js';
import { ALL_OPTION, eachContainer, targetContainers } from './each-container.js';

/**
 * -t/--timeout (docker's current name; --time is its older one, still taken): how long stop (and
 * restart) waits after the stop signal before SIGKILL.
 */
export const STOP_TIME_OPTIONS: OptionSpec[] = [
  {
    name: 'timeout',
    short: 't',
    type: 'number',
    placeholder: 'seconds',
    description: 'Seconds to wait before killing the container (default 10; -1 waits for ever)',
  },
  { name: 'time', type: 'number', placeholder: 'seconds', description: 'Same as --timeout', hidden: true },
];

/** -t as docker takes it: whole seconds, 0 or more, or -1 for no limit. */
export function stopTimeout(parsed: ParsedArgs): number | undefined {
  const timeout = num(parsed.options, 'timeout') ?? num(parsed.options, 'time');
  if (timeout === undefined) return undefined;
  if (timeout === -1) return Number.POSITIVE_INFINITY;
  if (timeout < 0 || !Number.isInteger(timeout)) {
    throw new InvalidArgumentError(
      `invalid --timeout ${timeout}: give a whole number of seconds, 0 or more, or -1 to wait for ever`,
    );
  }
  return timeout;
}

export const spec: CommandSpec = {
  name: 'stop',
  usage: 'stop [OPTIONS] CONTAINER [CONTAINER...] | --all',
  description: 'Stop one or more running containers (SIGTERM, then SIGKILL after the timeout)',
  options: [...STOP_TIME_OPTIONS, ALL_OPTION('Stop all running containers', 'a')],
};

export async function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const engine = await context.hostEngine();
  const timeout = stopTimeout(parsed);
  const targets = await targetContainers(parsed, spec, engine, ['running', 'paused']);
  return eachContainer(targets, context, (reference) => engine.stop(reference, timeout));
}
