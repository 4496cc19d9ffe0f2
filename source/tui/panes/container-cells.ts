/** The text of a container row: pure, so the table's look is tested without rendering. */
import { portsText } from '../../runtime/containers/ports-text.js';
import { isInfra, POD_NAME_LABEL } from '../../runtime/kube/labels.js';
import type { ContainerRecord } from '../../runtime/containers/record.js';
import type { ColumnSpec } from '../components/column-fit.js';
import { realId, type HostStatus } from '../hosts/keys.js';
import type { TableRow } from '../components/DataTable.js';
import { formatMemory, formatDuration, formatPercent } from '../format.js';
import { commandLine, displayImage, isActive } from '../state/selectors.js';
import type { ContainerSortKey, StatsSeries } from '../state/types.js';
import { levelColor, statusStyle, type Theme } from '../theme.js';

export type ContainerColumn =
  | 'host'
  | 'name'
  | 'id'
  | 'image'
  | 'status'
  | 'uptime'
  | 'cpu'
  | 'memory'
  | 'pids'
  | 'address'
  | 'ports'
  | 'command';

/** Widths grow with the terminal: names and images to their usual lengths, the command to the edge. */
export const CONTAINER_COLUMNS: readonly ColumnSpec<ContainerColumn>[] = [
  { key: 'host', title: 'HOST', min: 8, max: 24, priority: 9.5 },
  { key: 'name', title: 'NAME', min: 10, max: 48, priority: 10 },
  { key: 'id', title: 'ID', min: 12, priority: 3 },
  { key: 'image', title: 'IMAGE', min: 8, max: 40, priority: 5 },
  { key: 'status', title: 'STATUS', min: 18, priority: 9 }, // "✖ exited (137 oom)" whole
  { key: 'uptime', title: 'UP', min: 6, priority: 4, align: 'right' },
  { key: 'cpu', title: 'CPU%', min: 6, priority: 8, align: 'right' },
  { key: 'memory', title: 'MEM/LIMIT', min: 13, priority: 7, align: 'right' },
  { key: 'pids', title: 'PIDS', min: 7, priority: 6, align: 'right' },
  { key: 'address', title: 'IP', min: 15, priority: 2.5 },
  { key: 'ports', title: 'PORTS', min: 12, max: 40, priority: 2 },
  { key: 'command', title: 'COMMAND', min: 16, max: Number.MAX_SAFE_INTEGER, priority: 1 },
];

/** The sort column's title carries the direction. */
export function sortedColumns(
  sort: {
    key: ContainerSortKey;
    descending: boolean;
  },
  /** Several hosts are shown: the HOST column leads, as wide as their longest name (to 24). */
  hostWidth = 0,
): ColumnSpec<ContainerColumn>[] {
  const sortColumn: Record<ContainerSortKey, ContainerColumn> = {
    name: 'name',
    id: 'id',
    status: 'status',
    image: 'image',
    uptime: 'uptime',
    cpu: 'cpu',
    memory: 'memory',
    pids: 'pids',
  };
  // Figures sort biggest first by default, so their arrow points down unless reversed.
  const figures = sort.key === 'cpu' || sort.key === 'memory' || sort.key === 'pids';
  const arrow = sort.descending !== figures ? '▼' : '▲';
  return CONTAINER_COLUMNS.filter((column) => hostWidth > 0 || column.key !== 'host').map((column) =>
    column.key === sortColumn[sort.key]
      ? { ...column, title: `${column.title}${arrow}` }
      : column.key === 'host'
        ? { ...column, min: Math.min(24, Math.max(column.min, hostWidth)) }
        : column,
  );
}

export function statusText(
  record: ContainerRecord,
  pending: string | undefined,
  theme: Theme,
): { text: string; color: string | undefined } {
  if (pending) return { text: `◌ ${pending}…`, color: theme.warn };
  if (record.Damaged !== undefined) return { text: '⚠ damaged record', color: theme.bad };
  // A restart policy at work: waiting out its back-off, or running again after N restarts.
  if (record.State.Restarting) return { text: `↻ restarting (${record.RestartCount})`, color: theme.warn };
  const restarts =
    record.State.Status === 'running' && record.RestartCount > 0 ? ` ↻${record.RestartCount}` : '';
  const { symbol, color } = statusStyle(theme, record.State.Status, record.State.ExitCode);
  const suffix =
    record.State.Status === 'exited'
      ? ` (${record.State.ExitCode}${record.State.OOMKilled ? ' oom' : ''})`
      : '';
  // docker's words for the health check's verdict; an unhealthy container is shown as a problem.
  const health = record.State.Status === 'running' ? record.State.Health?.Status : undefined;
  const healthText =
    health === undefined ? '' : health === 'starting' ? ' (health: starting)' : ` (${health})`;
  return {
    text: `${symbol} ${record.State.Status}${healthText}${suffix}${restarts}`,
    color: health === 'unhealthy' ? theme.bad : color,
  };
}

export function memoryText(series: StatsSeries | undefined): string {
  const used = series?.memoryShown ?? series?.memoryUsage;
  if (!series || used === undefined) return '';
  return series.memoryLimit
    ? `${formatMemory(used)}/${formatMemory(series.memoryLimit)}`
    : formatMemory(used);
}

/** The container's address on its first network; "host" when it shares the host's stack. */
export function addressText(record: ContainerRecord): string {
  if (record.HostConfig.NetworkMode === 'host') return 'host';
  const first = Object.values(record.NetworkSettings?.Networks ?? {})[0];
  return first?.IPAddress ?? '';
}

export function pidsText(series: StatsSeries | undefined): string {
  if (!series || series.pids === undefined) return '';
  return series.pidsLimit ? `${series.pids}/${series.pidsLimit}` : String(series.pids);
}

/**
 * Uptime as shown. Past the first minute it is counted to the last whole minute of the clock, so
 * every row's minute changes at the same moment: a screen of idle containers redraws once a
 * minute, not once a second as each container's own minute comes round.
 */
export function uptime(record: ContainerRecord, now: number): string {
  if (!isActive(record)) return '';
  const started = Date.parse(record.State.StartedAt);
  if (Number.isNaN(started)) return '';
  const elapsed = now - started;
  if (elapsed < 60_000) return formatDuration(elapsed);
  return formatDuration(Math.max(60_000, Math.floor(now / 60_000) * 60_000 - started));
}

/** A pod's rows: its infra container names the pod, its containers are indented under it. */
export function podName(record: ContainerRecord): string {
  const pod = record.Config.Labels?.[POD_NAME_LABEL];
  if (!pod) return record.Name;
  return isInfra(record) ? `pod ${pod}` : `└ ${record.Name}`;
}

/** The HOST cell: the name, marked while the host cannot be reached. */
export function hostText(host: HostStatus): string {
  return host.state === 'unreachable'
    ? `✖ ${host.name}`
    : host.state === 'connecting'
      ? `◌ ${host.name}`
      : host.name;
}

export function containerRow(
  record: ContainerRecord,
  series: StatsSeries | undefined,
  pending: string | undefined,
  now: number,
  theme: Theme,
  /** Marked with Space: the name carries a check mark and the accent colour. */
  marked = false,
  /** The row's host, when several are shown; unreachable ones are marked. */
  host?: HostStatus,
): TableRow {
  const status = statusText(record, pending, theme);
  const active = isActive(record);
  const memoryRatio =
    series?.memoryUsage !== undefined && series.memoryLimit
      ? series.memoryUsage / series.memoryLimit
      : undefined;
  const cpuRatio = series?.cpuQuotaPercent !== undefined ? series.cpuQuotaPercent / 100 : undefined;
  return {
    key: record.Id,
    cells: {
      host: host ? hostText(host) : '',
      name: marked ? `✓ ${podName(record)}` : podName(record),
      id: realId(record.Id).slice(0, 12),
      image: displayImage(record),
      status: status.text,
      uptime: uptime(record, now),
      cpu: active && series ? formatPercent(series.cpuPercent) : '',
      memory: active ? memoryText(series) : '',
      pids: active ? pidsText(series) : '',
      address: active ? addressText(record) : '',
      ports: portsText(record),
      command: commandLine(record),
    },
    colors: {
      host: host?.state === 'unreachable' ? theme.bad : host?.state === 'connecting' ? theme.warn : undefined,
      name: marked ? theme.accent : undefined,
      status: status.color,
      cpu: cpuRatio === undefined ? undefined : levelColor(theme, cpuRatio),
      memory: memoryRatio === undefined ? undefined : levelColor(theme, memoryRatio),
    },
    dim: !active && !pending && !marked,
  };
}

/**
 * A container's user namespace as the host sees it, "userns uid 0:3100000:65536 gid 0:…", with
 * how its root's files are owned when that is a copy; undefined without one (its root is the
 * host's).
 */
export function usernsText(container: ContainerRecord): string | undefined {
  const ids = container.HostConfig.IDMappings;
  if (!ids) return undefined;
  const copy = ids.RootfsMapping === 'chowned-copy' ? ' (chowned copy)' : '';
  return `userns uid ${ids.UidMap.join(',')} gid ${ids.GidMap.join(',')}${copy}`;
}
