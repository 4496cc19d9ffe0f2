/**
 * `gantry ps`: docker's columns, filters (--filter), --last/--latest, --size, --no-trunc, podman's
 * --sort, and --format as Go templates (`table ...`, `json`).
 */
import path from 'node:path';
import { bool, list, num, str, type CommandSpec, type ParsedArgs } from '../args.js';
import { write, type CommandContext } from '../context.js';
import { ago, humanSize, table, truncate } from '../format.js';
import { commandText, statusText } from '../status.js';
import { formatRows } from '../template.js';
import type { ContainerRecord } from '../../runtime/containers/record.js';
import { portsText } from '../../runtime/containers/ports-text.js';
import { parsePsFilters, psFilter, PS_FILTER_KEYS } from '../../runtime/containers/filters.js';
import { InvalidArgumentError } from '../../runtime/errors.js';
import { POD_ID_LABEL, POD_NAME_LABEL } from '../../runtime/kube/labels.js';

const SORT_KEYS = ['command', 'created', 'id', 'image', 'names', 'runningfor', 'size', 'status'] as const;

export const spec: CommandSpec = {
  name: 'ps',
  usage: 'ps [OPTIONS]',
  description: 'List containers',
  maxArgs: 0,
  options: [
    {
      name: 'all',
      short: 'a',
      type: 'boolean',
      description: 'Show all containers (default shows just running)',
    },
    {
      name: 'filter',
      short: 'f',
      type: 'list',
      placeholder: 'filter',
      description: `Filter output based on conditions provided (${PS_FILTER_KEYS.join(', ')})`,
    },
    {
      name: 'last',
      short: 'n',
      type: 'number',
      placeholder: 'int',
      description: 'Show n last created containers (includes all states)',
    },
    {
      name: 'latest',
      short: 'l',
      type: 'boolean',
      description: 'Show the latest created container (includes all states)',
    },
    { name: 'quiet', short: 'q', type: 'boolean', description: 'Only display container IDs' },
    { name: 'no-trunc', type: 'boolean', description: "Don't truncate output" },
    { name: 'size', short: 's', type: 'boolean', description: 'Display total file sizes' },
    {
      name: 'sort',
      type: 'string',
      placeholder: 'key',
      description: `Sort by ${SORT_KEYS.join(', ')} (default created, newest first)`,
    },
    {
      name: 'pod',
      short: 'p',
      type: 'boolean',
      description: 'Show the pod of each container (POD ID and PODNAME columns, as podman)',
    },
    { name: 'json', type: 'boolean', description: 'Print a JSON array (one object per container)' },
    {
      name: 'format',
      type: 'string',
      description:
        'Format output using a Go template: "table {{.Names}}\\t{{.Status}}", "json", "{{.ID}} {{.Label \\"k\\"}}"',
    },
  ],
};

/** docker's column titles of `ps --format 'table ...'`. */
const HEADERS: Record<string, string> = {
  ID: 'CONTAINER ID',
  Id: 'CONTAINER ID',
  Names: 'NAMES',
  Image: 'IMAGE',
  Command: 'COMMAND',
  CreatedAt: 'CREATED AT',
  RunningFor: 'CREATED',
  State: 'STATE',
  Status: 'STATUS',
  Ports: 'PORTS',
  Size: 'SIZE',
  Labels: 'LABELS',
  Label: 'LABEL',
  Mounts: 'MOUNTS',
  LocalVolumes: 'LOCAL VOLUMES',
  Networks: 'NETWORKS',
  Pod: 'POD ID',
  PodName: 'PODNAME',
};

interface RowOptions {
  now?: number;
  /** --no-trunc: full ids and commands. */
  full?: boolean;
  /** --size: "12B (virtual 7.8MB)". */
  size?: string;
}

/** The JSON shape of a ps row: docker's `ps --format json` fields plus a few unabbreviated ones. */
export function psRow(record: ContainerRecord, options: RowOptions = {}): Record<string, unknown> {
  const now = options.now ?? Date.now();
  const labels = record.Config.Labels ?? {};
  const command = commandText(record);
  return {
    ID: options.full ? record.Id : record.Id.slice(0, 12),
    Id: record.Id,
    Names: record.Name,
    Image: record.ImageName,
    ImageID: record.Image,
    Command: JSON.stringify(options.full ? command : truncate(command, 20)),
    CreatedAt: record.Created,
    RunningFor: ago(record.Created, now),
    State: record.State.Status,
    Status: statusText(record, now),
    ExitCode: record.State.ExitCode,
    Pid: record.State.Pid,
    Labels: Object.entries(labels)
      .map(([key, value]) => `${key}=${value}`)
      .join(','),
    Mounts: record.Mounts.map((m) => m.Name ?? m.Destination).join(','),
    Networks: record.NetworkSettings
      ? Object.keys(record.NetworkSettings.Networks).join(',')
      : record.HostConfig.NetworkMode,
    Ports: portsText(record),
    Size: options.size ?? '',
    LocalVolumes: String(record.Mounts.filter((m) => m.Type === 'volume').length),
    // podman's: the pod `kube play` made the container in ("" for none).
    Pod: options.full ? (labels[POD_ID_LABEL] ?? '') : (labels[POD_ID_LABEL] ?? '').slice(0, 12),
    PodName: labels[POD_NAME_LABEL] ?? '',
    // docker's `{{.Label "key"}}` (a method of its row; JSON leaves functions out).
    Label: (key: unknown) => labels[String(key)] ?? '',
  };
}

function compareBy(
  key: string,
  sizes: Map<string, number>,
): (a: ContainerRecord, b: ContainerRecord) => number {
  const text = (value: (record: ContainerRecord) => string) => (a: ContainerRecord, b: ContainerRecord) =>
    value(a).localeCompare(value(b));
  switch (key) {
    case 'command':
      return text(commandText);
    case 'id':
      return text((record) => record.Id);
    case 'image':
      return text((record) => record.ImageName);
    case 'names':
      return text((record) => record.Name);
    case 'status':
      return text((record) => record.State.Status);
    case 'size':
      return (a, b) => (sizes.get(a.Id) ?? 0) - (sizes.get(b.Id) ?? 0);
    default:
      // created, runningfor: newest first, as docker lists.
      return (a, b) => b.Created.localeCompare(a.Created);
  }
}

export async function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const options = parsed.options;
  const filters = parsePsFilters(list(options, 'filter'));
  const sort = str(options, 'sort');
  if (sort !== undefined && !(SORT_KEYS as readonly string[]).includes(sort))
    throw new InvalidArgumentError(`invalid --sort ${JSON.stringify(sort)}`, {
      hint: `accepted: ${SORT_KEYS.join(', ')}`,
    });
  let last = num(options, 'last');
  if (last !== undefined && (!Number.isInteger(last) || last < -1))
    throw new InvalidArgumentError(`invalid --last ${last}: give a whole number of containers`);
  if (last === -1) last = undefined;
  if (bool(options, 'latest')) last = 1;
  const format = str(options, 'format');
  const wantsSize =
    bool(options, 'size') || sort === 'size' || (format !== undefined && /\.Size\b/.test(format));
  // Sizes are read from the layers on the host: it lists them itself.
  if (wantsSize && context.host !== undefined && context.relay) return context.relay();
  const engine = await context.hostEngine();
  // As docker's: a status filter or --last lists stopped containers too.
  const all = bool(options, 'all') || filters.has('status') || (last !== undefined && last > 0);
  const { records: everything, damaged, unsettled = [] } = await engine.list({ all: true });
  for (const bad of damaged)
    context.stderr.write(`gantry: skipping container ${bad.id.slice(0, 12)}: ${bad.error.message}\n`);
  for (const bad of unsettled)
    context.stderr.write(`gantry: container ${bad.id.slice(0, 12)}: ${bad.error.message}\n`);
  const test = psFilter(filters, everything);
  let records = everything.filter(
    (record) =>
      (all || record.State.Status === 'running' || record.State.Status === 'paused') && test(record),
  );
  // --last counts the newest containers, whatever --sort shows them by.
  if (last !== undefined && last > 0) records = records.slice(0, last);
  const full = bool(options, 'no-trunc');
  const sizes = new Map<string, number>();
  const sizeText = new Map<string, string>();
  if (wantsSize) {
    const local = await context.engine();
    const { volumeSize } = await import('../../runtime/volumes/usage.js');
    const images = new Map((await local.images.list()).map((image) => [image.id, image.size]));
    for (const record of records) {
      // The writable layer, walked without following a link the container made.
      const written = volumeSize(path.join(local.containers.dir(record.Id), 'upper'));
      sizes.set(record.Id, written);
      sizeText.set(
        record.Id,
        `${humanSize(written)} (virtual ${humanSize(written + (images.get(record.Image) ?? 0))})`,
      );
    }
  }
  if (sort !== undefined) records = [...records].sort(compareBy(sort, sizes));
  if (bool(options, 'quiet')) {
    for (const record of records) write(context.stdout, full ? record.Id : record.Id.slice(0, 12));
    return 0;
  }
  const now = Date.now();
  const rows = records.map((record) => psRow(record, { now, full, size: sizeText.get(record.Id) }));
  if (bool(options, 'json')) {
    write(context.stdout, JSON.stringify(rows, null, 2));
    return 0;
  }
  const showSize = bool(options, 'size');
  const showPod = bool(options, 'pod');
  const defaultTable = () =>
    table(
      [
        'CONTAINER ID',
        'IMAGE',
        'COMMAND',
        'CREATED',
        'STATUS',
        'PORTS',
        'NAMES',
        ...(showPod ? ['POD ID', 'PODNAME'] : []),
        ...(showSize ? ['SIZE'] : []),
      ],
      rows.map((row) => [
        row.ID as string,
        row.Image as string,
        row.Command as string,
        row.RunningFor as string,
        row.Status as string,
        row.Ports as string,
        row.Names as string,
        ...(showPod ? [row.Pod as string, row.PodName as string] : []),
        ...(showSize ? [row.Size as string] : []),
      ]),
    );
  context.stdout.write(
    format === undefined ? defaultTable() : formatRows(format, rows, { headers: HEADERS, defaultTable }),
  );
  return 0;
}
