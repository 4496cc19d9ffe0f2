/**
 * The inspect view (`i`): a container's or an image's `gantry inspect` JSON, scrollable and
 * searchable, with `y` copying the id to the clipboard (OSC 52). Its state lives in the overlay;
 * this file is its reducer and its key handling, pure like the rest of state/.
 */
import type { CommandId } from '../keymap/keymap.js';
import { realId } from '../hosts/keys.js';
import { paneHeight } from './layout.js';
import type { Action, Effect, FilterState, Overlay, TuiState } from './types.js';

export type InspectOverlay = Extract<Overlay, { kind: 'inspect' }>;

export function inspectOverlay(state: TuiState): InspectOverlay | undefined {
  const overlay = state.ui.overlay;
  return overlay?.kind === 'inspect' ? overlay : undefined;
}

/** The view opened on a subject, its JSON not read yet. */
export function openInspect(subject: 'container' | 'image', id: string, name: string): InspectOverlay {
  return {
    kind: 'inspect',
    subject,
    id,
    name,
    lines: undefined,
    error: undefined,
    scroll: 0,
    search: { text: '', editing: false },
    match: undefined,
  };
}

/** Rows of JSON on screen: the pane less its title row. */
export function inspectHeight(state: TuiState): number {
  return Math.max(1, paneHeight(state.ui.size) - 1);
}

/** Indexes of the lines that contain the search text (case-insensitive). */
export function matchingLines(lines: readonly string[], text: string): number[] {
  if (!text) return [];
  const wanted = text.toLowerCase();
  const found: number[] = [];
  lines.forEach((line, index) => {
    if (line.toLowerCase().includes(wanted)) found.push(index);
  });
  return found;
}

function clampScroll(state: TuiState, overlay: InspectOverlay, scroll: number): number {
  const last = Math.max(0, (overlay.lines?.length ?? 0) - inspectHeight(state));
  return Math.max(0, Math.min(last, scroll));
}

/** The overlay with the line `index` in view, a third down the screen when it was out of it. */
function showLine(state: TuiState, overlay: InspectOverlay, index: number): InspectOverlay {
  const height = inspectHeight(state);
  const inView = index >= overlay.scroll && index < overlay.scroll + height;
  const scroll = inView ? overlay.scroll : clampScroll(state, overlay, index - Math.floor(height / 3));
  return { ...overlay, match: index, scroll };
}

/** The next (or previous) match from the current one, wrapping around. */
function stepMatch(
  state: TuiState,
  overlay: InspectOverlay,
  direction: 1 | -1,
  fromTop = false,
): InspectOverlay {
  const matches = matchingLines(overlay.lines ?? [], overlay.search.text);
  if (matches.length === 0) return { ...overlay, match: undefined };
  const current = fromTop ? (direction === 1 ? -1 : Infinity) : (overlay.match ?? overlay.scroll - direction);
  const next =
    direction === 1
      ? (matches.find((index) => index > current) ?? matches[0]!)
      : (matches.findLast((index) => index < current) ?? matches.at(-1)!);
  return showLine(state, overlay, next);
}

export function reduceInspect(state: TuiState, action: Action): TuiState {
  const overlay = inspectOverlay(state);
  if (!overlay) return state;
  const write = (next: InspectOverlay): TuiState => ({ ...state, ui: { ...state.ui, overlay: next } });
  switch (action.type) {
    case 'inspect/loaded':
      if (action.id !== overlay.id) return state;
      return write({ ...overlay, lines: action.lines, error: undefined });
    case 'inspect/failed':
      if (action.id !== overlay.id) return state;
      return write({ ...overlay, error: action.error });
    case 'inspect/scroll': {
      const target =
        action.edge === 'top' ? 0 : action.edge === 'bottom' ? Infinity : overlay.scroll + action.delta;
      return write({ ...overlay, scroll: clampScroll(state, overlay, target) });
    }
    case 'inspect/search': {
      const search: FilterState = { text: action.text, editing: action.editing };
      const next = { ...overlay, search };
      // While typing, the first match from the top is shown; Enter keeps it.
      return write(search.text ? stepMatch(state, next, 1, true) : { ...next, match: undefined });
    }
    case 'inspect/match':
      return write(stepMatch(state, overlay, action.direction));
    default:
      return state;
  }
}

export interface InspectResult {
  actions: Action[];
  effects: Effect[];
}

/** What a command does while the inspect view is open; undefined for commands it leaves alone. */
export function inspectCommand(state: TuiState, command: CommandId, now: number): InspectResult | undefined {
  const overlay = inspectOverlay(state);
  if (!overlay) return undefined;
  const act = (...actions: Action[]): InspectResult => ({ actions, effects: [] });
  const page = Math.max(1, inspectHeight(state) - 1);
  switch (command) {
    case 'inspect.close':
      return act({ type: 'ui/overlay', overlay: undefined });
    case 'cursor.up':
      return act({ type: 'inspect/scroll', delta: -1 });
    case 'cursor.down':
      return act({ type: 'inspect/scroll', delta: 1 });
    case 'cursor.pageUp':
      return act({ type: 'inspect/scroll', delta: -page });
    case 'cursor.pageDown':
      return act({ type: 'inspect/scroll', delta: page });
    case 'cursor.top':
      return act({ type: 'inspect/scroll', delta: 0, edge: 'top' });
    case 'cursor.bottom':
      return act({ type: 'inspect/scroll', delta: 0, edge: 'bottom' });
    case 'inspect.search':
      return act({ type: 'inspect/search', text: overlay.search.text, editing: true });
    case 'edit.apply':
      return act({ type: 'inspect/search', text: overlay.search.text, editing: false });
    case 'edit.cancel':
      return act({ type: 'inspect/search', text: '', editing: false });
    case 'inspect.nextMatch':
    case 'inspect.previousMatch':
      if (!overlay.search.text)
        return act({
          type: 'ui/status',
          text: 'nothing to find: / starts a search',
          level: 'info',
          time: now,
        });
      return act({ type: 'inspect/match', direction: command === 'inspect.nextMatch' ? 1 : -1 });
    case 'inspect.copyId':
      return {
        actions: [],
        effects: [{ type: 'copy', text: realId(overlay.id), what: `the id of ${overlay.name}` }],
      };
    default:
      return undefined;
  }
}
