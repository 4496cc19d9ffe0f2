import { bool, list, str, type CommandSpec, type ParsedArgs } from '../args.js';
import type { CommandContext } from '../context.js';
import { proxySignals } from './attached.js';
import { relay, terminalSize } from './relay.js';

export const spec: CommandSpec = {
  name: 'exec',
  usage: 'exec [OPTIONS] CONTAINER COMMAND [ARG...]',
  description: 'Execute a command in a running container (in all of its namespaces and its cgroup)',
  stopAtFirstPositional: true,
  minArgs: 2,
  options: [
    {
      name: 'detach',
      short: 'd',
      type: 'boolean',
      description: 'Detached mode: run command in the background',
    },
    { name: 'env', short: 'e', type: 'list', description: 'Set environment variables' },
    { name: 'interactive', short: 'i', type: 'boolean', description: 'Keep STDIN open' },
    { name: 'tty', short: 't', type: 'boolean', description: 'Allocate a pseudo-TTY' },
    {
      name: 'user',
      short: 'u',
      type: 'string',
      description: 'Username or UID (format: <name|uid>[:<group|gid>])',
    },
    { name: 'workdir', short: 'w', type: 'string', description: 'Working directory inside the container' },
  ],
};

export async function run(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const [container, ...command] = parsed.args;
  const tty = bool(parsed.options, 'tty');
  if (tty && bool(parsed.options, 'interactive') && !process.stdin.isTTY) {
    context.stderr.write('gantry: the input device is not a TTY; use -i without -t to pipe input\n');
    return 1;
  }
  if (context.host !== undefined) return remoteExec(parsed, context);
  const engine = await context.engine();
  const user = str(parsed.options, 'user');
  const workdir = str(parsed.options, 'workdir');
  const detach = bool(parsed.options, 'detach');
  // The process is in a session of its own (it never shares the caller's terminal): what
  // reaches us (Ctrl-C without -t, a kill of the CLI) is passed on to it, as run and attach do.
  const proxy = proxySignals();
  try {
    const handle = await engine.exec(container!, {
      command,
      env: list(parsed.options, 'env'),
      tty,
      interactive: bool(parsed.options, 'interactive'),
      detach,
      ...(user !== undefined ? { user } : {}),
      ...(workdir !== undefined ? { workdir } : {}),
    });
    // docker's exec -d prints nothing: the process runs on, its pid is in `gantry top`.
    if (detach) return 0;
    proxy.attach(handle);
    return await handle.exit;
  } finally {
    proxy.release();
  }
}

/**
 * exec on a remote host: the process's pipes or pty are on the far side; its bytes come and go
 * over the protocol. With -t this terminal is raw (keys pass as they are, Ctrl-C included) and
 * its size is the pty's at the start.
 */
async function remoteExec(parsed: ParsedArgs, context: CommandContext): Promise<number> {
  const [container, ...command] = parsed.args;
  const tty = bool(parsed.options, 'tty');
  const interactive = bool(parsed.options, 'interactive');
  const detach = bool(parsed.options, 'detach');
  const user = str(parsed.options, 'user');
  const workdir = str(parsed.options, 'workdir');
  const engine = await context.hostEngine();
  const consoleSize = terminalSize(tty);
  const stream = await engine.exec(container!, {
    command,
    env: list(parsed.options, 'env'),
    tty,
    interactive,
    detach,
    ...(user !== undefined ? { user } : {}),
    ...(workdir !== undefined ? { workdir } : {}),
    ...(consoleSize ? { consoleSize } : {}),
  });
  if (detach) return 0;
  return relay(stream, { interactive, tty, resizable: consoleSize !== undefined });
}
