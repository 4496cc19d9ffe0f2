/**
 * Live figures per container from successive samples: rates come from the difference of two
 * cumulative counters over the time between them, and each figure keeps a short history for the
 * sparklines.
 */
import type { ContainerStats } from '../engine-adapter.js';
import type { Action, StatsSeries, StatsState, TuiState } from './types.js';

/** Points of history kept per figure (one a second: the last two minutes). */
export const HISTORY_POINTS = 120;

export const INITIAL_STATS: StatsState = { byId: {} };

function push(history: readonly number[], value: number | undefined): readonly number[] {
  const next = [...history, value ?? 0];
  return next.length > HISTORY_POINTS ? next.slice(next.length - HISTORY_POINTS) : next;
}

/** Appends the limit in force for the point just pushed beside it (undefined: no limit). */
function pushLimit(
  history: readonly (number | undefined)[],
  value: number | undefined,
): readonly (number | undefined)[] {
  const next = [...history, value];
  return next.length > HISTORY_POINTS ? next.slice(next.length - HISTORY_POINTS) : next;
}

/** Changes of memory use below this (bytes, or share of the use) are not shown in table rows. */
const MEMORY_NOISE_BYTES = 64 * 1024;
const MEMORY_NOISE_SHARE = 0.02;

/** The figure a table row shows: the previous one unless the usage really moved. */
export function steadyMemory(usage: number | undefined, shown: number | undefined): number | undefined {
  if (usage === undefined || shown === undefined) return usage;
  const noise = Math.max(MEMORY_NOISE_BYTES, shown * MEMORY_NOISE_SHARE);
  return Math.abs(usage - shown) <= noise ? shown : usage;
}

function rate(
  current: number | undefined,
  previous: number | undefined,
  seconds: number,
): number | undefined {
  if (current === undefined || previous === undefined || seconds <= 0) return undefined;
  return Math.max(0, (current - previous) / seconds);
}

export function deriveSeries(sample: ContainerStats, previous: StatsSeries | undefined): StatsSeries {
  const cgroup = sample.cgroup;
  // A CPU-only sample (a row off screen in a CPU sort) leaves the other figures as they were.
  if (previous && cgroup.cpu && !cgroup.memory && !cgroup.pids) return cpuOnly(sample, previous);
  const before = previous?.raw.cgroup;
  const seconds = previous ? (sample.time - previous.time) / 1000 : 0;
  const cpuRate = rate(cgroup.cpu?.usageNanos, before?.cpu?.usageNanos, seconds);
  const cpuPercent = sample.cpuPercent ?? (cpuRate === undefined ? undefined : cpuRate / 1e7);
  // A summary sample (table rows) does not read the quota: the last full sample's stands.
  const summary = cgroup.cpu !== undefined && cgroup.cpu.throttledPeriods === undefined;
  const quotaCpus = cgroup.cpu?.quotaCpus ?? (summary ? previous?.quotaCpus : undefined);
  const cpuQuotaPercent =
    sample.cpuQuotaPercent ?? (cpuPercent !== undefined && quotaCpus ? cpuPercent / quotaCpus : undefined);
  const throttledRate = rate(cgroup.cpu?.throttledNanos, before?.cpu?.throttledNanos, seconds);
  const ioReadRate = rate(cgroup.io?.readBytes, before?.io?.readBytes, seconds);
  const ioWriteRate = rate(cgroup.io?.writeBytes, before?.io?.writeBytes, seconds);
  // Network counters come with full samples only: a summary one in between gives no rate.
  const netRxRate = rate(sample.netRxBytes, previous?.raw.netRxBytes, seconds);
  const netTxRate = rate(sample.netTxBytes, previous?.raw.netTxBytes, seconds);
  const memoryUsage = cgroup.memory?.workingSet ?? cgroup.memory?.usage;
  const history = previous?.history ?? {
    cpu: [],
    cpuLimit: [],
    memory: [],
    memoryLimit: [],
    pids: [],
    throttled: [],
    ioRead: [],
    ioWrite: [],
    netRx: [],
    netTx: [],
  };
  return {
    time: sample.time,
    cpuPercent,
    cpuQuotaPercent,
    quotaCpus,
    memoryUsage,
    memoryShown: steadyMemory(memoryUsage, previous?.memoryShown),
    memoryLimit: cgroup.memory?.limit,
    swapUsage: cgroup.memory?.swapUsage,
    pids: cgroup.pids?.current,
    pidsLimit: cgroup.pids?.limit,
    oomKills: cgroup.memory?.oomKills,
    throttledPeriods: cgroup.cpu?.throttledPeriods,
    throttledNanos: cgroup.cpu?.throttledNanos,
    throttledMsPerSecond: throttledRate === undefined ? undefined : throttledRate / 1e6,
    ioReadRate,
    ioWriteRate,
    netRxRate,
    netTxRate,
    raw: sample,
    history: {
      // Each point keeps the limit of its time: a later change of the limit does not redraw the past.
      cpu: cpuPercent === undefined ? history.cpu : push(history.cpu, cpuPercent),
      cpuLimit:
        cpuPercent === undefined
          ? history.cpuLimit
          : pushLimit(history.cpuLimit, quotaCpus ? quotaCpus * 100 : undefined),
      memory: push(history.memory, memoryUsage),
      memoryLimit: pushLimit(history.memoryLimit, cgroup.memory?.limit),
      pids: push(history.pids, cgroup.pids?.current),
      throttled:
        throttledRate === undefined ? history.throttled : push(history.throttled, throttledRate / 1e6),
      ioRead: ioReadRate === undefined ? history.ioRead : push(history.ioRead, ioReadRate),
      ioWrite: ioWriteRate === undefined ? history.ioWrite : push(history.ioWrite, ioWriteRate),
      netRx: netRxRate === undefined ? history.netRx : push(history.netRx, netRxRate),
      netTx: netTxRate === undefined ? history.netTx : push(history.netTx, netTxRate),
    },
  };
}

function cpuOnly(sample: ContainerStats, previous: StatsSeries): StatsSeries {
  const seconds = (sample.time - previous.time) / 1000;
  const cpuRate = rate(sample.cgroup.cpu?.usageNanos, previous.raw.cgroup.cpu?.usageNanos, seconds);
  const cpuPercent = sample.cpuPercent ?? (cpuRate === undefined ? undefined : cpuRate / 1e7);
  const quotaCpus = previous.quotaCpus;
  return {
    ...previous,
    time: sample.time,
    cpuPercent,
    cpuQuotaPercent:
      sample.cpuQuotaPercent ?? (cpuPercent !== undefined && quotaCpus ? cpuPercent / quotaCpus : undefined),
    // Rates of the counters this sample did not read start again from the next full sample.
    throttledMsPerSecond: undefined,
    ioReadRate: undefined,
    ioWriteRate: undefined,
    netRxRate: undefined,
    netTxRate: undefined,
    raw: {
      ...sample,
      cgroup: { ...sample.cgroup, memory: previous.raw.cgroup.memory, pids: previous.raw.cgroup.pids },
    },
  };
}

export function reduceStats(state: TuiState, action: Action): TuiState {
  switch (action.type) {
    case 'stats/sampled': {
      if (action.samples.length === 0) return state;
      const byId = { ...state.stats.byId };
      for (const sample of action.samples) byId[sample.id] = deriveSeries(sample, byId[sample.id]);
      return { ...state, stats: { byId } };
    }
    case 'containers/removed': {
      if (!(action.id in state.stats.byId)) return state;
      const byId = { ...state.stats.byId };
      delete byId[action.id];
      return { ...state, stats: { byId } };
    }
    case 'containers/upserted': {
      // A stopped container's figures are history; a restart starts a new series.
      const status = action.record.State.Status;
      if (status === 'running' || status === 'paused' || !(action.record.Id in state.stats.byId))
        return state;
      const byId = { ...state.stats.byId };
      delete byId[action.record.Id];
      return { ...state, stats: { byId } };
    }
    default:
      return state;
  }
}
