import type { CommandSpec, ParsedArgs } from '../args.js';
import { write, type CommandContext } from '../context.js';
import { CREATE_OPTIONS, createOptionsFrom } from './run-options.js';
import { ensureImage, PULL_OPTIONS } from './pull-policy.js';

export const spec: CommandSpec = {
  name: 'create',
  usage: 'create [OPTIONS] IMAGE [COMMAND] [ARG...]',
  description: 'Create a new container',
  stopAtFirstPositional: true,
  minArgs: 1,
  options: [...CREATE_OPTIONS, ...PULL_OPTIONS],
};

export async function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const options = await createOptionsFrom(parsed.options, parsed.args);
  await ensureImage(context, options.image, parsed.options);
  const engine = await context.hostEngine();
  const record = await engine.create(options);
  write(context.stdout, record.Id);
  return 0;
}
