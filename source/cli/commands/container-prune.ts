/** `gantry container prune [-f] [--filter until=|label=]`: removes every stopped container. */
import { bool, list, type CommandSpec, type ParsedArgs } from '../args.js';
import { confirm } from '../confirm.js';
import { write, type CommandContext } from '../context.js';
import { reportError } from '../errors.js';
import { humanSize } from '../format.js';

export const spec: CommandSpec = {
  name: 'container prune',
  usage: 'container prune [OPTIONS]',
  description: 'Remove all stopped containers',
  maxArgs: 0,
  options: [
    { name: 'force', short: 'f', type: 'boolean', description: 'Do not prompt for confirmation' },
    {
      name: 'filter',
      type: 'list',
      description:
        'Provide filter values: until=TIMESTAMP|DURATION (created before), label=KEY[=VALUE], label!=KEY[=VALUE]',
    },
  ],
};

export async function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const { parsePruneFilters, pruneContainers } = await import('../../runtime/containers/prune.js');
  // A bad filter is refused before the question is asked.
  const filters = parsePruneFilters(list(parsed.options, 'filter'));
  if (!bool(parsed.options, 'force')) {
    const question =
      'WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ';
    if (!(await confirm(question, context))) {
      if (!process.stdin.isTTY) context.stdout.write('\n');
      return 0;
    }
  }
  const engine = await context.engine();
  let failed = 0;
  const result = await pruneContainers(engine, filters, (error) => {
    reportError(error, context.stderr);
    failed = 1;
  });
  if (result.deleted.length > 0) {
    write(context.stdout, `Deleted Containers:\n${result.deleted.join('\n')}`);
    write(context.stdout, '');
  }
  write(context.stdout, `Total reclaimed space: ${humanSize(result.reclaimed)}`);
  return failed;
}
