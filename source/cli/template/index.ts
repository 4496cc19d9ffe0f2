/**
 * docker's --format: Go text/template (lexer.ts, parser.ts, exec.ts, functions.ts), written for
 * gantry because no maintained, licensed TypeScript implementation with pipes, range, with,
 * variables and custom functions exists on npm. `formatRows` adds docker's list conventions:
 * `json` for one JSON object per row, and `table ...` for a header row of column titles above
 * rows aligned as Go's tabwriter aligns them.
 */
import { Executor } from './exec.js';
import { FUNCTIONS, HEADER_FUNCTIONS } from './functions.js';
import { parse, type Node } from './parser.js';

export { TemplateError, TemplateExecError } from './errors.js';

export interface TemplateOptions {
  /**
   * What a field the value does not have gives: "error" (docker's typed rows: ps, images, stats,
   * events) or "<no value>" (docker inspect, which falls back to the raw JSON map).
   */
  missing?: 'error' | 'no-value';
}

const NAMES = new Set(Object.keys(FUNCTIONS));

export interface Template {
  execute(value: unknown): string;
}

/** docker's preFormat: `\t` and `\n` typed on a command line are a tab and a newline. */
function unescapeCommandLine(template: string): string {
  return template.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
}

export function compileTemplate(template: string, options: TemplateOptions = {}): Template {
  const nodes: Node[] = parse(unescapeCommandLine(template), NAMES);
  return {
    execute: (value) =>
      new Executor(value, { missing: options.missing ?? 'error', functions: FUNCTIONS }).run(nodes),
  };
}

export function renderTemplate(template: string, value: unknown, options: TemplateOptions = {}): string {
  return compileTemplate(template, options).execute(value);
}

export interface RowFormat {
  /** Column titles by field, as docker's header context names them ("ID": "CONTAINER ID"). */
  headers: Readonly<Record<string, string>>;
  /** The command's default table (no --format, or `--format table`). */
  defaultTable(): string;
}

/** A field's title when the command names none: "RunningFor" -> "RUNNING FOR". */
function titleOf(field: string): string {
  return field.replace(/([a-z])([A-Z])/g, '$1 $2').toUpperCase();
}

/**
 * Rows as docker prints a list with --format: `json` (one object per line), `table` (the default
 * table), `table TEMPLATE` (a header row, then rows, aligned), or TEMPLATE (a line per row).
 */
export function formatRows(format: string, rows: readonly object[], rowFormat: RowFormat): string {
  if (format.trim() === 'json') return rows.map((row) => `${JSON.stringify(row)}\n`).join('');
  if (!format.startsWith('table')) {
    const template = compileTemplate(format.trim());
    return rows.map((row) => `${template.execute(row)}\n`).join('');
  }
  const body = format.slice('table'.length).trim();
  if (body === '') return rowFormat.defaultTable();
  const nodes = parse(unescapeCommandLine(body), NAMES);
  const header: Record<string, unknown> = {};
  for (const key of new Set([...Object.keys(rows[0] ?? {}), ...Object.keys(rowFormat.headers)])) {
    const title = rowFormat.headers[key] ?? titleOf(key);
    header[key] =
      typeof (rows[0] as Record<string, unknown> | undefined)?.[key] === 'function' ? () => title : title;
  }
  const lines = [
    new Executor(header, { missing: 'no-value', functions: HEADER_FUNCTIONS, header: true }).run(nodes),
    ...rows.map((row) => new Executor(row, { missing: 'error', functions: FUNCTIONS }).run(nodes)),
  ];
  return tabwrite(`${lines.join('\n')}\n`);
}

const MIN_WIDTH = 10;
const PADDING = 3;

/**
 * Go's tabwriter as docker configures it (minwidth 10, padding 3, spaces): a tab ends a cell, and
 * each column of cells in consecutive lines is as wide as its widest cell plus the padding.
 */
export function tabwrite(text: string): string {
  const lines = text.split('\n').map((line) => line.split('\t'));
  const widths: number[][] = lines.map(() => []);
  const width = (cell: string) => [...cell].length;
  const block = (from: number, to: number, column: number): void => {
    for (let row = from; row < to; row++) {
      if (column >= lines[row]!.length - 1) continue;
      const start = row;
      let columnWidth = MIN_WIDTH;
      for (; row < to && column < lines[row]!.length - 1; row++)
        columnWidth = Math.max(columnWidth, width(lines[row]![column]!) + PADDING);
      for (let member = start; member < row; member++) widths[member]![column] = columnWidth;
      block(start, row, column + 1);
    }
  };
  block(0, lines.length, 0);
  return lines
    .map((cells, row) =>
      cells
        .map((cell, column) =>
          column === cells.length - 1 ? cell : cell + ' '.repeat(widths[row]![column]! - width(cell)),
        )
        .join(''),
    )
    .join('\n');
}
