/**
 * `gantry-oci events`: runc's event stream of a container. `--stats` prints its statistics once;
 * otherwise a stats event every --interval and an "oom" event when the kernel counts an OOM kill,
 * one JSON object a line, until the container stops.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { CgroupStats } from '../cgroups/types.js';
import { ConflictError, InvalidArgumentError } from '../errors.js';
import { containerCgroup } from './cgroup.js';
import type { OciStore } from './store.js';

/** runc's types.Stats, the parts a cgroup gives us (containerd's shim and podman read these names). */
export function runcStats(stats: CgroupStats): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  if (stats.cpu) {
    data.cpu = {
      usage: {
        total: stats.cpu.usageNanos,
        ...(stats.cpu.userNanos !== undefined ? { user: stats.cpu.userNanos } : {}),
        ...(stats.cpu.systemNanos !== undefined ? { kernel: stats.cpu.systemNanos } : {}),
      },
      throttling: {
        periods: stats.cpu.periods ?? 0,
        throttledPeriods: stats.cpu.throttledPeriods ?? 0,
        throttledTime: stats.cpu.throttledNanos ?? 0,
      },
    };
  }
  if (stats.memory) {
    data.memory = {
      usage: { usage: stats.memory.usage, max: stats.memory.maxUsage ?? 0, limit: stats.memory.limit ?? 0 },
      swap: { usage: stats.memory.swapUsage ?? 0 },
      cache: stats.memory.cache ?? 0,
      raw: { rss: stats.memory.anon ?? 0, cache: stats.memory.cache ?? 0, oom_kill: stats.memory.oomKills },
    };
  }
  if (stats.pids) data.pids = { current: stats.pids.current, limit: stats.pids.limit ?? 0 };
  if (stats.io) {
    data.blkio = {
      ioServiceBytesRecursive: [
        { op: 'Read', value: stats.io.readBytes },
        { op: 'Write', value: stats.io.writeBytes },
      ],
      ioServicedRecursive: [
        { op: 'Read', value: stats.io.readOps },
        { op: 'Write', value: stats.io.writeOps },
      ],
    };
  }
  return data;
}

/** "5s", "500ms", "1m" (Go's durations, as runc takes --interval), in milliseconds. */
export function parseInterval(value: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(value.trim());
  if (!match || Number(match[1]) <= 0)
    throw new InvalidArgumentError(
      `invalid --interval ${JSON.stringify(value)}: a duration such as 5s, 500ms or 1m`,
    );
  return Number(match[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] as 'ms' | 's' | 'm' | 'h'];
}

export async function events(
  store: OciStore,
  id: string,
  options: { stats: boolean; intervalMs: number; write: (line: string) => void },
): Promise<void> {
  const state = await store.load(id);
  if (store.status(state) === 'stopped') throw new ConflictError(`container ${id} is not running`);
  const cgroup = containerCgroup(store, state);
  const event = async (type: string) =>
    `${JSON.stringify({ type, id, data: runcStats(await cgroup.stats()) })}\n`;
  if (options.stats) {
    options.write(await event('stats'));
    return;
  }
  let oomKills = (await cgroup.stats()).memory?.oomKills ?? 0;
  let next = Date.now();
  while (store.status(state) !== 'stopped') {
    const stats = await cgroup.stats().catch(() => undefined);
    if (!stats) break;
    const kills = stats.memory?.oomKills ?? 0;
    if (kills > oomKills) options.write(`${JSON.stringify({ type: 'oom', id })}\n`);
    oomKills = kills;
    if (Date.now() >= next) {
      options.write(`${JSON.stringify({ type: 'stats', id, data: runcStats(stats) })}\n`);
      next = Date.now() + options.intervalMs;
    }
    await sleep(Math.min(250, options.intervalMs));
  }
}
