/**
 * Column widths for a table that must fit the terminal: columns are dropped lowest priority first
 * until the minimum widths fit, then flexible columns share what is left (up to their maximum).
 */

export interface ColumnSpec<Key extends string = string> {
  key: Key;
  title: string;
  /** Narrowest useful width. */
  min: number;
  /** Widest it grows to when there is room (defaults to `min`: fixed width). */
  max?: number;
  /** Higher stays longer when the terminal is narrow. */
  priority: number;
  align?: 'left' | 'right';
}

export interface FittedColumn<Key extends string = string> extends ColumnSpec<Key> {
  width: number;
}

/**
 * @param available columns of terminal width for the table
 * @param separator width taken per column by separators (one space between, one at each edge)
 */
export function fitColumns<Key extends string>(
  specs: readonly ColumnSpec<Key>[],
  available: number,
  separator = 1,
): FittedColumn<Key>[] {
  let kept = [...specs];
  const needed = (columns: readonly ColumnSpec<Key>[]) =>
    columns.reduce((sum, column) => sum + column.min + separator, separator);
  while (kept.length > 1 && needed(kept) > available) {
    const lowest = kept.reduce((low, column) => (column.priority < low.priority ? column : low));
    kept = kept.filter((column) => column !== lowest);
  }
  const widths = kept.map((column) => column.min);
  let spare = available - needed(kept);
  // Hand out the spare width one column at a time, so flexible columns grow evenly.
  while (spare > 0) {
    let grew = false;
    kept.forEach((column, index) => {
      if (spare > 0 && widths[index]! < (column.max ?? column.min)) {
        widths[index]! += 1;
        spare -= 1;
        grew = true;
      }
    });
    if (!grew) break;
  }
  if (spare < 0 && kept.length > 0) widths[0] = Math.max(1, widths[0]! + spare);
  return kept.map((column, index) => ({ ...column, width: widths[index]! }));
}

/** Pads or cuts `text` to exactly `width` columns. */
export function fitCell(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  const chars = [...text];
  if (chars.length > width)
    return width <= 1 ? chars.slice(0, width).join('') : `${chars.slice(0, width - 1).join('')}…`;
  const padding = ' '.repeat(width - chars.length);
  return align === 'right' ? padding + text : text + padding;
}
