import { bool, type CommandSpec, type ParsedArgs } from '../args.js';
import type { CommandContext } from '../context.js';
import { runAttached, runAttachedRemote } from './attached.js';
import { ALL_OPTION, eachContainer, targetContainers } from './each-container.js';

export const spec: CommandSpec = {
  name: 'start',
  usage: 'start [OPTIONS] CONTAINER [CONTAINER...] | --all',
  description: 'Start one or more stopped containers',
  options: [
    ALL_OPTION('Start all created and stopped containers'),
    { name: 'attach', short: 'a', type: 'boolean', description: 'Attach STDOUT/STDERR and forward signals' },
    { name: 'interactive', short: 'i', type: 'boolean', description: "Attach container's STDIN" },
  ],
};

export async function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  if (bool(parsed.options, 'attach') || bool(parsed.options, 'interactive')) {
    if (context.host !== undefined) return startAttachedRemote(parsed, context);
    const engine = await context.engine();
    if (parsed.args.length > 1 || bool(parsed.options, 'all')) {
      context.stderr.write('gantry: you cannot start and attach multiple containers at once\n');
      return 125;
    }
    if (parsed.args.length === 0) await targetContainers(parsed, spec, engine, []);
    const record = await engine.get(parsed.args[0]!);
    return runAttached(engine, record, {
      stdin: bool(parsed.options, 'interactive'),
      tty: record.Config.Tty,
    });
  }
  const engine = await context.hostEngine();
  const targets = await targetContainers(parsed, spec, engine, ['created', 'exited']);
  return eachContainer(targets, context, (reference) => engine.start(reference));
}

async function startAttachedRemote(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const engine = await context.hostEngine();
  if (parsed.args.length > 1 || bool(parsed.options, 'all')) {
    context.stderr.write('gantry: you cannot start and attach multiple containers at once\n');
    return 125;
  }
  if (parsed.args.length === 0) await targetContainers(parsed, spec, engine, []);
  const record = await engine.get(parsed.args[0]!);
  return runAttachedRemote(engine, record, {
    stdin: bool(parsed.options, 'interactive'),
    tty: record.Config.Tty,
  });
}
