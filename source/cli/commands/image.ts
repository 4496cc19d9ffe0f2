/** `gantry image ls|rm|import|export|pull|push|tree|history|prune|from-host|tag|inspect`. */
import { bool, str, type CommandSpec, type ParsedArgs } from '../args.js';
import { pickSubcommand } from '../subcommands.js';
import { write, type CommandContext } from '../context.js';
import { reportError } from '../errors.js';
import { ago, humanSize, table } from '../format.js';
import { refuseTerminalStdout, streamToStdout } from '../archive-output.js';
import { printInspected } from '../listing.js';
import { InvalidArgumentError } from '../../runtime/errors.js';
import { formatRows } from '../template.js';
import type { ImageRecord } from '../../runtime/images/types.js';
import { spec as pullSpec } from './pull.js';
import { spec as pushSpec } from './push.js';
import { spec as historySpec } from './history.js';
import { spec as pruneSpec } from './image-prune.js';
import { spec as treeSpec } from './image-tree.js';
import { spec as importSpec } from './import.js';

export const spec: CommandSpec = {
  name: 'image',
  usage: 'image COMMAND',
  description: 'Manage images',
  stopAtFirstPositional: true,
  minArgs: 1,
  options: [],
};

const SUBCOMMANDS: Record<string, CommandSpec> = {
  ls: {
    name: 'image ls',
    usage: 'image ls [OPTIONS]',
    description: 'List images with their size, and how much of it is shared with other images',
    maxArgs: 0,
    aliases: ['list'],
    options: [
      { name: 'quiet', short: 'q', type: 'boolean', description: 'Only show image IDs' },
      { name: 'no-trunc', type: 'boolean', description: "Don't truncate output" },
      { name: 'json', type: 'boolean', description: 'Print a JSON array' },
      {
        name: 'format',
        type: 'string',
        description: 'Format each image with a template, e.g. "{{.Repository}}:{{.Tag}}"',
      },
    ],
  },
  rm: {
    name: 'image rm',
    usage: 'image rm [OPTIONS] IMAGE [IMAGE...]',
    description: 'Remove one or more images (layers are freed only when nothing else uses them)',
    minArgs: 1,
    options: [
      {
        name: 'force',
        short: 'f',
        type: 'boolean',
        description: 'Remove by ID even with several names, untag images in use',
      },
    ],
  },
  import: {
    ...importSpec,
    name: 'image import',
    usage: importSpec.usage.replace(/^import/, 'image import'),
  },
  export: {
    name: 'image export',
    usage: 'image export [OPTIONS] IMAGE PATH|-',
    description: 'Write an image as an OCI layout directory, an OCI archive or a docker-archive tarball',
    minArgs: 2,
    maxArgs: 2,
    aliases: ['save'],
    options: [
      {
        name: 'format',
        type: 'string',
        placeholder: 'oci|oci-archive|docker-archive',
        description: 'Output format (default docker-archive, as docker save and podman save)',
      },
      {
        name: 'compression-format',
        type: 'string',
        placeholder: 'gzip',
        description:
          'Make every layer of an oci/oci-archive output gzip (for tools without zstd, such as umoci 0.4); default: as stored',
      },
      { name: 'quiet', short: 'q', type: 'boolean', description: 'Print nothing on success' },
    ],
  },
  pull: { ...pullSpec, name: 'image pull', usage: pullSpec.usage.replace(/^pull/, 'image pull') },
  push: { ...pushSpec, name: 'image push', usage: pushSpec.usage.replace(/^push/, 'image push') },
  tree: treeSpec,
  history: {
    ...historySpec,
    name: 'image history',
    usage: historySpec.usage.replace(/^history/, 'image history'),
  },
  prune: pruneSpec,
  'from-host': {
    name: 'image from-host',
    usage: 'image from-host NAME[:TAG]',
    description: "Build a small working image from the host's own binaries (no network needed)",
    minArgs: 1,
    maxArgs: 1,
    options: [],
  },
  tag: {
    name: 'image tag',
    usage: 'image tag SOURCE_IMAGE TARGET_IMAGE[:TAG]',
    description: 'Give an image another name',
    minArgs: 2,
    maxArgs: 2,
    options: [],
  },
  inspect: {
    name: 'image inspect',
    usage: 'image inspect [OPTIONS] IMAGE [IMAGE...]',
    description: 'Display detailed information on images',
    minArgs: 1,
    options: [
      { name: 'format', short: 'f', type: 'string', description: 'Format the output using a template' },
    ],
  },
};

// `gantry image --help` lists its commands, as docker's does (with the top-level ones it reaches).
spec.description = [
  'Manage images',
  '',
  'Commands:',
  ...Object.entries(SUBCOMMANDS).map(
    ([key, sub]) =>
      `  ${[key, ...(sub.aliases ?? [])].join(', ').padEnd(16)} ${sub.description.split('\n')[0]}`,
  ),
  `  ${'build'.padEnd(16)} Build an image from a Containerfile (same as \`gantry build\`)`,
  `  ${'load'.padEnd(16)} Load an image from a tar archive or STDIN (same as \`gantry load\`)`,
  `  ${'remove'.padEnd(16)} Remove one or more images (same as \`gantry rmi\`)`,
].join('\n');

export interface ImageRow {
  ID: string;
  Id: string;
  Repository: string;
  Tag: string;
  RepoTags: string[];
  Digest: string;
  CreatedAt: string;
  CreatedSince: string;
  Size: number;
  SharedSize: number;
  UniqueSize: number;
  Layers: number;
  Containers: number;
  VirtualSize: number;
}

/** One row per name (an untagged image gets one <none> row), with docker's size split. */
export function imageRows(
  records: readonly ImageRecord[],
  containersByImage: Map<string, number>,
): ImageRow[] {
  const layerUsers = new Map<string, number>();
  for (const record of records)
    for (const layer of new Set(record.layers.map((l) => l.chainId)))
      layerUsers.set(layer, (layerUsers.get(layer) ?? 0) + 1);
  const rows: ImageRow[] = [];
  for (const record of records) {
    const unique = record.layers
      .filter((l) => layerUsers.get(l.chainId) === 1)
      .reduce((sum, l) => sum + l.size, 0);
    const base = {
      ID: record.id.replace(/^sha256:/, '').slice(0, 12),
      Id: record.id,
      RepoTags: record.names,
      Digest: record.manifestDigest,
      CreatedAt: record.created,
      CreatedSince: ago(record.created),
      Size: record.size,
      SharedSize: record.size - unique,
      UniqueSize: unique,
      Layers: record.layers.length,
      Containers: containersByImage.get(record.id) ?? 0,
      // docker's deprecated alias of Size, still used by old scripts.
      VirtualSize: record.size,
    };
    // An image pulled by digest alone: its repositories with no tag, as docker lists it.
    const digestOnly = [...new Set((record.digests ?? []).map((entry) => `${entry.split('@')[0]}:<none>`))];
    const names =
      record.names.length > 0 ? record.names : digestOnly.length > 0 ? digestOnly : ['<none>:<none>'];
    for (const name of names) {
      const colon = name.lastIndexOf(':');
      const slash = name.lastIndexOf('/');
      const repository = colon > slash ? name.slice(0, colon) : name;
      const tag = colon > slash ? name.slice(colon + 1) : 'latest';
      rows.push({ ...base, Repository: repository, Tag: tag });
    }
  }
  return rows.sort(
    (a, b) => b.CreatedAt.localeCompare(a.CreatedAt) || a.Repository.localeCompare(b.Repository),
  );
}

/** docker's column titles of `images --format 'table ...'`. */
const IMAGE_HEADERS: Record<string, string> = {
  ID: 'IMAGE ID',
  Id: 'IMAGE ID',
  Repository: 'REPOSITORY',
  Tag: 'TAG',
  Digest: 'DIGEST',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  Size: 'SIZE',
  SharedSize: 'SHARED SIZE',
  UniqueSize: 'UNIQUE SIZE',
  VirtualSize: 'VIRTUAL SIZE',
  Containers: 'CONTAINERS',
};

export async function listImages(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  // On a remote host (--host): its images and containers, over the protocol.
  const remote = context.host !== undefined ? await context.hostEngine() : undefined;
  const engine = remote ? undefined : await context.engine();
  const records = remote ? await remote.images.list() : await engine!.images.list();
  const containers = remote ? await remote.list({ all: true }) : await engine!.containers.list();
  const counts = new Map<string, number>();
  for (const container of containers.records)
    counts.set(container.Image, (counts.get(container.Image) ?? 0) + 1);
  const rows = imageRows(records, counts);
  const full = bool(parsed.options, 'no-trunc');
  if (bool(parsed.options, 'quiet')) {
    for (const id of new Set(rows.map((r) => (full ? r.Id : r.ID)))) write(context.stdout, id);
    return 0;
  }
  if (bool(parsed.options, 'json')) {
    write(context.stdout, JSON.stringify(rows, null, 2));
    return 0;
  }
  const format = str(parsed.options, 'format');
  const defaultTable = () =>
    table(
      ['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE', 'SHARED SIZE', 'UNIQUE SIZE'],
      rows.map((r) => [
        r.Repository,
        r.Tag,
        full ? r.Id : r.ID,
        r.CreatedSince,
        humanSize(r.Size),
        humanSize(r.SharedSize),
        humanSize(r.UniqueSize),
      ]),
    );
  context.stdout.write(
    format === undefined
      ? defaultTable()
      : formatRows(format, rows, { headers: IMAGE_HEADERS, defaultTable }),
  );
  return 0;
}

export async function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const picked = pickSubcommand('image', SUBCOMMANDS, parsed.args, context);
  if (!picked) return 0;
  const [subcommand, sub] = picked;
  return runImageCommand(subcommand, sub, context);
}

/** `image ls|rm|inspect|tree|pull` on a remote host (--host): the same output, over the protocol. */
async function runRemoteImageCommand(
  subcommand: string,
  sub: ParsedArgs,
  context: CommandContext,
): Promise<number> {
  const remote = await context.hostEngine();
  switch (subcommand) {
    case 'ls':
      return listImages(sub, context);
    case 'tree':
      return (await import('./image-tree.js')).run(sub, context);
    case 'pull':
      return (await import('./pull.js')).run(sub, context);
    case 'rm':
      return removeImages(sub, context, (reference, force) => remote.images.remove(reference, { force }));
    case 'inspect':
      return printInspected(sub, context, (reference) => remote.inspect(reference, 'image'));
  }
  throw new InvalidArgumentError(
    `'image ${subcommand}' does not work on a remote host (--host ${context.host})`,
    {
      hint: 'run it on that host, or leave out --host and GANTRY_HOST',
    },
  );
}

/**
 * `image rm` of each reference in turn, here or on a remote host, as docker's: Untagged/Deleted
 * lines, an error for one does not stop the others, 1 if any failed.
 */
async function removeImages(
  sub: ParsedArgs,
  context: CommandContext,
  remove: (
    reference: string,
    force: boolean,
  ) => Promise<{ untagged: string[]; deleted?: string | undefined }>,
): Promise<number> {
  let failed = 0;
  for (const reference of sub.args) {
    try {
      const result = await remove(reference, bool(sub.options, 'force'));
      for (const untagged of result.untagged) write(context.stdout, `Untagged: ${untagged}`);
      if (result.deleted) write(context.stdout, `Deleted: ${result.deleted}`);
    } catch (error) {
      reportError(error, context.stderr);
      failed = 1;
    }
  }
  return failed;
}

/** The spec of `image NAME`, renamed for the top-level alias docker has (`gantry tag`, `rmi`). */
export function aliasSpec(subcommand: string, alias: string): CommandSpec {
  const original = SUBCOMMANDS[subcommand]!;
  return {
    ...original,
    name: alias,
    usage: original.usage.replace(/^image \S+/, alias),
    description: `${original.description} (same as \`gantry ${original.name}\`)`,
  };
}

/** Runs `image SUBCOMMAND` with arguments already parsed against its spec. */
export async function runImageCommand(
  subcommand: string,
  sub: ParsedArgs,
  context: CommandContext,
): Promise<number> {
  if (context.host !== undefined) return runRemoteImageCommand(subcommand, sub, context);
  const engine = await context.engine();
  switch (subcommand) {
    case 'ls':
      return listImages(sub, context);
    case 'rm':
      return removeImages(sub, context, (reference, force) => engine.images.remove(reference, { force }));
    case 'import':
      return (await import('./import.js')).run(sub, context);
    case 'export': {
      const {
        exportImage,
        exportImageToStream,
        parseExportCompression,
        parseExportFormat,
        DEFAULT_EXPORT_FORMAT,
      } = await import('../../runtime/images/export/write.js');
      const formatOption = str(sub.options, 'format');
      const format = formatOption === undefined ? DEFAULT_EXPORT_FORMAT : parseExportFormat(formatOption);
      const compression = str(sub.options, 'compression-format');
      const exportOptions =
        compression === undefined ? {} : { compression: parseExportCompression(compression) };
      if (sub.args[1] === '-') {
        // As docker save: the archive goes to stdout, but never onto a terminal.
        refuseTerminalStdout(
          'an image archive',
          'redirect stdout to a file or a pipe, or give a path instead of -',
        );
        await streamToStdout((output) =>
          exportImageToStream(engine.images, sub.args[0]!, output, format, exportOptions),
        );
        return 0;
      }
      const result = await exportImage(engine.images, sub.args[0]!, sub.args[1]!, format, exportOptions);
      if (!bool(sub.options, 'quiet')) {
        write(
          context.stdout,
          `Exported ${result.name ?? result.imageId} to ${result.path} (${result.format}, manifest ${result.manifestDigest})`,
        );
        if (result.rewritten)
          write(
            context.stdout,
            `Note: some layer blobs were rebuilt from the unpacked layers; the exported image ID is ${result.imageId}`,
          );
      }
      return 0;
    }
    case 'pull':
      return (await import('./pull.js')).run(sub, context);
    case 'push':
      return (await import('./push.js')).run(sub, context);
    case 'tree':
      return (await import('./image-tree.js')).run(sub, context);
    case 'history':
      return (await import('./history.js')).run(sub, context);
    case 'prune':
      return (await import('./image-prune.js')).run(sub, context);
    case 'from-host': {
      const record = await engine.images.fromHost(sub.args[0]!);
      write(context.stdout, `Created ${record.names.join(', ')} ${record.id}`);
      return 0;
    }
    case 'tag':
      await engine.images.tag(sub.args[0]!, sub.args[1]!);
      return 0;
    case 'inspect': {
      const { inspectImage } = await import('../../runtime/images/inspect.js');
      return printInspected(sub, context, async (reference) => {
        const record = await engine.images.resolve(reference);
        return inspectImage(record, await engine.images.readConfig(record));
      });
    }
  }
  return 125;
}
