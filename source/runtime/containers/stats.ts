/**
 * Stats of a running container: the cgroup's figures plus what docker derives from them (CPU %
 * of the host from two samples, % of the container's own quota, memory %) and the network bytes
 * of the container's namespace. The engine keeps one previous sample per container in memory.
 */
import fs from 'node:fs';
import os from 'node:os';
import type { CgroupManager, CgroupStats, StatsOptions } from '../cgroups/types.js';
import type { ContainerRecord, ContainerStatus } from './record.js';

export interface ContainerStats {
  id: string;
  name: string;
  /** When the sample was taken, ms since the epoch. */
  time: number;
  status: ContainerStatus;
  /** The cgroup's own figures (empty but for `time` when the container is not running). */
  cgroup: CgroupStats;
  /**
   * CPU use as docker computes it: the container's CPU time over the host's CPU time between
   * this sample and this engine's previous sample of the container, times the online CPUs, in
   * percent (100 = one full CPU, at most onlineCpus × 100). Undefined on the first sample of a
   * container in an Engine (there is nothing to compare with yet; sampling does not wait).
   */
  cpuPercent?: number;
  /**
   * CPU use as a percentage of the container's own CFS quota (100 = all of its --cpus) over the
   * same interval. Undefined without a quota, or on the first sample.
   */
  cpuQuotaPercent?: number;
  /** CPUs online on the host (the factor in cpuPercent). */
  onlineCpus: number;
  /** The limit memoryPercent is a share of: the cgroup's, or the host's memory when it has none. */
  memoryLimit?: number;
  /** Working set (usage without reclaimable page cache) as a percentage of memoryLimit. */
  memoryPercent?: number;
  /** Bytes received / sent on the container's interfaces (not lo); undefined with --net host. */
  netRxBytes?: number;
  netTxBytes?: number;
}

interface CpuSample {
  /** The container's run the sample belongs to (its StartedAt): a restart resets usage. */
  run: string;
  usageNanos: number;
  systemNanos: number;
  wallNanos: bigint;
}

/** USER_HZ: /proc/stat counts in these ticks on every Linux architecture Node runs on. */
const CLOCK_TICKS_PER_SECOND = 100;

/** Host CPU time (user..softirq of the "cpu" line of /proc/stat) in ns, as docker sums it. */
export function systemCpuNanos(procStat: string): number | undefined {
  const line = procStat.split('\n').find((entry) => entry.startsWith('cpu '));
  if (!line) return undefined;
  const fields = line.trim().split(/\s+/).slice(1, 8).map(Number);
  if (fields.length < 7 || fields.some((value) => !Number.isFinite(value))) return undefined;
  const ticks = fields.reduce((sum, value) => sum + value, 0);
  return (ticks * 1e9) / CLOCK_TICKS_PER_SECOND;
}

/** Sums received and sent bytes of /proc/PID/net/dev over every interface but lo. */
export function parseNetDev(text: string): { rx: number; tx: number } {
  let rx = 0;
  let tx = 0;
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    if (name === 'lo' || name === '' || name.includes('|')) continue;
    const fields = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .map(Number);
    rx += fields[0] ?? 0;
    tx += fields[8] ?? 0;
  }
  return { rx, tx };
}

function onlineCpuCount(): number {
  try {
    const text = fs.readFileSync('/sys/devices/system/cpu/online', 'utf8').trim();
    let count = 0;
    for (const part of text.split(',')) {
      const [start, end] = part.split('-').map(Number);
      if (start === undefined || !Number.isFinite(start)) continue;
      count += end === undefined ? 1 : end - start + 1;
    }
    if (count > 0) return count;
  } catch {
    // fall through to what Node sees
  }
  return os.availableParallelism();
}

/**
 * How long one read of /proc/stat (the host's CPU time, the denominator of CPU %) serves further
 * samples: a round over many containers reads it once, and the error this adds to a CPU % over a
 * one-second interval is at most this share of it.
 */
const PROC_STAT_REUSE_NS = 50_000_000n;

/** Host access of the sampler; tests give their own. */
export interface SamplerHost {
  readFile(file: string): Promise<string>;
  /** A monotonic clock in ns. */
  now(): bigint;
  onlineCpus: number;
  memoryBytes: number;
}

/** Takes samples and keeps the previous one of each container (in this process only). */
export class StatsSampler {
  private readonly previous = new Map<string, CpuSample>();
  private readonly onlineCpus: number;
  private readonly hostMemory: number;
  private readonly host: Pick<SamplerHost, 'readFile' | 'now'>;

  constructor(host: Partial<SamplerHost> = {}) {
    this.onlineCpus = host.onlineCpus ?? onlineCpuCount();
    this.hostMemory = host.memoryBytes ?? os.totalmem();
    this.host = {
      // /proc files are generated in memory: a synchronous read is cheaper than the thread pool.
      readFile: host.readFile ?? (async (file) => fs.readFileSync(file, 'utf8')),
      now: host.now ?? (() => process.hrtime.bigint()),
    };
  }

  /** Forgets a container (removed, or no longer watched). */
  forget(id: string): void {
    this.previous.delete(id);
  }

  /** /proc/stat as last read: one read serves every container sampled in the same moment. */
  private procStat: { text: string; at: bigint } | undefined;

  private async hostCpuTimes(): Promise<string> {
    const now = this.host.now();
    if (this.procStat && now - this.procStat.at < PROC_STAT_REUSE_NS) return this.procStat.text;
    const text = await this.host.readFile('/proc/stat').catch(() => '');
    this.procStat = { text, at: now };
    return text;
  }

  /**
   * One sample. `summary` reads what a table row shows (see CgroupManager.stats) and skips the
   * network counters.
   */
  async sample(
    record: ContainerRecord,
    cgroup: CgroupManager,
    options: StatsOptions = {},
  ): Promise<ContainerStats> {
    const base: ContainerStats = {
      id: record.Id,
      name: record.Name,
      time: Date.now(),
      status: record.State.Status,
      cgroup: { time: Date.now() },
      onlineCpus: this.onlineCpus,
    };
    if (record.State.Status !== 'running' && record.State.Status !== 'paused') {
      this.previous.delete(record.Id);
      return base;
    }
    const [stats, procStat, netDev] = await Promise.all([
      cgroup.stats(options),
      this.hostCpuTimes(),
      options.summary || record.HostConfig.NetworkMode === 'host' || !record.State.Pid
        ? Promise.resolve(undefined)
        : this.host.readFile(`/proc/${record.State.Pid}/net/dev`).catch(() => undefined),
    ]);
    const wallNanos = this.host.now();
    const result: ContainerStats = { ...base, time: stats.time, cgroup: stats };

    const systemNanos = systemCpuNanos(procStat);
    const usageNanos = stats.cpu?.usageNanos;
    if (usageNanos !== undefined && systemNanos !== undefined) {
      const current: CpuSample = { run: record.State.StartedAt, usageNanos, systemNanos, wallNanos };
      const before = this.previous.get(record.Id);
      this.previous.set(record.Id, current);
      if (before && before.run === current.run && usageNanos >= before.usageNanos) {
        const cpuDelta = usageNanos - before.usageNanos;
        const systemDelta = systemNanos - before.systemNanos;
        if (systemDelta > 0) result.cpuPercent = (cpuDelta / systemDelta) * this.onlineCpus * 100;
        else if (cpuDelta === 0) result.cpuPercent = 0;
        const wallDelta = Number(wallNanos - before.wallNanos);
        const quotaCpus = stats.cpu?.quotaCpus;
        if (quotaCpus !== undefined && quotaCpus > 0 && wallDelta > 0) {
          result.cpuQuotaPercent = (cpuDelta / (wallDelta * quotaCpus)) * 100;
        }
      }
    }

    if (stats.memory) {
      const limit =
        stats.memory.limit !== undefined && stats.memory.limit < this.hostMemory
          ? stats.memory.limit
          : this.hostMemory;
      result.memoryLimit = limit;
      if (limit > 0) result.memoryPercent = (stats.memory.workingSet / limit) * 100;
    }
    if (netDev !== undefined) {
      const { rx, tx } = parseNetDev(netDev);
      result.netRxBytes = rx;
      result.netTxBytes = tx;
    }
    return result;
  }
}
