/**
 * Samples resource use about once a second, only for the containers on screen: the visible rows
 * of the Containers pane, or the selected container in Limits and Logs. Nothing is sampled (and
 * nothing re-renders) while the screen shows no live figures. When the Containers pane is sorted
 * by a figure (CPU, memory, pids), the order depends on every running container, so every one
 * that the filter lets through is sampled (summary files only), not just those on screen; the
 * tab bar says when some of those figures are older than one refresh.
 *
 * A sample reads some fifteen cgroup files per container (a row's summary six, a container off
 * screen in a CPU sort one), so a very tall screen of containers would make sampling the TUI's
 * main cost. Sampling keeps to a CPU budget instead: the selected container every
 * tick, and as many of the other rows as the budget allows, least recently sampled first. On a
 * usual screen that is every row every second; with a hundred rows on screen, or on a loaded
 * machine, some figures are a few seconds old.
 */
import { useEffect } from 'react';
import { useTui } from '../context.js';
import type { ContainerStats } from '../engine-adapter.js';
import { tableHeight } from '../state/layout.js';
import { isActive, selectedContainer, visibleContainers } from '../state/selectors.js';
import type { TuiState } from '../state/types.js';

/**
 * CPU time sampling may make the TUI use per second of wall time (0.004 = 0.4% of one core), the
 * re-render it causes included. What the estimate misses (garbage collection, timers) and the
 * rest of an idle TUI (about 0.1%) come on top: 0.6% measured here left the TUI at 1.08% of a
 * core with 100 rows on screen on a loaded machine; the bound is 1%.
 */
export const SAMPLING_BUDGET = 0.004;
/** Rows sampled per tick however slow a sample seems (a busy machine must not stall the table). */
const MINIMUM_ROWS = 4;

/** Ids whose figures are on screen now; the selected one first. */
export function containersOnScreen(state: TuiState): string[] {
  // An overlay other than a question covers the pane: no figure is on screen.
  if (state.ui.overlay && state.ui.overlay.kind !== 'confirm') return [];
  const selected = selectedContainer(state);
  switch (state.ui.pane) {
    case 'containers': {
      const rows = visibleContainers(state)
        .slice(state.containers.scrollTop, state.containers.scrollTop + tableHeight(state.ui.size))
        .filter(isActive)
        .map((record) => record.Id);
      return selected && rows.includes(selected.Id)
        ? [selected.Id, ...rows.filter((id) => id !== selected.Id)]
        : rows;
    }
    case 'limits':
    case 'logs':
      return selected && isActive(selected) ? [selected.Id] : [];
    default:
      return [];
  }
}

/** Whether the Containers pane's order depends on live figures. */
export function sortsByFigure(state: TuiState): boolean {
  const key = state.containers.sort.key;
  return key === 'cpu' || key === 'memory' || key === 'pids';
}

/**
 * Ids to sample: those on screen (the selected one first), then, when the Containers pane is
 * sorted by a figure, every other running container the filter shows, in list order.
 */
export function containersToSample(state: TuiState): string[] {
  const onScreen = containersOnScreen(state);
  if (state.ui.pane !== 'containers' || onScreen.length === 0 || !sortsByFigure(state)) return onScreen;
  const seen = new Set(onScreen);
  const rest = visibleContainers(state)
    .filter((record) => isActive(record) && !seen.has(record.Id))
    .map((record) => record.Id);
  return [...onScreen, ...rest];
}

/**
 * The age of the oldest figure the Containers pane's figure sort uses, if it is older than one
 * refresh (the sampling budget spreads a hundred containers over a few seconds); undefined when
 * the order is not by a figure or every figure is fresh. Containers not sampled yet count as old.
 */
export function staleSortAgeMs(state: TuiState, intervalMs: number): number | undefined {
  if (state.ui.pane !== 'containers' || !sortsByFigure(state)) return undefined;
  let oldest = state.ui.now;
  for (const record of visibleContainers(state)) {
    if (!isActive(record)) continue;
    const series = state.stats.byId[record.Id];
    if (!series) return Number.POSITIVE_INFINITY;
    oldest = Math.min(oldest, series.time);
  }
  const age = state.ui.now - oldest;
  return age > intervalMs * 1.5 ? age : undefined;
}

/**
 * The age said in the header, rounded up to whole 5 s: the oldest figure's age moves every second
 * as the sampler goes round, and a header that changed with it drew a frame a second at idle.
 */
export function staleBucketSeconds(ageMs: number): number {
  return Math.max(5, Math.ceil(ageMs / 5000) * 5);
}

/**
 * Which of the ids on screen to sample this tick: the first (selected) always, then the least
 * recently sampled, as many as `capacity`.
 */
export function pickForTick(
  ids: readonly string[],
  lastSampled: ReadonlyMap<string, number>,
  capacity: number,
): string[] {
  if (ids.length <= capacity) return [...ids];
  const [first, ...rest] = ids;
  const oldest = [...rest].sort((a, b) => (lastSampled.get(a) ?? 0) - (lastSampled.get(b) ?? 0));
  return [first!, ...oldest.slice(0, Math.max(0, capacity - 1))];
}

export function useStatsSampler(): void {
  const { store, engine, statsIntervalMs } = useTui();
  useEffect(() => {
    let alive = true;
    let busy = false;
    // When each container last had its row's figures read (a summary or a full sample), and
    // when last sampled at all (off screen in a CPU sort: its CPU time only).
    const lastSampled = new Map<string, number>();
    const lastAny = new Map<string, number>();
    // How many times each container was sampled (counted to 2).
    const times = new Map<string, number>();
    // Microseconds of CPU per container sample, smoothed; starts optimistic.
    let costPerSample = 0;
    const sample = async () => {
      if (busy) return;
      const state = store.getState();
      const wanted = containersToSample(state);
      if (wanted.length === 0) return;
      const onScreen = new Set(containersOnScreen(state));
      // Off screen, a CPU sort needs only each container's CPU time: one file instead of six.
      const cpuOnly = state.containers.sort.key === 'cpu';
      const due = new Map(
        wanted.map((id) => [id, (onScreen.has(id) || !cpuOnly ? lastSampled.get(id) : lastAny.get(id)) ?? 0]),
      );
      const budget = SAMPLING_BUDGET * statsIntervalMs * 1000;
      const capacity =
        costPerSample > 0 ? Math.max(MINIMUM_ROWS, Math.floor(budget / costPerSample)) : wanted.length;
      const picked = pickForTick(wanted, due, capacity);
      // A row shows its CPU from its second sample on: a container seen for the first time gets
      // its first two whatever the budget, so a new screenful or sort does not show "-" for a
      // round of the budget (a one-off cost per container, not an idle one).
      const chosen = new Set(picked);
      const ids = [...picked, ...wanted.filter((id) => !chosen.has(id) && (times.get(id) ?? 0) < 2)];
      const cpu = process.cpuUsage();
      busy = true;
      try {
        const records = state.containers.records;
        // The selected container (first) feeds the footer and the Limits pane: all its figures.
        // The other rows show memory, CPU and pids: a summary reads a third of the files.
        const options = (id: string, index: number) =>
          index === 0
            ? {}
            : onScreen.has(id)
              ? { summary: true }
              : cpuOnly
                ? { only: 'cpu' as const }
                : { summary: true };
        const results = await Promise.all(
          ids.map((id, index) =>
            records[id] ? engine.stats(records[id], options(id, index)).catch(() => undefined) : undefined,
          ),
        );
        if (!alive) return;
        const now = Date.now();
        ids.forEach((id, index) => {
          times.set(id, Math.min(2, (times.get(id) ?? 0) + 1));
          lastAny.set(id, now);
          if (index === 0 || onScreen.has(id) || !cpuOnly) lastSampled.set(id, now);
        });
        const samples = results.filter((result): result is ContainerStats => result !== undefined);
        store.dispatch({ type: 'ui/tick', now }, { type: 'stats/sampled', samples });
        // The cost of a sample is the tick's whole work over its samples: the reads, the store,
        // and the re-render they cause (React finishes it in microtasks, before the next
        // macrotask), so the budget holds for what sampling makes the TUI do, not just the reads.
        await new Promise((resolve) => setImmediate(resolve));
        const used = process.cpuUsage(cpu);
        const perSample = (used.user + used.system) / Math.max(1, ids.length);
        costPerSample = costPerSample === 0 ? perSample : costPerSample * 0.8 + perSample * 0.2;
      } finally {
        busy = false;
      }
    };
    void sample();
    const timer = setInterval(() => void sample(), statsIntervalMs);
    // A new screenful (scrolling, switching panes) is sampled at once rather than a second later,
    // if it has rows whose figures are older than a refresh. (Not on every change of the list:
    // sorted by CPU, each sample reorders the rows, and that must not start the next one.)
    let lastKey = '';
    const unsubscribe = store.subscribe(() => {
      const state = store.getState();
      // The rows on screen, and whether the order is by a figure (then every running container
      // counts): not the order itself, which a figure sort changes with every sample.
      const onScreen = containersOnScreen(state);
      const byFigure = sortsByFigure(state);
      const key = `${byFigure ? state.containers.sort.key : ''}:${[...onScreen].sort().join(',')}`;
      if (key === lastKey) return;
      lastKey = key;
      const due = Date.now() - statsIntervalMs;
      if (
        onScreen.some((id) => (lastSampled.get(id) ?? 0) < due) ||
        (byFigure && containersToSample(state).some((id) => (lastAny.get(id) ?? 0) < due))
      )
        void sample();
    });
    return () => {
      alive = false;
      clearInterval(timer);
      unsubscribe();
    };
  }, [store, engine, statsIntervalMs]);
}
