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
