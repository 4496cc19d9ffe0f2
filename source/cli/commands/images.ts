import type { CommandSpec, ParsedArgs } from '../args.js';
import type { CommandContext } from '../context.js';
import { listImages } from './image.js';

export const spec: CommandSpec = {
  name: 'images',
  usage: 'images [OPTIONS]',
  description: 'List images (same as `gantry image ls`)',
  maxArgs: 0,
  options: [
    { name: 'quiet', short: 'q', type: 'boolean', description: 'Only show image IDs' },
    { name: 'no-trunc', type: 'boolean', description: "Don't truncate output" },
    { name: 'json', type: 'boolean', description: 'Print a JSON array' },
    { name: 'format', type: 'string', description: 'Format each image with a template' },
  ],
};

export function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  return listImages(parsed, context);
}
