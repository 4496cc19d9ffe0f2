/** `gantry build`: builds an image from a Containerfile, reusing cached layers. */
import { bool, list, str, type CommandSpec, type ParsedArgs } from '../args.js';
import { write, type CommandContext } from '../context.js';
import { InvalidArgumentError } from '../../runtime/errors.js';
import { readStdinText } from '../stdin.js';

export const spec: CommandSpec = {
  name: 'build',
  usage: 'build [OPTIONS] PATH | -',
  description:
    'Build an image from a Containerfile (or Dockerfile); RUN steps run in containers of this runtime',
  minArgs: 1,
  maxArgs: 1,
  options: [
    {
      name: 'tag',
      short: 't',
      type: 'list',
      placeholder: 'name',
      description: 'Name and optionally a tag ("name:tag"); may be repeated',
    },
    {
      name: 'file',
      short: 'f',
      type: 'string',
      placeholder: 'file',
      description: 'The Containerfile (default: PATH/Containerfile, else PATH/Dockerfile; - reads stdin)',
    },
    { name: 'no-cache', type: 'boolean', description: 'Do not use the build cache: run every step' },
    {
      name: 'build-arg',
      type: 'list',
      placeholder: 'NAME=VALUE',
      description: 'Set a build-time variable (an ARG); NAME alone takes it from the environment',
    },
    {
      name: 'network',
      type: 'string',
      placeholder: 'mode',
      description: 'Network of RUN steps: none (default) or host',
    },
    {
      name: 'label',
      type: 'list',
      placeholder: 'KEY=VALUE',
      description: 'Set a label on the image (as LABEL at the end of the file); may be repeated',
    },
    { name: 'iidfile', type: 'string', placeholder: 'file', description: 'Write the image ID to the file' },
    {
      name: 'platform',
      type: 'string',
      placeholder: 'os/arch',
      description: "Target platform; only this host's platform can be built",
    },
    {
      name: 'ulimit',
      type: 'list',
      placeholder: 'name=soft[:hard]',
      description: 'Resource limits of RUN steps (as run --ulimit); may be repeated',
    },
    {
      name: 'target',
      type: 'string',
      placeholder: 'stage',
      description: 'Build the stage of this name (and the stages it needs) instead of the last one',
    },
    { name: 'quiet', short: 'q', type: 'boolean', description: 'Print only the image ID' },
  ],
};

function buildArgs(values: readonly string[]): Record<string, string> {
  const result: Record<string, string> = {};
  for (const value of values) {
    const equals = value.indexOf('=');
    if (equals === 0)
      throw new InvalidArgumentError(
        `invalid --build-arg ${JSON.stringify(value)}: expected NAME=VALUE or NAME`,
      );
    if (equals < 0) {
      // docker: NAME alone takes the value from the environment, and is unset when it has none.
      if (process.env[value] !== undefined) result[value] = process.env[value] as string;
    } else {
      result[value.slice(0, equals)] = value.slice(equals + 1);
    }
  }
  return result;
}

export async function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const network = str(parsed.options, 'network') ?? 'none';
  if (network !== 'none' && network !== 'host') {
    throw new InvalidArgumentError(
      `invalid --network ${JSON.stringify(network)}: accepted are none and host`,
    );
  }
  const quiet = bool(parsed.options, 'quiet');
  const engine = await context.engine();
  const [{ build }, { buildEventText, buildDoneText }] = await Promise.all([
    import('../../runtime/images/build/builder.js'),
    import('../build-progress.js'),
  ]);
  const out = (text: string): void => {
    if (!quiet) context.stdout.write(text);
  };
  const controller = new AbortController();
  const cancel = (): void => controller.abort();
  process.once('SIGINT', cancel);
  process.once('SIGTERM', cancel);
  try {
    const file = str(parsed.options, 'file');
    // `-f -`: the Containerfile comes from stdin, as with docker.
    const contextArgument = parsed.args[0]!;
    if (file === '-' && contextArgument === '-') {
      throw new InvalidArgumentError('the build context and the Containerfile cannot both come from stdin', {
        hint: 'put the Containerfile in the tar on stdin, or give a context directory with -f -',
      });
    }
    const containerfileText = file === '-' ? await readStdinText() : undefined;
    const result = await build(engine, {
      context: contextArgument,
      // `-`: the context (a tar) or the Containerfile comes on stdin, as with docker.
      ...(contextArgument === '-' ? { contextStream: process.stdin } : {}),
      ...(containerfileText !== undefined ? { containerfileText } : file !== undefined ? { file } : {}),
      tags: list(parsed.options, 'tag'),
      noCache: bool(parsed.options, 'no-cache'),
      buildArgs: buildArgs(list(parsed.options, 'build-arg')),
      labels: list(parsed.options, 'label'),
      ulimits: list(parsed.options, 'ulimit'),
      ...(str(parsed.options, 'platform') !== undefined
        ? { platform: str(parsed.options, 'platform') as string }
        : {}),
      ...(str(parsed.options, 'target') !== undefined
        ? { target: str(parsed.options, 'target') as string }
        : {}),
      network,
      signal: controller.signal,
      onEvent: (event) => {
        const said = buildEventText(event);
        if (!said) return;
        // Warnings are said even with -q, as before; everything else only without it.
        if (event.type === 'warning') context.stderr.write(said.text);
        else if (!quiet) (said.stream === 'stderr' ? context.stderr : context.stdout).write(said.text);
      },
    });
    const { parseImageName } = await import('../../runtime/images/reference.js');
    out(
      buildDoneText(
        result.image.id,
        list(parsed.options, 'tag').map((tag) => parseImageName(tag)),
      ),
    );
    const iidfile = str(parsed.options, 'iidfile');
    if (iidfile !== undefined) {
      const { writeFile } = await import('node:fs/promises');
      await writeFile(iidfile, result.image.id);
    }
    write(context.stdout, result.image.id);
    return 0;
  } finally {
    process.off('SIGINT', cancel);
    process.off('SIGTERM', cancel);
  }
}
