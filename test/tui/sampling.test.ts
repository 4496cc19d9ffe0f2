import { describe, expect, it } from 'vitest';
import { chartRows } from '../../source/tui/components/Chart.js';
import { sparkline, sparkScale } from '../../source/tui/components/Sparkline.js';
import { formatMemory, formatPercent } from '../../source/tui/format.js';
import { chartScale } from '../../source/tui/panes/LimitsPane.js';
import {
  containersOnScreen,
  containersToSample,
  pickForTick,
  staleBucketSeconds,
  staleSortAgeMs,
} from '../../source/tui/hooks/use-stats-sampler.js';
import { uptime } from '../../source/tui/panes/container-cells.js';
import { initialState, reducer } from '../../source/tui/state/reducer.js';
import { visibleContainers } from '../../source/tui/state/selectors.js';
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

  it('says the age in steps of 5 s, so the header holds still while the sampler goes round', () => {
    // The oldest figure's age moves between about 2 and 4 s at idle: one text, no frame a second.
    expect(new Set([1600, 2400, 3100, 3900, 4700].map(staleBucketSeconds))).toEqual(new Set([5]));
    expect(staleBucketSeconds(5100)).toBe(10);
    expect(staleBucketSeconds(200_000)).toBe(200);
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

  // Issue 11, defect 7: after a quota change the whole history was drawn against the new quota.
  it('keeps each point against the limit of its time, and marks where it changed', () => {
    // CPU at 100% of one CPU, then the quota lowered to 0.2 CPU: the past stays full height.
    const cpu = [100, 100, 100, 20, 20];
    const quotas = [100, 100, 100, 20, 20];
    const scale = chartScale(cpu, quotas, 5, 1, formatPercent, 100);
    expect(scale.max).toBe(100);
    expect(chartRows(cpu, 5, 2, scale.max, quotas)).toEqual(['███┊ ', '███▃▃']);
    expect(scale.caption).toBe('┈ limit 20.0%, top 100% · ┊ 100%→20.0% 2s ago');
    // Memory steady at 32MiB while its limit is raised from 64MiB to 128MiB: the limit line steps.
    const MiB = 1024 * 1024;
    const memory = [32, 32, 32, 32].map((value) => value * MiB);
    const limits = [64, 64, 128, 128].map((value) => value * MiB);
    const memoryScale = chartScale(memory, limits, 4, 1, formatMemory);
    expect(memoryScale.max).toBe(128 * MiB);
    expect(chartRows(memory, 4, 4, memoryScale.max, limits)).toEqual(['  ┈┈', '  ┊ ', '┈┈┊ ', '████']);
    expect(memoryScale.caption).toBe('┈ limit 128MiB · ┊ 64MiB→128MiB 2s ago');
  });

  it('scales sparklines against a limit, or says their own top', () => {
    const steady = [200_000, 200_000, 200_000];
    // A constant 200K drew full blocks: against its own top it is now labelled.
    expect(sparkScale(steady, 3)).toEqual({ max: 200_000, labelled: true });
    expect(sparkScale(steady, 3, [1_000_000, 1_000_000, undefined])).toEqual({
      max: 1_000_000,
      labelled: false,
    });
    expect(sparkline(steady, 3, sparkScale(steady, 3, [1_000_000]).max)).toBe('▂▂▂');
    expect(sparkScale([10, 20], 2, undefined, 200)).toEqual({ max: 200, labelled: false });
  });
});

describe('a figure sort at idle', () => {
  // Sorted by CPU%, 100 idle containers re-sorted on every sample by figures that differ below
  // what a row shows, and each new order was a new frame (60 frames a minute at idle).
  it('keeps the order, and the same list, while the shown figures do not change', () => {
    const records = ['a', 'b', 'c', 'd'].map((name) => container(name));
    let state = apply(
      initialState({ columns: 80, rows: 24 }),
      { type: 'containers/loaded', records },
      { type: 'containers/sort', key: 'cpu' },
    );
    const tick = (time: number, percents: number[], memories: number[]) =>
      apply(state, {
        type: 'stats/sampled',
        samples: records.map((record, index) =>
          sample(
            record,
            time,
            {
              memory: { usage: memories[index]!, workingSet: memories[index]!, limit: 64 << 20, oomKills: 0 },
            },
            { cpuPercent: percents[index]! },
          ),
        ),
      });
    const MiB = 1 << 20;
    state = tick(1000, [0.01, 0.02, 0.5, 0.03], [2 * MiB, 2 * MiB, 2 * MiB, 2 * MiB]);
    const first = visibleContainers(state);
    expect(first.map((record) => record.Name)).toEqual(['c', 'a', 'b', 'd']);
    // Jitter below a tenth of a percent and within the memory noise: the same array.
    state = tick(2000, [0.04, 0.01, 0.52, 0.0], [2 * MiB + 4096, 2 * MiB, 2 * MiB - 4096, 2 * MiB]);
    expect(visibleContainers(state)).toBe(first);
    // A figure that moves on screen reorders.
    state = tick(3000, [0.04, 0.01, 0.52, 7.5], [2 * MiB, 2 * MiB, 2 * MiB, 2 * MiB]);
    expect(visibleContainers(state).map((record) => record.Name)).toEqual(['d', 'c', 'a', 'b']);
    // By memory: the figure the row shows, steadied through accounting noise.
    state = apply(state, { type: 'containers/sort', key: 'memory' });
    const byMemory = visibleContainers(state);
    state = tick(4000, [0, 0, 0, 0], [2 * MiB + 8192, 2 * MiB - 8192, 2 * MiB + 4096, 2 * MiB]);
    expect(visibleContainers(state)).toBe(byMemory);
  });
});

describe('a container off screen in a CPU sort', () => {
  it('is sampled for its CPU time only, and keeps the figures its row showed', () => {
    const record = container('a');
    const MiB = 1 << 20;
    const state = apply(
      initialState({ columns: 80, rows: 24 }),
      { type: 'containers/loaded', records: [record] },
      {
        type: 'stats/sampled',
        samples: [
          sample(record, 1000, {
            cpu: { usageNanos: 1e9 },
            memory: { usage: 5 * MiB, workingSet: 4 * MiB, limit: 64 * MiB, oomKills: 0 },
            pids: { current: 3, limit: 64 },
          }),
        ],
      },
      { type: 'stats/sampled', samples: [sample(record, 3000, { cpu: { usageNanos: 1.5e9 } })] },
    );
    const series = state.stats.byId[record.Id]!;
    // Half a second of CPU in two seconds: 25% of one CPU.
    expect(series.cpuPercent).toBeCloseTo(25);
    expect(series.memoryShown).toBe(4 * MiB);
    expect(series.memoryLimit).toBe(64 * MiB);
    expect(series.pids).toBe(3);
    expect(series.pidsLimit).toBe(64);
    expect(series.history.memory).toEqual([4 * MiB]);
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
