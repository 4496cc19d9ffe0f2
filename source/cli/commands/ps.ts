import { bool, str, type CommandSpec, type ParsedArgs } from '../args.js';
import { write, type CommandContext } from '../context.js';
import { ago, table, truncate } from '../format.js';
import { commandText, statusText } from '../status.js';
import { renderTemplate } from '../template.js';
import type { ContainerRecord } from '../../runtime/containers/record.js';
import { portsText } from '../../runtime/containers/ports-text.js';

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
    { name: 'quiet', short: 'q', type: 'boolean', description: 'Only display container IDs' },
    { name: 'no-trunc', type: 'boolean', description: "Don't truncate output" },
    { name: 'json', type: 'boolean', description: 'Print a JSON array (one object per container)' },
    {
      name: 'format',
      type: 'string',
      description: 'Format each container with a template, e.g. "{{.Names}} {{.State}}"',
    },
  ],
};

/** The JSON shape of a ps row: docker's `ps --format json` fields plus a few unabbreviated ones. */
export function psRow(record: ContainerRecord, now = Date.now()): Record<string, unknown> {
  return {
    ID: record.Id.slice(0, 12),
    Id: record.Id,
    Names: record.Name,
    Image: record.ImageName,
    ImageID: record.Image,
    Command: commandText(record),
    CreatedAt: record.Created,
    RunningFor: ago(record.Created, now),
    State: record.State.Status,
    Status: statusText(record, now),
    ExitCode: record.State.ExitCode,
    Pid: record.State.Pid,
    Labels: record.Config.Labels,
    Mounts: record.Mounts.map((m) => m.Destination),
    Networks: record.NetworkSettings
      ? Object.keys(record.NetworkSettings.Networks).join(',')
      : record.HostConfig.NetworkMode,
    Ports: portsText(record),
    // docker's fields with nothing to show here (no --size, no named volumes).
    Size: '',
    LocalVolumes: '0',
  };
}

export async function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const engine = await context.hostEngine();
  const { records, damaged, unsettled = [] } = await engine.list({ all: bool(parsed.options, 'all') });
  for (const bad of damaged)
    context.stderr.write(`gantry: skipping container ${bad.id.slice(0, 12)}: ${bad.error.message}\n`);
  for (const bad of unsettled)
    context.stderr.write(`gantry: container ${bad.id.slice(0, 12)}: ${bad.error.message}\n`);
  const now = Date.now();
  if (bool(parsed.options, 'quiet')) {
    for (const record of records)
      write(context.stdout, bool(parsed.options, 'no-trunc') ? record.Id : record.Id.slice(0, 12));
    return 0;
  }
  if (bool(parsed.options, 'json')) {
    write(
      context.stdout,
      JSON.stringify(
        records.map((r) => psRow(r, now)),
        null,
        2,
      ),
    );
    return 0;
  }
  const format = str(parsed.options, 'format');
  if (format !== undefined) {
    for (const record of records)
      write(
        context.stdout,
        format === 'json' ? JSON.stringify(psRow(record, now)) : renderTemplate(format, psRow(record, now)),
      );
    return 0;
  }
  const full = bool(parsed.options, 'no-trunc');
  const rows = records.map((r) => [
    full ? r.Id : r.Id.slice(0, 12),
    r.ImageName,
    JSON.stringify(full ? commandText(r) : truncate(commandText(r), 20)),
    ago(r.Created, now),
    statusText(r, now),
    portsText(r),
    r.Name,
  ]);
  context.stdout.write(
    table(['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'], rows),
  );
  return 0;
}
