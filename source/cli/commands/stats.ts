import { setTimeout as sleep } from 'node:timers/promises';
import { bool, str, type CommandSpec, type ParsedArgs } from '../args.js';
import { write, type CommandContext } from '../context.js';
import { reportError } from '../errors.js';
import { binarySize, humanSize, table } from '../format.js';
import { formatRows } from '../template.js';
import type { HostEngine as Engine } from '../../runtime/remote/host-engine.js';
import type { ContainerStats } from '../../runtime/containers/stats.js';
import { NotFoundError } from '../../runtime/errors.js';

export const spec: CommandSpec = {
  name: 'stats',
  usage: 'stats [OPTIONS] [CONTAINER...]',
  description: 'Display a live stream of container(s) resource usage statistics',
  options: [
    {
      name: 'all',
      short: 'a',
      type: 'boolean',
      description: 'Show all containers (default shows just running)',
    },
    {
      name: 'no-stream',
      type: 'boolean',
      description: 'Disable streaming stats and only pull the first result',
    },
    { name: 'no-trunc', type: 'boolean', description: "Don't truncate output" },
    {
      name: 'json',
      type: 'boolean',
      description: 'Print every figure as JSON (an array with --no-stream, else one object per line)',
    },
    {
      name: 'format',
      type: 'string',
      description: 'Format with a template, e.g. "table {{.Name}}\\t{{.CPUPerc}}", or "json"',
    },
  ],
};

/** How often the stream samples, as docker's does. */
const INTERVAL_MS = 1000;
/**
 * CPU % needs two samples; --no-stream takes its second at least this long after the first
 * (or at once when sampling every container already took longer). A window of a few CFS periods
 * (100 ms each): over one period a container held to --cpus 0.5 could show anything from 0 to
 * 100%; over five it is within a few points of the stream's figure.
 */
const CPU_WINDOW_MS = 500;
/** Files read at once while sampling many containers. */
const CONCURRENCY = 16;

const HEADERS: Record<string, string> = {
  Container: 'CONTAINER',
  ID: 'CONTAINER ID',
  Name: 'NAME',
  CPUPerc: 'CPU %',
  MemUsage: 'MEM USAGE / LIMIT',
  MemPerc: 'MEM %',
  NetIO: 'NET I/O',
  BlockIO: 'BLOCK I/O',
  PIDs: 'PIDS',
};

function percent(value: number | undefined): string {
  return value === undefined ? '--' : `${value.toFixed(2)}%`;
}

/** docker's `stats --format` fields for one sample. */
export function statsRow(stats: ContainerStats, reference: string, fullId = false): Record<string, string> {
  const memory = stats.cgroup.memory;
  const io = stats.cgroup.io;
  const live = stats.status === 'running' || stats.status === 'paused';
  return {
    Container: reference,
    ID: fullId ? stats.id : stats.id.slice(0, 12),
    Name: stats.name,
    CPUPerc: live ? percent(stats.cpuPercent) : '0.00%',
    MemUsage: memory ? `${binarySize(memory.workingSet)} / ${binarySize(stats.memoryLimit ?? 0)}` : '0B / 0B',
    MemPerc: live ? percent(stats.memoryPercent) : '0.00%',
    NetIO: `${humanSize(stats.netRxBytes ?? 0)} / ${humanSize(stats.netTxBytes ?? 0)}`,
    BlockIO: `${humanSize(io?.readBytes ?? 0)} / ${humanSize(io?.writeBytes ?? 0)}`,
    PIDs: String(stats.cgroup.pids?.current ?? 0),
  };
}

/** The text of one round in the table, a template, or docker's JSON rows. */
export function renderStats(
  samples: readonly { stats: ContainerStats; reference: string }[],
  format: string | undefined,
  fullId: boolean,
): string {
  const rows = samples.map(({ stats, reference }) => statsRow(stats, reference, fullId));
  const defaultTable = () =>
    table(
      ['CONTAINER ID', 'NAME', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'NET I/O', 'BLOCK I/O', 'PIDS'],
      rows.map(
        (row) =>
          [
            row.ID,
            row.Name,
            row.CPUPerc,
            row.MemUsage,
            row.MemPerc,
            row.NetIO,
            row.BlockIO,
            row.PIDs,
          ] as string[],
      ),
    );
  return format === undefined ? defaultTable() : formatRows(format, rows, { headers: HEADERS, defaultTable });
}

interface Target {
  id: string;
  reference: string;
}

async function sampleAll(
  engine: Engine,
  targets: readonly Target[],
): Promise<{ stats: ContainerStats; reference: string }[]> {
  const results: ({ stats: ContainerStats; reference: string } | undefined)[] = new Array(targets.length);
  let next = 0;
  const worker = async () => {
    while (next < targets.length) {
      const index = next++;
      const target = targets[index] as Target;
      try {
        results[index] = { stats: await engine.stats(target.id), reference: target.reference };
      } catch (error) {
        // Removed between listing and sampling: it simply drops out of the table.
        if (!(error instanceof NotFoundError)) throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, targets.length) }, worker));
  return results.filter(
    (entry): entry is { stats: ContainerStats; reference: string } => entry !== undefined,
  );
}

export async function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const engine = await context.hostEngine();
  const json = bool(parsed.options, 'json');
  const format = str(parsed.options, 'format');
  const fullId = bool(parsed.options, 'no-trunc');
  const all = bool(parsed.options, 'all');
  const stream = !bool(parsed.options, 'no-stream');

  let failed = 0;
  const targets: Target[] = [];
  if (parsed.args.length > 0) {
    for (const reference of parsed.args) {
      try {
        targets.push({ id: (await engine.get(reference)).Id, reference });
      } catch (error) {
        reportError(error, context.stderr);
        failed = 1;
      }
    }
    if (targets.length === 0) return failed;
  } else {
    for (const record of (await engine.list({ all })).records)
      targets.push({ id: record.Id, reference: record.Id.slice(0, 12) });
  }

  const emit = (samples: { stats: ContainerStats; reference: string }[], final: boolean) => {
    if (json) {
      if (final && !stream)
        write(
          context.stdout,
          JSON.stringify(
            samples.map((s) => s.stats),
            null,
            2,
          ),
        );
      else for (const sample of samples) write(context.stdout, JSON.stringify(sample.stats));
      return;
    }
    const text = renderStats(samples, format, fullId);
    // A terminal gets docker's redraw in place; a pipe gets one block per round.
    context.stdout.write(stream && context.stdout.isTTY ? `\u001b[2J\u001b[H${text}` : text);
  };

  if (!stream) {
    const started = Date.now();
    await sampleAll(engine, targets);
    const wait = CPU_WINDOW_MS - (Date.now() - started);
    if (wait > 0) await sleep(wait);
    emit(await sampleAll(engine, targets), true);
    return failed;
  }

  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  context.stdout.on('error', stop); // the reader went away (a closed pipe)
  // Without names the set follows the engine's events: started containers join, ended ones leave.
  const follow = parsed.args.length === 0 ? followEvents(engine, targets, all, controller.signal) : undefined;
  try {
    while (!controller.signal.aborted) {
      const started = Date.now();
      emit(await sampleAll(engine, targets), false);
      const wait = INTERVAL_MS - (Date.now() - started);
      await sleep(Math.max(wait, 0), undefined, { signal: controller.signal }).catch(() => undefined);
    }
  } finally {
    controller.abort();
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await follow;
  }
  return failed;
}

async function followEvents(
  engine: Engine,
  targets: Target[],
  all: boolean,
  signal: AbortSignal,
): Promise<void> {
  try {
    for await (const event of engine.events({ signal })) {
      const index = targets.findIndex((target) => target.id === event.id);
      const joins = all ? event.action === 'create' : event.action === 'start';
      const leaves = all ? event.action === 'destroy' : event.action === 'die' || event.action === 'destroy';
      if (joins && index < 0) targets.push({ id: event.id, reference: event.id.slice(0, 12) });
      else if (leaves && index >= 0) targets.splice(index, 1);
    }
  } catch {
    // Without events the table keeps its containers; sampling goes on.
  }
}
