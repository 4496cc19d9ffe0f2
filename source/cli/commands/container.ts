/**
 * `gantry container VERB`: docker's management command. Every container command is reached as
 * `container VERB` by the dispatcher (registry.ts); what arrives here is the internal `cleanup`
 * (run by a container's monitor when it exits), `prune`, or a verb that names no container command.
 */
import { formatHelp, parseArgs, type CommandSpec, type ParsedArgs } from '../args.js';
import type { CommandContext } from '../context.js';
import { containerVerbs } from '../registry.js';

export const spec: CommandSpec = {
  name: 'container',
  usage: 'container COMMAND',
  description: 'Manage containers: `gantry container ls`, `container rm`, ... (every container command)',
  stopAtFirstPositional: true,
  minArgs: 1,
  options: [],
};

export async function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const [subcommand, id, ...extra] = parsed.args;
  if (subcommand === 'prune') {
    const prune = await import('./container-prune.js');
    const pruneArgs = parseArgs(prune.spec, parsed.args.slice(1));
    if (pruneArgs.help) {
      context.stdout.write(formatHelp(prune.spec));
      return 0;
    }
    return prune.run(pruneArgs, context);
  }
  if (subcommand !== 'cleanup') {
    context.stderr.write(
      `gantry: unknown container command ${JSON.stringify(subcommand)}; accepted: ${[...containerVerbs(), 'prune'].sort().join(', ')}\n`,
    );
    return 125;
  }
  if (id === undefined || extra.length > 0) {
    context.stderr.write('gantry: "container cleanup" takes exactly one container\n');
    return 125;
  }
  const engine = await context.engine();
  await engine.cleanup(id);
  return 0;
}
