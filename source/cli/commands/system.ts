/**
 * `gantry system service --stdio`: the engine served over stdin/stdout in the remote protocol,
 * for a client whose ssh started this process. It exits when its input ends; nothing listens.
 */
import { bool, type CommandSpec, type ParsedArgs } from '../args.js';
import type { CommandContext } from '../context.js';
import { InvalidArgumentError } from '../../runtime/errors.js';

export const spec: CommandSpec = {
  name: 'system',
  usage: 'system service --stdio',
  description: 'Serve the engine to a remote gantry (over ssh) on stdin and stdout',
  minArgs: 1,
  maxArgs: 1,
  options: [
    {
      name: 'stdio',
      type: 'boolean',
      description: 'Speak the remote protocol on stdin/stdout until stdin ends (the only transport)',
    },
  ],
};

export async function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  if (parsed.args[0] !== 'service')
    throw new InvalidArgumentError(
      `unknown system command ${JSON.stringify(parsed.args[0])}: accepted is service`,
    );
  if (!bool(parsed.options, 'stdio'))
    throw new InvalidArgumentError(
      'system service needs --stdio: it serves only on stdin and stdout, never on a socket',
    );
  const [{ serve }, { LocalHostEngine }] = await Promise.all([
    import('../../runtime/remote/server.js'),
    import('../../runtime/remote/host-engine.js'),
  ]);
  const engine = new LocalHostEngine(await context.engine());
  await serve(engine, { input: process.stdin, output: process.stdout });
  return 0;
}
