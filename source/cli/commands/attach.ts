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
  if (context.host !== undefined) return remoteAttach(parsed, context);
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

/**
 * attach on a remote host: the container's streams there relayed over the protocol, this terminal
 * raw with a tty (its size the container's, Ctrl-P Ctrl-Q detaching here).
 */
async function remoteAttach(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const engine = await context.hostEngine();
  const record = await engine.get(parsed.args[0]!);
  const { relay, terminalSize } = await import('./relay.js');
  const tty = record.Config.Tty;
  const stdin = record.Config.OpenStdin && !bool(parsed.options, 'no-stdin');
  const consoleSize = terminalSize(tty);
  const stream = await engine.attach(record.Id, { stdin, tty, ...(consoleSize ? { consoleSize } : {}) });
  return relay(stream, { interactive: stdin, tty, resizable: consoleSize !== undefined });
}
