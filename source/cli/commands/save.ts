/**
 * `gantry save`: docker's top-level name for writing an image archive (`image export`): a
 * docker-archive on stdout, or to `-o FILE`.
 */
import type { CommandSpec, ParsedArgs } from '../args.js';
import { str } from '../args.js';
import { OUTPUT_OPTION } from '../archive-output.js';
import type { CommandContext } from '../context.js';
import { runImageCommand } from './image.js';

export const spec: CommandSpec = {
  name: 'save',
  usage: 'save [OPTIONS] IMAGE',
  description:
    'Save an image to a tar archive (streamed to STDOUT by default; same as `gantry image export`)',
  minArgs: 1,
  maxArgs: 1,
  options: [
    OUTPUT_OPTION,
    {
      name: 'format',
      type: 'string',
      placeholder: 'docker-archive|oci-archive|oci',
      description: 'Output format (default docker-archive, as docker save)',
    },
  ],
};

export function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const format = str(parsed.options, 'format');
  return runImageCommand(
    'export',
    {
      ...parsed,
      args: [parsed.args[0]!, str(parsed.options, 'output') ?? '-'],
      options: { quiet: true, ...(format !== undefined ? { format } : {}) },
    },
    context,
  );
}
