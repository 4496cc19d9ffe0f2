/**
 * How many rows each part of the screen gets, from the terminal size. The reducers use it to keep
 * the selection in view and the components to size themselves, so both agree.
 */
import type { TerminalSize } from './types.js';

/** Tab bar, status line, footer, and one row Ink needs free below a frame to redraw in place. */
export const FRAME_ROWS = 4;
export const MIN_SIZE: TerminalSize = { columns: 40, rows: 10 };

export function paneHeight(size: TerminalSize): number {
  return Math.max(3, size.rows - FRAME_ROWS);
}

/** Rows of the detail strip under the container and image tables (none on short terminals). */
export function detailHeight(size: TerminalSize): number {
  return paneHeight(size) >= 14 ? 3 : 0;
}

/** Container or image table rows (the table's header row excluded). */
export function tableHeight(size: TerminalSize): number {
  return Math.max(1, paneHeight(size) - 1 - detailHeight(size));
}

/** Rows of the layer list: all of it when the tree is closed, a third of the pane when it is open. */
export function layerListHeight(size: TerminalSize, layerCount: number, treeOpen: boolean): number {
  const available = paneHeight(size) - 2;
  if (!treeOpen) return Math.max(1, Math.min(layerCount, available - 4));
  return Math.max(1, Math.min(layerCount, Math.floor(paneHeight(size) / 3)));
}

/** Rows of the file tree under the layer list (its title and column header take two). */
export function treeHeight(size: TerminalSize, layerCount: number): number {
  return Math.max(1, paneHeight(size) - 2 - layerListHeight(size, layerCount, true) - 2);
}

/** Rows of log text (one row is the pane's header). */
export function logHeight(size: TerminalSize): number {
  return Math.max(1, paneHeight(size) - 1);
}

/** Keeps `cursor` inside a window of `height` rows starting at `scrollTop`. */
export function scrollToShow(cursor: number, scrollTop: number, height: number, count: number): number {
  if (count <= height) return 0;
  let top = scrollTop;
  if (cursor < top) top = cursor;
  if (cursor >= top + height) top = cursor - height + 1;
  return Math.max(0, Math.min(top, count - height));
}
