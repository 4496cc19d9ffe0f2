import { describe, expect, it } from 'vitest';
import { chartRows } from '../../source/tui/components/Chart.js';
import {
  containersOnScreen,
  containersToSample,
  pickForTick,
  staleSortAgeMs,
} from '../../source/tui/hooks/use-stats-sampler.js';
import { uptime } from '../../source/tui/panes/container-cells.js';
import { initialState, reducer } from '../../source/tui/state/reducer.js';
import type { Action, TuiState } from '../../source/tui/state/types.js';
import { container, sample } from './support/fixtures.js';

function apply(state: TuiState, ...actions: Action[]): TuiState {
  return actions.reduce(reducer, state);
}

describe('sampling only what is on screen', () => {
  const records = Array.from({ length: 40 }, (_, index) => container(`c${String(index).padStart(2, '0')}`));
  const stopped = container('zz-stopped', { status: 'exited' });
  const state = apply(initialState({ columns: 80, rows: 24 }), {
    type: 'containers/loaded',
    records: [...records, stopped],
  });

  it('samples the visible running rows of the Containers pane, the selection first', () => {
    const ids = containersOnScreen(apply(state, { type: 'list/move', delta: 3 }));
    expect(ids).toHaveLength(16);
    expect(ids[0]).toBe(records[3]!.Id);
    expect(ids).not.toContain(records[20]!.Id);
  });

  it('samples only the selected container in Limits and Logs, and nothing in Images or under the help', () => {
    expect(containersOnScreen(apply(state, { type: 'ui/pane', pane: 'limits' }))).toEqual([records[0]!.Id]);
    expect(containersOnScreen(apply(state, { type: 'ui/pane', pane: 'images' }))).toEqual([]);
    expect(
      containersOnScreen(apply(state, { type: 'ui/overlay', overlay: { kind: 'help', scroll: 0 } })),
    ).toEqual([]);
  });

  // Issue 11, defect 3: sorted by CPU, a busy container off screen was never sampled.
  it('samples every running container the filter shows when the order is by a figure', () => {
    expect(containersToSample(state)).toHaveLength(16);
    const byCpu = apply(state, { type: 'containers/sort', key: 'cpu' });
    const ids = containersToSample(byCpu);
    expect(new Set(ids)).toEqual(new Set(records.map((record) => record.Id)));
    expect(ids).not.toContain(stopped.Id);
    // The rows on screen come first, the selected one first of all.
    expect(ids.slice(0, 16)).toEqual(containersOnScreen(byCpu));
    const filtered = apply(byCpu, { type: 'filter/start' }, { type: 'filter/input', text: 'c1' });
    expect(containersToSample(filtered)).toHaveLength(10);
    // Not while another pane is shown.
    expect(containersToSample(apply(byCpu, { type: 'ui/pane', pane: 'images' }))).toEqual([]);
  });

  it('says how old the figures of a figure sort are when some are older than one refresh', () => {
    const byCpu = apply(state, { type: 'containers/sort', key: 'cpu' });
    expect(staleSortAgeMs(state, 1000)).toBeUndefined();
    expect(staleSortAgeMs(byCpu, 1000)).toBe(Number.POSITIVE_INFINITY);
    const fresh = apply(
      byCpu,
      { type: 'ui/tick', now: 10_000 },
      {
        type: 'stats/sampled',
        samples: records.map((record, index) => sample(record, index < 30 ? 9_500 : 6_000)),
      },
    );
    expect(staleSortAgeMs(fresh, 1000)).toBe(4000);
    const later = apply(fresh, {
      type: 'stats/sampled',
      samples: records.slice(30).map((record) => sample(record, 9_800)),
    });
    expect(staleSortAgeMs(later, 1000)).toBeUndefined();
  });

  it('keeps to its budget: the selected row always, then the least recently sampled', () => {
    const ids = ['a', 'b', 'c', 'd', 'e'];
    const last = new Map([
      ['a', 5],
      ['b', 4],
      ['c', 1],
      ['d', 3],
      ['e', 2],
    ]);
    expect(pickForTick(ids, last, 3)).toEqual(['a', 'c', 'e']);
    expect(pickForTick(ids, last, 10)).toEqual(ids);
  });
});

describe('redrawing only when something visible changes', () => {
  it('counts uptimes past the first minute to the clock’s minute, so idle rows change together', () => {
    const started = Date.UTC(2026, 0, 1, 12, 0, 20);
    const record = container('a', { startedAt: new Date(started).toISOString() });
    expect(uptime(record, started + 30_000)).toBe('30s');
    // 12:05:10 and 12:05:50: both "4m" (counted to 12:05:00), then "5m" from 12:06:00.
    expect(uptime(record, Date.UTC(2026, 0, 1, 12, 5, 10))).toBe('4m');
    expect(uptime(record, Date.UTC(2026, 0, 1, 12, 5, 50))).toBe('4m');
    expect(uptime(record, Date.UTC(2026, 0, 1, 12, 6, 0))).toBe('5m');
    expect(uptime(record, started + 61_000)).toBe('1m');
  });

  it('draws charts with eighth blocks against a fixed top', () => {
    expect(chartRows([0, 4, 8], 3, 2, 8)).toEqual(['  █', ' ██']);
    expect(chartRows([2], 3, 1, 8)).toEqual(['  ▂']);
  });
});

describe('memory shown in table rows', () => {
  it('holds still through accounting noise and follows a real change', async () => {
    const { steadyMemory } = await import('../../source/tui/state/stats.js');
    expect(steadyMemory(200 * 1024, undefined)).toBe(200 * 1024);
    expect(steadyMemory(196 * 1024, 200 * 1024)).toBe(200 * 1024);
    expect(steadyMemory(100 * 1024 * 1024, 101 * 1024 * 1024)).toBe(101 * 1024 * 1024);
    expect(steadyMemory(300 * 1024, 200 * 1024)).toBe(300 * 1024);
    expect(steadyMemory(90 * 1024 * 1024, 100 * 1024 * 1024)).toBe(90 * 1024 * 1024);
    expect(steadyMemory(undefined, 200 * 1024)).toBeUndefined();
  });
});
