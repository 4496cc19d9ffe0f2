import { str, type CommandSpec, type ParsedArgs } from '../args.js';
import { parseWaitCondition } from '../../runtime/containers/wait.js';
import type { CommandContext } from '../context.js';
import { eachContainer } from './each-container.js';

export const spec: CommandSpec = {
  name: 'wait',
  usage: 'wait CONTAINER [CONTAINER...]',
  description: 'Block until one or more containers stop, then print their exit codes',
  minArgs: 1,
  options: [
    {
      name: 'condition',
      type: 'string',
      placeholder: 'condition',
      description:
        'Wait until the container is not-running (the default: at once if it is not), has ended its next-exit, or is removed',
    },
  ],
};

export async function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const condition = parseWaitCondition(str(parsed.options, 'condition') ?? 'not-running');
  const engine = await context.hostEngine();
  return eachContainer(
    parsed.args,
    context,
    (reference) => engine.wait(reference, { condition }),
    (_reference, code) => String(code),
  );
}
