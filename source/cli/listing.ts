/**
 * How the `ls` and `inspect` subcommands print, one way for volumes, networks, images and
 * containers: `-q` prints one column, `--json` an array, `--format` a template (docker's `table`
 * rules included), nothing a default table; inspect prints a JSON array (or a template per
 * result) of what could be found and reports the rest, exiting 1 if any was missing.
 */
import { bool, str, type ParsedArgs } from './args.js';
import { write, type CommandContext } from './context.js';
import { reportError } from './errors.js';
import { table } from './format.js';
import { formatRows, renderTemplate } from './template.js';

export interface Listing<Row extends object> {
  rows: readonly Row[];
  /** What -q prints of a row. */
  quiet: (row: Row) => string;
  /** The default table: column titles and each row's cells. */
  columns: readonly string[];
  cells: (row: Row) => readonly string[];
  /** Column titles of `--format 'table {{.Field}}'`, by field. */
  headers: Record<string, string>;
}

export function printListing<Row extends object>(
  parsed: ParsedArgs,
  context: CommandContext,
  listing: Listing<Row>,
): void {
  const { rows } = listing;
  if (bool(parsed.options, 'quiet')) {
    for (const row of rows) write(context.stdout, listing.quiet(row));
    return;
  }
  if (bool(parsed.options, 'json')) {
    write(context.stdout, JSON.stringify(rows, null, 2));
    return;
  }
  const defaultTable = () => table(listing.columns, rows.map(listing.cells));
  const format = str(parsed.options, 'format');
  context.stdout.write(
    format === undefined
      ? defaultTable()
      : formatRows(format, rows, { headers: listing.headers, defaultTable }),
  );
}

/**
 * Inspects each reference with `inspect`, reporting the ones that fail; prints the results as a
 * JSON array or `--format` per result. `printEmpty: false` leaves out the `[]` when every
 * reference failed. Returns the exit code.
 */
export async function printInspected(
  parsed: ParsedArgs,
  context: CommandContext,
  inspect: (reference: string) => Promise<unknown>,
  { printEmpty = true }: { printEmpty?: boolean } = {},
): Promise<number> {
  const results: unknown[] = [];
  let failed = 0;
  for (const reference of parsed.args) {
    try {
      results.push(await inspect(reference));
    } catch (error) {
      reportError(error, context.stderr);
      failed = 1;
    }
  }
  const format = str(parsed.options, 'format');
  if (format !== undefined)
    for (const result of results)
      write(context.stdout, renderTemplate(format, result, { missing: 'no-value' }));
  else if (printEmpty || results.length > 0 || failed === 0)
    write(context.stdout, JSON.stringify(results, null, 4));
  return failed;
}
