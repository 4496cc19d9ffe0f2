/** `gantry rmi`: docker's top-level name for `gantry image rm`. */
import type { ParsedArgs } from '../args.js';
import type { CommandContext } from '../context.js';
import { aliasSpec, runImageCommand } from './image.js';

export const spec = aliasSpec('rm', 'rmi');

export function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  return runImageCommand('rm', parsed, context);
}
