/** The subcommands of `gantry volume`, each printing what docker's prints. */
import { bool, keyValues, list, str, UsageError, type ParsedArgs } from '../args.js';
import { write, type CommandContext } from '../context.js';
import { reportError } from '../errors.js';
import { humanSize } from '../format.js';
import { printInspected, printListing } from '../listing.js';
import type { HostVolume } from '../../runtime/remote/host-engine.js';

export async function runVolumeCreate(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const given = parsed.args[0];
  const flagName = str(parsed.options, 'name');
  if (given !== undefined && flagName !== undefined && given !== flagName) {
    throw new UsageError(`conflicting options: either specify --name or provide positional arg, not both`);
  }
  const name = given ?? flagName;
  const engine = await context.engine();
  const driver = str(parsed.options, 'driver');
  const { volume } = await engine.volumes.withLock(
    () =>
      engine.volumes.create({
        ...(name !== undefined ? { name } : {}),
        ...(driver !== undefined ? { driver } : {}),
        labels: keyValues(parsed.options, 'label'),
        options: keyValues(parsed.options, 'opt'),
      }),
    { shared: true },
  );
  write(context.stdout, volume.Name);
  return 0;
}

/** docker's column titles of `volume ls --format 'table ...'`. */
const VOLUME_HEADERS: Record<string, string> = {
  Name: 'VOLUME NAME',
  Driver: 'DRIVER',
  Scope: 'SCOPE',
  Mountpoint: 'MOUNTPOINT',
  Labels: 'LABELS',
  Label: 'LABEL',
  Links: 'LINKS',
  Size: 'SIZE',
};

/** The volumes of the command's host, with their users and (when asked for) their sizes. */
async function hostVolumes(context: CommandContext, sizes: boolean): Promise<HostVolume[]> {
  if (context.host !== undefined) return (await context.hostEngine()).volumes.list({ sizes });
  const { listVolumes } = await import('../../runtime/remote/host-resources.js');
  return listVolumes(await context.engine(), { sizes });
}

export async function runVolumeLs(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const { parseVolumeFilters, matchesVolumeFilters } = await import('../../runtime/volumes/filters.js');
  const filters = parseVolumeFilters(list(parsed.options, 'filter'), ['dangling', 'driver', 'label', 'name']);
  const format = str(parsed.options, 'format');
  const wantsSize = format !== undefined && (/size/i.test(format) || format.trim() === 'json');
  const volumes = (await hostVolumes(context, wantsSize)).filter((entry) =>
    matchesVolumeFilters(entry.volume, entry.links > 0, filters),
  );
  const rows = volumes.map(({ volume, links, mountpoint, size }) => {
    const labels = volume.Labels;
    return {
      Name: volume.Name,
      Driver: volume.Driver,
      Scope: 'local',
      Mountpoint: mountpoint,
      Labels: Object.entries(volume.Labels)
        .map(([key, value]) => `${key}=${value}`)
        .join(','),
      Links: String(links),
      Size: size !== undefined ? humanSize(size) : 'N/A',
      Availability: 'N/A',
      Group: 'N/A',
      Status: 'N/A',
      Label: (key: unknown) => labels[String(key)] ?? '',
    };
  });
  printListing(parsed, context, {
    rows,
    quiet: (row) => row.Name,
    columns: ['DRIVER', 'VOLUME NAME'],
    cells: (row) => [row.Driver, row.Name],
    headers: VOLUME_HEADERS,
  });
  return 0;
}

export async function runVolumeInspect(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const engine = await context.engine();
  return printInspected(
    parsed,
    context,
    async (name) => {
      const volume = await engine.volumes.get(name);
      return {
        CreatedAt: volume.CreatedAt,
        Driver: volume.Driver,
        Labels: volume.Labels,
        Mountpoint: engine.volumes.dataPath(volume.Name),
        Name: volume.Name,
        Options: volume.Options,
        Scope: 'local',
      };
    },
    { printEmpty: false },
  );
}

export async function runVolumeRm(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const engine = await context.engine();
  const { removeVolume } = await import('../../runtime/volumes/remove.js');
  const force = bool(parsed.options, 'force');
  let failed = 0;
  for (const name of parsed.args) {
    try {
      await removeVolume(engine.volumes, engine.containers, name, { force });
      write(context.stdout, name);
    } catch (error) {
      reportError(error, context.stderr);
      failed = 1;
    }
  }
  return failed;
}

export async function runVolumePrune(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const engine = await context.engine();
  const { parseVolumeFilters } = await import('../../runtime/volumes/filters.js');
  const { pruneVolumes } = await import('../../runtime/volumes/remove.js');
  const filters = parseVolumeFilters(list(parsed.options, 'filter'), ['label', 'label!', 'all']);
  // docker takes --filter all=true as --all.
  const all =
    bool(parsed.options, 'all') ||
    (filters.get('all') ?? []).some((value) => value === 'true' || value === '1');
  filters.delete('all');
  const result = await pruneVolumes(engine.volumes, engine.containers, { all, filters });
  if (result.removed.length > 0) write(context.stdout, `Deleted Volumes:\n${result.removed.join('\n')}\n`);
  write(context.stdout, `Total reclaimed space: ${humanSize(result.reclaimed)}`);
  return 0;
}
