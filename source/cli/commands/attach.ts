import { bool, type CommandSpec, type ParsedArgs } from '../args.js';
import type { CommandContext } from '../context.js';
import { attach, type AttachHandle } from '../../runtime/init/helper.js';
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
  // As run: signals for the session reach this process and are passed on once (the helper
  // forwards only what its parent sends it).
  let handle: AttachHandle | undefined;
  const forward = (signal: NodeJS.Signals) => handle?.signal(signal);
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];
  for (const signal of signals) process.on(signal, forward);
  try {
    const stdin = record.Config.OpenStdin && !bool(parsed.options, 'no-stdin');
    handle = await attach(engine.containers.dir(record.Id), 'attach.sock', {
      tty: record.Config.Tty,
      stdin,
    });
    const code = await handle.exit;
    await engine.get(record.Id).catch(() => undefined);
    return code;
  } finally {
    for (const signal of signals) process.off(signal, forward);
  }
}
