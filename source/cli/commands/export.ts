/** `gantry export CONTAINER [-o FILE]`: a container's filesystem as a tar archive (docker export). */
import fs from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { str, type CommandSpec, type ParsedArgs } from '../args.js';
import type { CommandContext } from '../context.js';
import { InvalidArgumentError } from '../../runtime/errors.js';

export const spec: CommandSpec = {
  name: 'export',
  usage: 'export [OPTIONS] CONTAINER',
  description:
    "Export a container's filesystem as a tar archive (to STDOUT or -o FILE; volumes and binds left out)",
  minArgs: 1,
  maxArgs: 1,
  options: [
    {
      name: 'output',
      short: 'o',
      type: 'string',
      placeholder: 'file',
      description: 'Write to a file, instead of STDOUT',
    },
  ],
};

export async function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const file = str(parsed.options, 'output');
  if (file === undefined && process.stdout.isTTY) {
    throw new InvalidArgumentError('refusing to write a container archive to a terminal', {
      hint: 'use -o FILE, or redirect stdout to a file or a pipe',
    });
  }
  const engine = await context.engine();
  const record = await engine.get(parsed.args[0]!);
  const { exportContainer } = await import('../../runtime/containers/export.js');
  if (file === undefined) {
    // Through process.stdout (which never ends), with its backpressure and EPIPE handling.
    const { PassThrough } = await import('node:stream');
    const output = new PassThrough({ highWaterMark: 1 << 20 });
    output.pipe(process.stdout, { end: false });
    await exportContainer(engine, record, output);
    if (process.stdout.writableNeedDrain) await once(process.stdout, 'drain');
    return 0;
  }
  // Written beside the target and renamed into place: a failed or killed export leaves no
  // half archive under the name asked for.
  const target = path.resolve(file);
  const partial = path.join(path.dirname(target), `.${path.basename(target)}.partial-${process.pid}`);
  try {
    await exportContainer(engine, record, fs.createWriteStream(partial, { flags: 'wx', mode: 0o600 }));
    fs.renameSync(partial, target);
  } catch (error) {
    fs.rmSync(partial, { force: true });
    throw error;
  }
  return 0;
}
