/**
 * Logs pane: a bounded buffer of the selected container's output. Following keeps the view at
 * the end; scrolling up stops following, reaching the end again resumes it.
 */
import { logHeight } from './layout.js';
import { logMatches } from './selectors.js';
import type { Action, LogsState, TuiState } from './types.js';

/** Lines kept per container; older ones are dropped (the file on disk keeps everything). */
export const LOG_BUFFER_LINES = 5000;

export const INITIAL_LOGS: LogsState = {
  containerId: undefined,
  startedAt: undefined,
  generation: 0,
  lines: [],
  dropped: 0,
  follow: true,
  scrollTop: 0,
  search: { text: '', editing: false },
  match: undefined,
  ended: false,
  error: undefined,
};

function patch(state: TuiState, changes: Partial<LogsState>): TuiState {
  return { ...state, logs: { ...state.logs, ...changes } };
}

function bottomOf(state: TuiState, count = state.logs.lines.length): number {
  return Math.max(0, count - logHeight(state.ui.size));
}

/** Scrolls by rows; reaching the end follows again. */
export function scrollLogs(state: TuiState, to: (top: number, bottom: number) => number): TuiState {
  const bottom = bottomOf(state);
  const current = state.logs.follow ? bottom : state.logs.scrollTop;
  const scrollTop = Math.max(0, Math.min(bottom, to(current, bottom)));
  return patch(state, { scrollTop, follow: scrollTop >= bottom });
}

/** Moves to the next (or previous) match from the current one and brings it into view. */
export function jumpToMatch(state: TuiState, direction: 1 | -1, fromStart = false): TuiState {
  const matches = logMatches(state.logs.lines, state.logs.search.text);
  if (matches.length === 0) return patch(state, { match: undefined });
  let target: number | undefined;
  const current = state.logs.match;
  if (fromStart || current === undefined) target = direction > 0 ? matches[0] : matches[matches.length - 1];
  else if (direction > 0) target = matches.find((index) => index > current) ?? matches[0];
  else target = [...matches].reverse().find((index) => index < current) ?? matches[matches.length - 1];
  const height = logHeight(state.ui.size);
  const bottom = bottomOf(state);
  const scrollTop = Math.max(0, Math.min(bottom, target! - Math.floor(height / 2)));
  return patch(state, { match: target, scrollTop, follow: false });
}

/**
 * While the Logs pane is shown it follows the selected container's current run: another
 * selection (the shown one was removed, or picked elsewhere) or a restart opens it again.
 */
export function syncLogs(state: TuiState): TuiState {
  if (state.ui.pane !== 'logs') return state;
  const id = state.containers.selectedId;
  const startedAt = id ? state.containers.records[id]?.State.StartedAt : undefined;
  if (id === state.logs.containerId && startedAt === state.logs.startedAt) return state;
  return reduceLogs(state, { type: 'logs/open', containerId: id, startedAt });
}

export function reduceLogs(state: TuiState, action: Action): TuiState {
  const logs = state.logs;
  switch (action.type) {
    case 'logs/open':
      if (action.containerId === logs.containerId && action.startedAt === logs.startedAt) return state;
      return patch(state, {
        ...INITIAL_LOGS,
        search: logs.search,
        containerId: action.containerId,
        startedAt: action.startedAt,
        generation: logs.generation + 1,
      });
    case 'logs/appended': {
      if (action.containerId !== logs.containerId || action.lines.length === 0) return state;
      let seq = (logs.lines[logs.lines.length - 1]?.seq ?? logs.dropped - 1) + 1;
      let lines = [...logs.lines, ...action.lines.map((line) => ({ ...line, seq: seq++ }))];
      let dropped = logs.dropped;
      let { scrollTop, match } = logs;
      const excess = lines.length - LOG_BUFFER_LINES;
      if (excess > 0) {
        lines = lines.slice(excess);
        dropped += excess;
        scrollTop = Math.max(0, scrollTop - excess);
        match = match === undefined || match - excess < 0 ? undefined : match - excess;
      }
      return patch(state, { lines, dropped, scrollTop, match });
    }
    case 'logs/ended':
      if (action.containerId !== logs.containerId) return state;
      return patch(state, { ended: true, error: action.error });
    case 'logs/follow': {
      const follow = action.follow ?? !logs.follow;
      return patch(state, {
        follow,
        scrollTop: follow
          ? bottomOf(state)
          : logs.scrollTop === 0 && logs.follow
            ? bottomOf(state)
            : logs.scrollTop,
      });
    }
    case 'logs/match':
      return jumpToMatch(state, action.direction);
    default:
      return state;
  }
}
