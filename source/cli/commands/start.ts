import { bool, type CommandSpec, type ParsedArgs } from '../args.js';
import type { CommandContext } from '../context.js';
import { runAttached } from './attached.js';
import { eachContainer } from './each-container.js';

export const spec: CommandSpec = {
  name: 'start',
  usage: 'start [OPTIONS] CONTAINER [CONTAINER...]',
  description: 'Start one or more stopped containers',
  minArgs: 1,
  options: [
    { name: 'attach', short: 'a', type: 'boolean', description: 'Attach STDOUT/STDERR and forward signals' },
    { name: 'interactive', short: 'i', type: 'boolean', description: "Attach container's STDIN" },
  ],
};

export async function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  if (bool(parsed.options, 'attach') || bool(parsed.options, 'interactive')) {
    const engine = await context.engine();
    if (parsed.args.length > 1) {
      context.stderr.write('gantry: you cannot start and attach multiple containers at once\n');
      return 125;
    }
    const record = await engine.get(parsed.args[0]!);
    return runAttached(engine, record, {
      stdin: bool(parsed.options, 'interactive'),
      tty: record.Config.Tty,
    });
  }
  const engine = await context.hostEngine();
  return eachContainer(parsed.args, context, (reference) => engine.start(reference));
}
