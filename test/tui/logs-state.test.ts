/**
 * The Logs pane's buffer rules on plain state: at most LOG_BUFFER_LINES held whichever way lines
 * come, older pages push the newest out and stop adding output until following reads the tail
 * again, and the sideways and wrap keys.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_KEYMAP } from '../../source/tui/keymap/keymap.js';
import { interpretKey } from '../../source/tui/state/interpret.js';
import { LOG_BUFFER_LINES } from '../../source/tui/state/logs.js';
import { initialState, reducer } from '../../source/tui/state/reducer.js';
import type { Action, LogLine, TuiState } from '../../source/tui/state/types.js';
import { container } from './support/fixtures.js';

function apply(state: TuiState, ...actions: Action[]): TuiState {
  return actions.reduce(reducer, state);
}

function press(state: TuiState, ...keys: string[]): TuiState {
  let current = state;
  for (const key of keys)
    current = apply(current, ...interpretKey(current, DEFAULT_KEYMAP, key, key, 1000).actions);
  return current;
}

const web = container('web');
const inLogs = press(
  apply(initialState({ columns: 80, rows: 24 }, 0), { type: 'containers/loaded', records: [web] }),
  '5',
);

function lines(from: number, count: number): Omit<LogLine, 'seq'>[] {
  return Array.from({ length: count }, (_, index) => ({
    time: 't',
    stream: 'stdout' as const,
    text: `line ${from + index}`,
    cursor: { inode: 1, born: 0, offset: from + index },
  }));
}

describe('Logs buffer', () => {
  it('drops the oldest lines past the cap while following, and says older lines exist', () => {
    let state = apply(inLogs, {
      type: 'logs/appended',
      containerId: web.Id,
      lines: lines(0, LOG_BUFFER_LINES),
    });
    expect(state.logs.older).toBe(false);
    state = apply(state, { type: 'logs/appended', containerId: web.Id, lines: lines(LOG_BUFFER_LINES, 10) });
    expect(state.logs.lines).toHaveLength(LOG_BUFFER_LINES);
    expect(state.logs.lines[0]!.text).toBe('line 10');
    expect(state.logs.older).toBe(true);
  });

  it('loads older pages in front, then lets the newest go and stops adding output; f reads the tail again', () => {
    let state = apply(
      inLogs,
      { type: 'logs/appended', containerId: web.Id, lines: lines(9000, 1000) },
      { type: 'logs/olderExist', containerId: web.Id, exist: true },
    );
    for (let page = 8; page >= 4; page--) {
      state = press(state, 'o');
      expect(state.logs.olderLoading).toBe(true);
      state = apply(state, {
        type: 'logs/prepended',
        containerId: web.Id,
        lines: lines(page * 1000, 1000),
        older: true,
      });
    }
    expect(state.logs.lines).toHaveLength(LOG_BUFFER_LINES);
    expect(state.logs.lines[0]!.text).toBe('line 4000');
    expect(state.logs.lines.at(-1)!.text).toBe('line 8999');
    expect(state.logs.detached).toBe(true);
    expect(state.logs.follow).toBe(false);
    const generation = state.logs.generation;
    // New output while detached is not added (it would leave a gap).
    const ignored = apply(state, { type: 'logs/appended', containerId: web.Id, lines: lines(10000, 1) });
    expect(ignored.logs.lines.at(-1)!.text).toBe('line 8999');
    // Following again reads the tail afresh.
    state = press(state, 'f');
    expect(state.logs.generation).toBe(generation + 1);
    expect(state.logs.lines).toEqual([]);
    expect(state.logs.detached).toBe(false);
    expect(state.logs.follow).toBe(true);
  });

  it('asks for one page at a time, and only when older lines exist', () => {
    let state = apply(inLogs, { type: 'logs/appended', containerId: web.Id, lines: lines(100, 10) });
    expect(press(state, 'o').logs.olderRequest).toBe(0);
    expect(press(state, 'o').ui.status?.text).toBe('no older lines: the log begins here');
    state = apply(state, { type: 'logs/olderExist', containerId: web.Id, exist: true });
    state = press(state, 'o');
    expect(state.logs.olderRequest).toBe(1);
    expect(press(state, 'o').logs.olderRequest).toBe(1);
  });

  it('scrolls cut lines sideways only when not wrapping; wrapping again starts at column 1', () => {
    let state = apply(inLogs, { type: 'logs/appended', containerId: web.Id, lines: lines(0, 3) });
    expect(state.logs.wrap).toBe(true);
    expect(press(state, 'right').logs.scrollX).toBe(0);
    state = press(state, 'w', 'right', 'right', 'l', 'left');
    expect(state.logs.wrap).toBe(false);
    expect(state.logs.scrollX).toBe(16);
    state = press(state, 'h', 'h', 'h');
    expect(state.logs.scrollX).toBe(0);
    state = press(state, 'right', 'w');
    expect(state.logs.wrap).toBe(true);
    expect(state.logs.scrollX).toBe(0);
  });
});
