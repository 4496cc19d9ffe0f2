/**
 * A process on a remote host relayed through this terminal (exec, run without -d, start -a,
 * attach): its output to this stdout/stderr, this stdin to it with -i, the signals that reach this
 * process to it, and with -t a raw terminal whose size the far pty follows (and whose Ctrl-P
 * Ctrl-Q detaches from an attached container).
 */
import type { ExecStream } from '../../runtime/remote/host-engine.js';
import { proxySignals } from './attached.js';

/** The size of this terminal, when a tty is wanted and stdout is one. */
export function terminalSize(tty: boolean): { rows: number; cols: number } | undefined {
  return tty && process.stdout.isTTY
    ? { rows: process.stdout.rows, cols: process.stdout.columns }
    : undefined;
}

const CTRL_P = 0x10;
const CTRL_Q = 0x11;

export async function relay(
  stream: ExecStream,
  options: {
    interactive: boolean;
    tty: boolean;
    resizable: boolean;
  },
): Promise<number> {
  stream.onOutput((data, fd) => (fd === 2 ? process.stderr : process.stdout).write(data));
  const raw = options.tty && options.interactive && process.stdin.isTTY;
  if (raw) process.stdin.setRawMode(true);
  // The signals that reach this process go to the far process, as a local attach passes them.
  const proxy = proxySignals();
  proxy.attach(stream);
  // SIGWINCH here: the far pty takes the new size (its process gets its own SIGWINCH there).
  const resize = () => stream.resize(process.stdout.rows, process.stdout.columns);
  if (options.resizable) process.stdout.on('resize', resize);
  // Ctrl-P Ctrl-Q on the raw terminal of an attached container detaches, as the local attach
  // helper does: the relay ends with 0 and the container runs on (an exec has no detach).
  const detachable = raw && stream.detach !== undefined;
  let detaching: Promise<number> | undefined;
  let wake: (done: Promise<number>) => void = () => undefined;
  const detached = new Promise<number>((resolve) => (wake = resolve));
  // A Ctrl-P waits for the next key: Ctrl-Q after it detaches and neither reaches the container
  // (its pty would echo them); any other key sends both.
  let held = false;
  const onInput = (data: Buffer) => {
    if (detaching) return;
    if (!detachable) {
      stream.write(data);
      return;
    }
    let from = 0;
    for (let index = 0; index < data.length; index += 1) {
      if (held) {
        held = false;
        if (data[index] === CTRL_Q) {
          process.stderr.write('\r\nread escape sequence\r\n');
          detaching = stream.detach!().then(() => 0);
          wake(detaching);
          return;
        }
        stream.write(Buffer.from([CTRL_P]));
      }
      if (data[index] === CTRL_P) {
        if (index > from) stream.write(data.subarray(from, index));
        held = true;
        from = index + 1;
      }
    }
    if (data.length > from) stream.write(data.subarray(from));
  };
  const onEnd = () => {
    if (held) stream.write(Buffer.from([CTRL_P]));
    stream.endInput();
  };
  if (options.interactive) {
    process.stdin.on('data', onInput);
    process.stdin.on('end', onEnd);
  }
  try {
    // The relay's own end after a detach is the detach's, not an exit code.
    return await Promise.race([stream.exit.then((code) => detaching ?? code), detached]);
  } finally {
    proxy.release();
    process.stdout.off('resize', resize);
    process.stdin.off('data', onInput);
    process.stdin.off('end', onEnd);
    if (raw) process.stdin.setRawMode(false);
    // Nothing more is read: the process may end without waiting for another key.
    process.stdin.pause();
    if (options.interactive) process.stdin.destroy();
  }
}
