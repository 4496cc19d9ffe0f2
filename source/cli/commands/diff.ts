/** `gantry diff CONTAINER`: what changed in the container's filesystem (A/C/D, like docker diff). */
import { bool, type CommandSpec, type ParsedArgs } from '../args.js';
import { write, type CommandContext } from '../context.js';

export const spec: CommandSpec = {
  name: 'diff',
  usage: 'diff [OPTIONS] CONTAINER',
  description:
    "Inspect changes to files or directories on a container's filesystem (A added, C changed, D deleted), read from its live writable layer",
  minArgs: 1,
  maxArgs: 1,
  options: [
    { name: 'json', type: 'boolean', description: 'Print a JSON array of {"Path", "Kind"} objects' },
    {
      name: 'pause',
      short: 'p',
      type: 'boolean',
      description:
        'Freeze a running container while its layer is read (default true; --pause=false to read it live)',
    },
  ],
};

export async function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const engine = await context.engine();
  const { diffContainer } = await import('../../runtime/images/diff/container.js');
  const changes = await diffContainer(engine, parsed.args[0]!, { pause: parsed.options.pause !== false });
  if (bool(parsed.options, 'json')) {
    write(context.stdout, JSON.stringify(changes, null, 2));
    return 0;
  }
  if (changes.length > 0)
    context.stdout.write(`${changes.map((change) => `${change.Kind} ${change.Path}`).join('\n')}\n`);
  return 0;
}
