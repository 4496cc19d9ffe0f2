/** `gantry top CONTAINER [ps OPTIONS]`: the container's processes, as docker's top prints them. */
import type { CommandSpec, ParsedArgs } from '../args.js';
import type { CommandContext } from '../context.js';

export const spec: CommandSpec = {
  name: 'top',
  usage: 'top CONTAINER [ps OPTIONS]',
  description:
    "Display the running processes of a container (the host's ps; options after the container go to it, default -ef)",
  stopAtFirstPositional: true,
  minArgs: 1,
  options: [],
};

/** docker's tabwriter: cells at least 20 wide, 3 spaces of padding, the last column as it is. */
export function formatTop(titles: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [titles, ...rows];
  const widths = titles.map((_, column) => Math.max(20, ...all.map((row) => (row[column] ?? '').length + 3)));
  return all
    .map((row) =>
      row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join(''),
    )
    .map((line) => `${line}\n`)
    .join('');
}

export async function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const [reference, ...psArgs] = parsed.args as [string, ...string[]];
  const engine = await context.engine();
  const result = await engine.top(reference, psArgs);
  context.stdout.write(formatTop(result.Titles, result.Processes));
  return 0;
}
