/** `gantry commit CONTAINER [REPOSITORY[:TAG]]`: the container's changes become a new image. */
import { list, str, type CommandSpec, type ParsedArgs } from '../args.js';
import { write, type CommandContext } from '../context.js';

export const spec: CommandSpec = {
  name: 'commit',
  usage: 'commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]',
  description:
    "Create a new image from a container's changes (its writable layer becomes a layer on its image)",
  minArgs: 1,
  maxArgs: 2,
  options: [
    { name: 'message', short: 'm', type: 'string', description: 'Commit message (the history comment)' },
    {
      name: 'author',
      short: 'a',
      type: 'string',
      description: 'Author (e.g. "Jane Doe <jane@example.com>")',
    },
    {
      name: 'change',
      short: 'c',
      type: 'list',
      description:
        'Apply a Containerfile instruction to the config (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL)',
    },
    {
      name: 'pause',
      short: 'p',
      type: 'boolean',
      description:
        'Freeze a running container while its layer is read (default true; --pause=false to commit it live)',
    },
  ],
};

export async function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const engine = await context.engine();
  const { commitContainer } = await import('../../runtime/images/commit/commit.js');
  const message = str(parsed.options, 'message');
  const author = str(parsed.options, 'author');
  const image = await commitContainer(engine, parsed.args[0]!, {
    ...(parsed.args[1] !== undefined ? { reference: parsed.args[1] } : {}),
    ...(message !== undefined ? { message } : {}),
    ...(author !== undefined ? { author } : {}),
    changes: list(parsed.options, 'change'),
    pause: parsed.options.pause !== false,
  });
  write(context.stdout, image.id);
  return 0;
}
