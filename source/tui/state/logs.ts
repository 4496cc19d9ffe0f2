/**
 * Logs pane: a bounded window onto the selected container's log. It opens on the tail and
 * follows new output; older lines are read a page at a time on request. At most LOG_BUFFER_LINES
 * are held: following drops the oldest (which can be read again), loading older pages drops the
 * newest and stops adding output until following resumes, which reads the tail afresh.
 */
import { logHeight } from './layout.js';
import { logMatches } from './selectors.js';
import type { Action, LogLine, LogsState, TuiState } from './types.js';

/** Lines held per container (the log on disk keeps everything). */
export const LOG_BUFFER_LINES = 5000;
/** Columns one sideways step moves. */
export const SCROLL_X_STEP = 8;

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
  searchFor: undefined,
  older: false,
  olderRequest: 0,
  olderLoading: false,
  olderUnsupported: undefined,
  detached: false,
  wrap: true,
  scrollX: 0,
  timestamps: false,
};

function patch(state: TuiState, changes: Partial<LogsState>): TuiState {
  return { ...state, logs: { ...state.logs, ...changes } };
}

function bottomOf(state: TuiState, count = state.logs.lines.length): number {
  return Math.max(0, count - logHeight(state.ui.size));
}

/** Reads the shown container's log again from its tail (following resumes after older pages). */
function reopen(state: TuiState): TuiState {
  const logs = state.logs;
  return patch(state, {
    ...INITIAL_LOGS,
    containerId: logs.containerId,
    startedAt: logs.startedAt,
    generation: logs.generation + 1,
    search: logs.search,
    searchFor: logs.searchFor,
    wrap: logs.wrap,
    timestamps: logs.timestamps,
  });
}

/** Scrolls by rows; reaching the end follows again. */
export function scrollLogs(state: TuiState, to: (top: number, bottom: number) => number): TuiState {
  const bottom = bottomOf(state);
  const current = state.logs.follow ? bottom : state.logs.scrollTop;
  const scrollTop = Math.max(0, Math.min(bottom, to(current, bottom)));
  const follow = scrollTop >= bottom;
  if (follow && state.logs.detached) return reopen(state);
  return patch(state, { scrollTop, follow });
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

function numbered(lines: readonly Omit<LogLine, 'seq'>[], firstSeq: number): LogLine[] {
  return lines.map((line, index) => ({ ...line, seq: firstSeq + index }));
}

export function reduceLogs(state: TuiState, action: Action): TuiState {
  const logs = state.logs;
  switch (action.type) {
    case 'logs/open': {
      if (action.containerId === logs.containerId && action.startedAt === logs.startedAt) return state;
      // A search belongs to the container it was typed for; closing the pane keeps it for a return.
      const another = action.containerId !== undefined && action.containerId !== logs.searchFor;
      return patch(state, {
        ...INITIAL_LOGS,
        search: another ? INITIAL_LOGS.search : logs.search,
        searchFor: action.containerId ?? logs.searchFor,
        containerId: action.containerId,
        startedAt: action.startedAt,
        generation: logs.generation + 1,
        wrap: logs.wrap,
        timestamps: logs.timestamps,
      });
    }
    case 'logs/appended': {
      if (action.containerId !== logs.containerId || action.lines.length === 0) return state;
      // Detached (older pages pushed the newest out): output is not added until following again.
      if (logs.detached) return state;
      const seq = (logs.lines[logs.lines.length - 1]?.seq ?? logs.dropped - 1) + 1;
      let lines = [...logs.lines, ...numbered(action.lines, seq)];
      let { dropped, scrollTop, match, older } = logs;
      const excess = lines.length - LOG_BUFFER_LINES;
      if (excess > 0) {
        lines = lines.slice(excess);
        dropped += excess;
        older = true;
        scrollTop = Math.max(0, scrollTop - excess);
        match = match === undefined || match - excess < 0 ? undefined : match - excess;
      }
      return patch(state, { lines, dropped, scrollTop, match, older });
    }
    case 'logs/ended':
      if (action.containerId !== logs.containerId) return state;
      return patch(state, { ended: true, error: action.error });
    case 'logs/follow': {
      const follow = action.follow ?? !logs.follow;
      if (follow && logs.detached) return reopen(state);
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
    case 'logs/olderExist':
      if (action.containerId !== logs.containerId) return state;
      return patch(state, { older: action.exist });
    case 'logs/olderUnsupported':
      if (action.containerId !== logs.containerId) return state;
      return patch(state, { olderUnsupported: action.reason });
    case 'logs/loadOlder':
      if (!logs.containerId || !logs.older || logs.olderLoading || !logs.lines[0]?.cursor) return state;
      return patch(state, { olderLoading: true, olderRequest: logs.olderRequest + 1 });
    case 'logs/olderFailed':
      if (action.containerId !== logs.containerId) return state;
      return patch(state, { olderLoading: false, error: action.error });
    case 'logs/prepended': {
      if (action.containerId !== logs.containerId || !logs.olderLoading) return state;
      const page = action.lines.length;
      const firstSeq = (logs.lines[0]?.seq ?? 0) - page;
      let lines = [...numbered(action.lines, firstSeq), ...logs.lines];
      let detached = logs.detached;
      if (lines.length > LOG_BUFFER_LINES) {
        lines = lines.slice(0, LOG_BUFFER_LINES);
        detached = true;
      }
      const match =
        logs.match === undefined || logs.match + page >= lines.length ? undefined : logs.match + page;
      // The page read is brought into view, just above what was shown.
      const height = logHeight(state.ui.size);
      return patch(state, {
        lines,
        detached,
        match,
        older: action.older,
        olderLoading: false,
        follow: false,
        scrollTop: Math.max(0, Math.min(page - height, lines.length - height)),
      });
    }
    case 'logs/wrap':
      return patch(state, { wrap: !logs.wrap, scrollX: 0 });
    case 'logs/timestamps':
      return patch(state, { timestamps: !logs.timestamps });
    case 'logs/scrollX':
      if (logs.wrap) return state;
      return patch(state, { scrollX: Math.max(0, logs.scrollX + action.delta * SCROLL_X_STEP) });
    default:
      return state;
  }
}
