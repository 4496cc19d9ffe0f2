/**
 * `gantry load`: docker's top-level name for reading an image archive (`image import`): a
 * docker-archive, OCI archive or OCI layout from `-i FILE`, or a tar on STDIN (spooled into a
 * private work directory under the state root while it is imported, since an archive is read out
 * of order).
 */
import { bool, str, type CommandSpec, type ParsedArgs } from '../args.js';
import { write, type CommandContext } from '../context.js';
import { InvalidArgumentError } from '../../runtime/errors.js';
import type { Spool } from '../../runtime/images/work-directory.js';
import { spoolStdin } from '../stdin.js';

export const spec: CommandSpec = {
  name: 'load',
  usage: 'load [OPTIONS]',
  description: 'Load an image from a tar archive or STDIN (same as `gantry image import`)',
  maxArgs: 0,
  options: [
    {
      name: 'input',
      short: 'i',
      type: 'string',
      placeholder: 'file',
      description: 'Read from tar archive file, instead of STDIN',
    },
    { name: 'quiet', short: 'q', type: 'boolean', description: 'Suppress the load output' },
  ],
};

export async function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const engine = await context.engine();
  let input = str(parsed.options, 'input');
  let spool: Spool | undefined;
  try {
    if (input === undefined || input === '-') {
      if (process.stdin.isTTY)
        throw new InvalidArgumentError('requested load from stdin, but stdin is a terminal', {
          hint: 'give the archive with -i FILE, or redirect it to stdin (gantry load < image.tar)',
        });
      spool = await spoolStdin(engine.images, 'stdin', 'image.tar');
      input = spool.file;
    }
    const records = await engine.images.import(input);
    if (!bool(parsed.options, 'quiet'))
      for (const record of records) {
        if (record.names.length === 0) write(context.stdout, `Loaded image ID: ${record.id}`);
        for (const name of record.names) write(context.stdout, `Loaded image: ${name}`);
      }
    return 0;
  } finally {
    await spool?.work.dispose();
  }
}
