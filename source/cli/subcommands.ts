/**
 * The dispatch every command group shares (`image`, `volume`, `network`, `pod`, `kube`): find
 * the subcommand by name or alias, refuse an unknown one saying which are accepted, parse its
 * arguments and answer its --help.
 */
import { formatHelp, parseArgs, UsageError, type CommandSpec, type ParsedArgs } from './args.js';
import type { CommandContext } from './context.js';

/** The subcommand's name and parsed arguments; undefined when its help was printed. */
export function pickSubcommand(
  group: string,
  subcommands: Record<string, CommandSpec>,
  args: readonly string[],
  context: CommandContext,
): [string, ParsedArgs] | undefined {
  const [name, ...rest] = args;
  const entry = Object.entries(subcommands).find(
    ([key, value]) => key === name || (name !== undefined && value.aliases?.includes(name)),
  );
  if (!entry) {
    throw new UsageError(
      `unknown ${group} command ${JSON.stringify(name)}; accepted: ${Object.keys(subcommands).join(', ')}\nSee 'gantry ${group} --help'.`,
    );
  }
  const [verb, spec] = entry;
  const parsed = parseArgs(spec, rest);
  if (parsed.help) {
    context.stdout.write(formatHelp(spec));
    return undefined;
  }
  return [verb, parsed];
}
