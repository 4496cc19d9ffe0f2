/** `gantry cp`: files between a container (running or stopped) and the host, or a tar stream. */
import { bool, UsageError, type CommandSpec, type ParsedArgs } from '../args.js';
import type { Writable } from 'node:stream';
import type { CommandContext } from '../context.js';

export const spec: CommandSpec = {
  name: 'cp',
  usage:
    'cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n        gantry cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH',
  description:
    'Copy files/folders between a container and the local filesystem ("-" is a tar stream on stdin or stdout)',
  minArgs: 2,
  maxArgs: 2,
  options: [
    {
      name: 'archive',
      short: 'a',
      type: 'boolean',
      description:
        'Archive mode (copy all uid/gid information; otherwise files are owned by root at the destination)',
    },
    {
      name: 'follow-link',
      short: 'L',
      type: 'boolean',
      description: 'Always follow symbol link in SRC_PATH',
    },
    {
      name: 'quiet',
      short: 'q',
      type: 'boolean',
      description: 'Suppress progress output (gantry prints none)',
    },
  ],
};

/** docker's rule: "NAME:PATH" is in a container unless the part before ":" holds a "/" (a local path). */
function splitContainerPath(argument: string): { container: string; path: string } | undefined {
  const index = argument.indexOf(':');
  if (index <= 0) return undefined;
  const container = argument.slice(0, index);
  if (container.includes('/')) return undefined;
  return { container, path: argument.slice(index + 1) };
}

export async function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const [first, second] = parsed.args as [string, string];
  const from = splitContainerPath(first);
  const to = splitContainerPath(second);
  if (from && to)
    throw new UsageError("copying between containers is not supported\nSee 'gantry cp --help'.");
  if (!from && !to) {
    throw new UsageError(
      "must specify at least one container source (CONTAINER:PATH)\nSee 'gantry cp --help'.",
    );
  }
  const options = {
    archive: bool(parsed.options, 'archive'),
    followLink: bool(parsed.options, 'follow-link'),
  };
  if (context.host !== undefined) return remoteCopy(context, first, second, from, to, options);
  const engine = await context.engine();
  const { copyFromContainer, copyToContainer } = await import('../../runtime/containers/copy/copy.js');
  if (from) {
    if (from.path === '') throw new UsageError('empty source path in the container');
    const record = await engine.get(from.container);
    const output = second === '-' ? (context.stdout as unknown as Writable) : second;
    await copyFromContainer(engine, record, from.path, output, options);
    return 0;
  }
  if (to!.path === '') throw new UsageError('empty destination path in the container');
  const record = await engine.get(to!.container);
  await copyToContainer(engine, record, first === '-' ? process.stdin : first, to!.path, options);
  return 0;
}

/**
 * cp with the container on a remote host: the host resolves its side inside the container's root
 * (the same code as a local cp) and the files travel as a tar stream over the protocol, a window
 * at a time (so a big file is never held in memory on either side). This side reads or places
 * its own files by the same rules.
 */
async function remoteCopy(
  context: CommandContext,
  first: string,
  second: string,
  from: { container: string; path: string } | undefined,
  to: { container: string; path: string } | undefined,
  options: { archive: boolean; followLink: boolean },
): Promise<number> {
  const engine = await context.hostEngine();
  const [{ pipeline }, streams, { contentsOnlyPath }] = await Promise.all([
    import('node:stream/promises'),
    import('../../runtime/containers/copy/streams.js'),
    import('../../runtime/containers/copy/copy.js'),
  ]);
  if (from) {
    if (from.path === '') throw new UsageError('empty source path in the container');
    const toStdout = second === '-';
    const archive = await engine.copyFrom(from.container, {
      source: from.path,
      ...options,
      wholeTree: !toStdout,
    });
    if (toStdout) await pipeline(archive, context.stdout as unknown as Writable, { end: false });
    else
      await streams.extractTreeToHost(archive, second, {
        ...options,
        contentsOnly: contentsOnlyPath(from.path),
        label: `the copy of ${from.container}:${from.path} from ${engine.host}`,
      });
    return 0;
  }
  if (to!.path === '') throw new UsageError('empty destination path in the container');
  if (first === '-') {
    await engine.copyTo(to!.container, { destination: to!.path, archive: options.archive }, process.stdin);
    return 0;
  }
  const { source, archive } = streams.hostTreeArchive(first, options);
  await engine.copyTo(to!.container, { destination: to!.path, archive: options.archive, source }, archive);
  return 0;
}
