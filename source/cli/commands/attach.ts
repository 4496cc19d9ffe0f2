import { bool, type CommandSpec, type ParsedArgs } from '../args.js';
import type { CommandContext } from '../context.js';
import { attach } from '../../runtime/init/helper.js';
import { proxySignals } from './attached.js';
import { ConflictError } from '../../runtime/errors.js';

export const spec: CommandSpec = {
  name: 'attach',
  usage: 'attach [OPTIONS] CONTAINER',
  description:
    'Attach local standard input, output, and error streams to a running container (Ctrl-P Ctrl-Q detaches)',
  minArgs: 1,
  maxArgs: 1,
  options: [{ name: 'no-stdin', type: 'boolean', description: 'Do not attach STDIN' }],
};

export async function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const engine = await context.engine();
  const record = await engine.get(parsed.args[0]!);
  if (record.State.Status !== 'running' && record.State.Status !== 'paused') {
    throw new ConflictError(`you cannot attach to a stopped container, start it first`);
  }
  const proxy = proxySignals(); // as run
  try {
    const stdin = record.Config.OpenStdin && !bool(parsed.options, 'no-stdin');
    const handle = await attach(engine.containers.dir(record.Id), 'attach.sock', {
      tty: record.Config.Tty,
      stdin,
    });
    proxy.attach(handle);
    const code = await handle.exit;
    await engine.get(record.Id).catch(() => undefined);
    return code;
  } finally {
    proxy.release();
  }
}
