/** `gantry export CONTAINER [-o FILE]`: a container's filesystem as a tar archive (docker export). */
import fs from 'node:fs';
import path from 'node:path';
import { str, type CommandSpec, type ParsedArgs } from '../args.js';
import type { CommandContext } from '../context.js';
import { OUTPUT_OPTION, refuseTerminalStdout, streamToStdout } from '../archive-output.js';

export const spec: CommandSpec = {
  name: 'export',
  usage: 'export [OPTIONS] CONTAINER',
  description:
    "Export a container's filesystem as a tar archive (to STDOUT or -o FILE; volumes and binds left out)",
  minArgs: 1,
  maxArgs: 1,
  options: [OUTPUT_OPTION],
};

export async function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const file = str(parsed.options, 'output');
  if (file === undefined)
    refuseTerminalStdout('a container archive', 'use -o FILE, or redirect stdout to a file or a pipe');
  const engine = await context.engine();
  const record = await engine.get(parsed.args[0]!);
  const { exportContainer } = await import('../../runtime/containers/export.js');
  if (file === undefined) {
    await streamToStdout((output) => exportContainer(engine, record, output));
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
