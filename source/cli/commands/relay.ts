/**
 * A process on a remote host relayed through this terminal (exec, run without -d, start -a): its
 * output to this stdout/stderr, this stdin to it with -i, the signals that reach this process to
 * it, and with -t a raw terminal whose size the far pty follows.
 */
import type { ExecStream } from '../../runtime/remote/host-engine.js';

/** The size of this terminal, when a tty is wanted and stdout is one. */
export function terminalSize(tty: boolean): { rows: number; cols: number } | undefined {
  return tty && process.stdout.isTTY
    ? { rows: process.stdout.rows, cols: process.stdout.columns }
    : undefined;
}

export async function relay(
  stream: ExecStream,
  options: {
    interactive: boolean;
    tty: boolean;
    resizable: boolean;
    /** Ctrl-P Ctrl-Q on the raw terminal detaches (attach): the relay ends, the process runs on. */
    detachKeys?: boolean;
  },
): Promise<number> {
  stream.onOutput((data, fd) => (fd === 2 ? process.stderr : process.stdout).write(data));
  const raw = options.tty && options.interactive && process.stdin.isTTY;
  if (raw) process.stdin.setRawMode(true);
  const forward = (signal: NodeJS.Signals) => stream.signal(signal);
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];
  for (const signal of signals) process.on(signal, forward);
  // SIGWINCH here: the far pty takes the new size (its process gets its own SIGWINCH there).
  const resize = () => stream.resize(process.stdout.rows, process.stdout.columns);
  if (options.resizable) process.stdout.on('resize', resize);
  let detach: (code: number) => void = () => undefined;
  const detached = new Promise<number>((resolve) => (detach = resolve));
  let previous = -1;
  const onInput = (data: Buffer) => {
    if (raw && options.detachKeys)
      for (const byte of data) {
        if (previous === 0x10 && byte === 0x11) {
          process.stderr.write('\r\nread escape sequence\r\n');
          detach(0);
          return;
        }
        previous = byte;
      }
    stream.write(data);
  };
  const onEnd = () => stream.endInput();
  if (options.interactive) {
    process.stdin.on('data', onInput);
    process.stdin.on('end', onEnd);
  }
  try {
    return await Promise.race([stream.exit, detached]);
  } finally {
    for (const signal of signals) process.off(signal, forward);
    process.stdout.off('resize', resize);
    process.stdin.off('data', onInput);
    process.stdin.off('end', onEnd);
    if (raw) process.stdin.setRawMode(false);
    // Nothing more is read: the process may end without waiting for another key.
    process.stdin.pause();
    if (options.interactive) process.stdin.destroy();
  }
}
