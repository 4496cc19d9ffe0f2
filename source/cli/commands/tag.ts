/** `gantry tag`: docker's top-level name for `gantry image tag`. */
import type { ParsedArgs } from '../args.js';
import type { CommandContext } from '../context.js';
import { aliasSpec, runImageCommand } from './image.js';

export const spec = aliasSpec('tag', 'tag');

export function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  return runImageCommand('tag', parsed, context);
}
