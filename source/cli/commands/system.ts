/**
 * `gantry system df|prune|service`: docker's disk usage and prune-everything commands, and the
 * engine served over stdin/stdout in the remote protocol (`service --stdio`, for a client whose
 * ssh started this process; it exits when its input ends and nothing listens).
 */
import { bool, list, parseArgs, str, type CommandSpec, type ParsedArgs } from '../args.js';
import { confirm } from '../confirm.js';
import { write, type CommandContext } from '../context.js';
import { reportError } from '../errors.js';
import { humanSize } from '../format.js';
import { pickSubcommand } from '../subcommands.js';
import { InvalidArgumentError } from '../../runtime/errors.js';

const SUBCOMMANDS: Record<string, CommandSpec> = {
  df: {
    name: 'system df',
    usage: 'system df [OPTIONS]',
    description: 'Show disk usage: images, containers, local volumes and build cache',
    maxArgs: 0,
    options: [
      {
        name: 'verbose',
        short: 'v',
        type: 'boolean',
        description: 'Show detailed information on space usage',
      },
      {
        name: 'format',
        type: 'string',
        description:
          'Format the output using a template (.Type .TotalCount .Active .Size .Reclaimable), or json',
      },
    ],
  },
  prune: {
    name: 'system prune',
    usage: 'system prune [OPTIONS]',
    description: 'Remove unused data: stopped containers, unused networks, dangling images, build cache',
    maxArgs: 0,
    options: [
      {
        name: 'all',
        short: 'a',
        type: 'boolean',
        description: 'Remove all unused images not just dangling ones',
      },
      { name: 'volumes', type: 'boolean', description: 'Prune anonymous volumes' },
      { name: 'force', short: 'f', type: 'boolean', description: 'Do not prompt for confirmation' },
      {
        name: 'filter',
        type: 'list',
        description: 'Provide filter values for the containers: until=TIMESTAMP|DURATION, label=KEY[=VALUE]',
      },
    ],
  },
  service: {
    name: 'system service',
    usage: 'system service --stdio',
    description: 'Serve the engine to a remote gantry (over ssh) on stdin and stdout',
    maxArgs: 0,
    options: [
      {
        name: 'stdio',
        type: 'boolean',
        description: 'Speak the remote protocol on stdin/stdout until stdin ends (the only transport)',
      },
    ],
  },
};

export const spec: CommandSpec = {
  name: 'system',
  usage: 'system COMMAND',
  description: [
    'Manage gantry',
    '',
    'Commands:',
    ...Object.entries(SUBCOMMANDS).map(([key, sub]) => `  ${key.padEnd(10)} ${sub.description}`),
  ].join('\n'),
  stopAtFirstPositional: true,
  minArgs: 1,
  options: [],
};

export async function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const picked = pickSubcommand('system', SUBCOMMANDS, parsed.args, context);
  if (!picked) return 0;
  const [subcommand, sub] = picked;
  if (subcommand === 'df') return diskUsage(sub, context);
  if (subcommand === 'prune') return prune(sub, context);
  if (!bool(sub.options, 'stdio'))
    throw new InvalidArgumentError(
      'system service needs --stdio: it serves only on stdin and stdout, never on a socket',
    );
  const [{ serve }, { LocalHostEngine }] = await Promise.all([
    import('../../runtime/remote/server.js'),
    import('../../runtime/remote/host-engine.js'),
  ]);
  const engine = new LocalHostEngine(await context.engine());
  const { serveRelayedCommand } = await import('../relay-command.js');
  await serve(engine, {
    input: process.stdin,
    output: process.stdout,
    channels: { command: serveRelayedCommand },
  });
  return 0;
}

/** docker's RECLAIMABLE: "1.2MB (70%)", the share left out when nothing is there. */
function reclaimable(bytes: number, total: number): string {
  return total > 0 ? `${humanSize(bytes)} (${Math.floor((bytes * 100) / total)}%)` : humanSize(bytes);
}

async function diskUsage(sub: ParsedArgs, context: CommandContext): Promise<number> {
  const engine = await context.engine();
  const [{ diskUsage: measure }, { table, ago }, { formatRows }] = await Promise.all([
    import('../../runtime/system/usage.js'),
    import('../format.js'),
    import('../template.js'),
  ]);
  const usage = await measure(engine);
  const rows = usage.rows.map((row) => ({
    Type: row.Type,
    TotalCount: row.TotalCount,
    Active: row.Active,
    Size: humanSize(row.Size),
    Reclaimable: reclaimable(row.Reclaimable, row.Size),
  }));
  const defaultTable = () =>
    table(
      ['TYPE', 'TOTAL', 'ACTIVE', 'SIZE', 'RECLAIMABLE'],
      rows.map((row) => [row.Type, String(row.TotalCount), String(row.Active), row.Size, row.Reclaimable]),
    );
  const format = str(sub.options, 'format');
  if (format !== undefined) {
    context.stdout.write(
      formatRows(format, rows, {
        headers: {
          Type: 'TYPE',
          TotalCount: 'TOTAL',
          Active: 'ACTIVE',
          Size: 'SIZE',
          Reclaimable: 'RECLAIMABLE',
        },
        defaultTable,
      }),
    );
    return 0;
  }
  if (!bool(sub.options, 'verbose')) {
    context.stdout.write(defaultTable());
    return 0;
  }
  const { imageRows } = await import('./image.js');
  const counts = new Map<string, number>();
  for (const { record } of usage.containers) counts.set(record.Image, (counts.get(record.Image) ?? 0) + 1);
  write(context.stdout, 'Images space usage:');
  write(context.stdout, '');
  context.stdout.write(
    table(
      ['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE', 'SHARED SIZE', 'UNIQUE SIZE', 'CONTAINERS'],
      imageRows(usage.images, counts).map((row) => [
        row.Repository,
        row.Tag,
        row.ID,
        row.CreatedSince,
        humanSize(row.Size),
        humanSize(row.SharedSize),
        humanSize(row.UniqueSize),
        String(row.Containers),
      ]),
    ),
  );
  write(context.stdout, '\nContainers space usage:');
  write(context.stdout, '');
  context.stdout.write(
    table(
      ['CONTAINER ID', 'IMAGE', 'COMMAND', 'LOCAL VOLUMES', 'SIZE', 'CREATED', 'STATUS', 'NAMES'],
      usage.containers.map(({ record, size }) => [
        record.Id.slice(0, 12),
        record.Config.Image,
        JSON.stringify([...record.Config.Entrypoint, ...record.Config.Cmd].join(' ')),
        String(record.Mounts.filter((mount) => mount.Type === 'volume').length),
        humanSize(size),
        ago(record.Created),
        record.State.Status,
        record.Name.replace(/^\//, ''),
      ]),
    ),
  );
  write(context.stdout, '\nLocal Volumes space usage:');
  write(context.stdout, '');
  context.stdout.write(
    table(
      ['VOLUME NAME', 'LINKS', 'SIZE'],
      usage.volumes.map((volume) => [volume.name, String(volume.links), humanSize(volume.size)]),
    ),
  );
  write(context.stdout, `\nBuild cache usage: ${humanSize(usage.rows[3]!.Size)}`);
  write(context.stdout, '');
  context.stdout.write(
    table(
      ['CACHE ID', 'SIZE', 'CREATED'],
      usage.cache.map((entry) => [entry.id.slice(0, 12), humanSize(entry.size), ago(entry.created)]),
    ),
  );
  return 0;
}

async function prune(sub: ParsedArgs, context: CommandContext): Promise<number> {
  const all = bool(sub.options, 'all');
  const volumes = bool(sub.options, 'volumes');
  const { parsePruneFilters, pruneContainers } = await import('../../runtime/containers/prune.js');
  const filters = parsePruneFilters(list(sub.options, 'filter'));
  if (!bool(sub.options, 'force')) {
    const lines = [
      'WARNING! This will remove:',
      '  - all stopped containers',
      '  - all networks not used by at least one container',
      ...(volumes ? ['  - all anonymous volumes not used by at least one container'] : []),
      all ? '  - all images without at least one container associated to them' : '  - all dangling images',
      all ? '  - all build cache' : '  - unused build cache',
      '',
      'Are you sure you want to continue? [y/N] ',
    ];
    if (!(await confirm(lines.join('\n'), context))) {
      if (!process.stdin.isTTY) context.stdout.write('\n');
      return 0;
    }
  }
  const engine = await context.engine();
  let failed = 0;
  const onError = (error: unknown): void => {
    reportError(error, context.stderr);
    failed = 1;
  };
  const containers = await pruneContainers(engine, filters, onError);
  if (containers.deleted.length > 0) {
    write(context.stdout, `Deleted Containers:\n${containers.deleted.join('\n')}`);
    write(context.stdout, '');
  }
  // Networks as `network prune` removes them (it prints its own "Deleted Networks:").
  const network = await import('./network.js');
  await network.run(parseArgs(network.spec, ['prune']), context);
  let reclaimed = containers.reclaimed;
  if (volumes) {
    const { pruneVolumes } = await import('../../runtime/volumes/remove.js');
    const result = await pruneVolumes(engine.volumes, engine.containers, {});
    if (result.removed.length > 0) {
      write(context.stdout, `Deleted Volumes:\n${result.removed.join('\n')}`);
      write(context.stdout, '');
    }
    reclaimed += result.reclaimed;
  }
  const images = await engine.images.prune({ all });
  if (images.deleted.length > 0) {
    write(context.stdout, 'Deleted Images:');
    for (const image of images.deleted) {
      for (const name of image.names) write(context.stdout, `untagged: ${name}`);
      write(context.stdout, `deleted: ${image.id}`);
    }
    write(context.stdout, '');
  }
  reclaimed += images.reclaimedBytes;
  const { BuildCache } = await import('../../runtime/images/build/cache.js');
  await new BuildCache(engine.layout).prune();
  write(context.stdout, `Total reclaimed space: ${humanSize(reclaimed)}`);
  return failed;
}
