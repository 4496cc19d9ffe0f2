import { str, type CommandSpec, type ParsedArgs } from '../args.js';
import type { CommandContext } from '../context.js';
import { printInspected } from '../listing.js';

export const spec: CommandSpec = {
  name: 'inspect',
  usage: 'inspect [OPTIONS] NAME|ID [NAME|ID...]',
  description: "Display detailed information on containers or images (JSON shaped like docker's)",
  minArgs: 1,
  options: [
    {
      name: 'format',
      short: 'f',
      type: 'string',
      description: 'Format the output using a template, e.g. "{{.State.Pid}}"',
    },
    { name: 'type', type: 'string', description: 'Only look for this type: container or image' },
  ],
};

export async function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const engine = await context.hostEngine();
  const type = str(parsed.options, 'type');
  if (type !== undefined && type !== 'container' && type !== 'image') {
    context.stderr.write(
      `gantry: invalid --type ${JSON.stringify(type)}: accepted are container and image\n`,
    );
    return 125;
  }
  return printInspected(parsed, context, (reference) => engine.inspect(reference, type));
}
