/**
 * The terminal around Ink: the alternate screen (so the shell's scrollback is left as it was),
 * the clipboard escape, and handing the keyboard to a child process and back.
 */

const ENTER_ALTERNATE_SCREEN = '\u001b[?1049h\u001b[2J\u001b[H';
const LEAVE_ALTERNATE_SCREEN = '\u001b[?1049l';
const SHOW_CURSOR = '\u001b[?25h';

/** Writes control sequences; a terminal that is gone is not an error worth more than silence. */
function control(stdout: NodeJS.WriteStream, sequence: string): void {
  if (!stdout.isTTY || stdout.destroyed) return;
  try {
    stdout.write(sequence);
  } catch {
    // the terminal closed
  }
}

/**
 * Whether the terminal has an alternate screen: a `dumb` one (or none named) has not, and the
 * sequence would only print as garbage and leave the screen as it was.
 */
export function hasAlternateScreen(env: NodeJS.ProcessEnv): boolean {
  return env.TERM !== undefined && env.TERM !== '' && env.TERM !== 'dumb';
}

export function enterAlternateScreen(stdout: NodeJS.WriteStream): void {
  control(stdout, ENTER_ALTERNATE_SCREEN);
}

export function leaveAlternateScreen(stdout: NodeJS.WriteStream): void {
  control(stdout, SHOW_CURSOR + LEAVE_ALTERNATE_SCREEN);
}

/**
 * OSC 52: the terminal puts the text on the system clipboard ("c"). xterm, kitty, iTerm2, Windows
 * Terminal and tmux (set-clipboard on/external) take it, some only once the user allowed it; it
 * works over ssh, where no clipboard program of this host would reach the user's.
 */
export function osc52(text: string): string {
  return `\u001b]52;c;${Buffer.from(text, 'utf8').toString('base64')}\u0007`;
}

/** Copies text to the clipboard through the terminal; false where the terminal cannot take it. */
export function copyToClipboard(stdout: NodeJS.WriteStream, env: NodeJS.ProcessEnv, text: string): boolean {
  if (!stdout.isTTY || !hasAlternateScreen(env)) return false;
  control(stdout, osc52(text));
  return true;
}

export function clearScreen(stdout: NodeJS.WriteStream): void {
  control(stdout, '\u001b[2J\u001b[H');
}

interface ReadableHandle {
  reading?: boolean;
  readStop?: () => number;
}

/**
 * Stops this process from reading the terminal, so every key reaches the child that inherits it.
 * Removing Ink's listener is not enough: a stream that was read from keeps its libuv handle
 * reading into the buffer (up to the high-water mark), which would swallow a shell's keystrokes.
 * The next listener Ink adds starts reading again (net.Socket's _read restarts a stopped handle).
 */
export function releaseInput(stdin: NodeJS.ReadStream): void {
  try {
    if (stdin.isTTY) stdin.setRawMode(false);
  } catch {
    // the terminal closed
  }
  stdin.pause();
  const handle = (stdin as unknown as { _handle?: ReadableHandle })._handle;
  if (handle && typeof handle.readStop === 'function' && handle.reading !== false) {
    handle.reading = false;
    handle.readStop();
  }
}

/**
 * Undoes releaseInput once the child is done. The stream may still consider a read pending (it
 * never got data for it), in which case it would not ask the handle again: restart it here.
 */
export function resumeInput(stdin: NodeJS.ReadStream): void {
  const handle = (stdin as unknown as { _handle?: ReadableHandle & { readStart?: () => number } })._handle;
  if (handle && typeof handle.readStart === 'function' && handle.reading === false) {
    handle.reading = true;
    handle.readStart();
  }
}
