/**
 * A private tmux server (its own socket, so only what the test started is touched) running the
 * real `gantry` in a real terminal: send keys, read the screen.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export const hasTmux = spawnSync('tmux', ['-V'], { stdio: 'ignore' }).status === 0;

export interface TmuxSession {
  socket: string;
  /** The screen as text (with `escapes`, with colours and attributes as escape sequences). */
  capture(options?: { escapes?: boolean }): string;
  /** Keys as tmux names them ("Enter", "Escape", "C-u") or literal text. */
  send(...keys: string[]): void;
  /** Types text literally (no key-name lookup). */
  type(text: string): void;
  resize(columns: number, rows: number): void;
  waitFor(
    probe: string | RegExp | ((screen: string) => boolean),
    timeoutMs?: number,
    what?: string,
  ): Promise<string>;
  kill(): void;
}

export function startTmux(
  command: string[],
  options: { env: Record<string, string>; columns?: number; rows?: number; label?: string },
): TmuxSession {
  const socket = `gantry-test-${options.label ?? 'tui'}-${randomBytes(4).toString('hex')}`;
  const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
  const environment = Object.entries({ TERM: 'xterm-256color', ...options.env }).map(
    ([key, value]) => `${key}=${value}`,
  );
  // The exit status is printed and the pane kept, so a test can see how gantry ended.
  const shellCommand = `env ${environment.map((entry) => `'${entry}'`).join(' ')} ${command.map((word) => `'${word}'`).join(' ')}; echo "GANTRY_EXIT=$?"; sleep 600`;
  tmux(
    '-f',
    '/dev/null',
    'new-session',
    '-d',
    '-s',
    'main',
    '-x',
    String(options.columns ?? 100),
    '-y',
    String(options.rows ?? 30),
    shellCommand,
  );
  const session: TmuxSession = {
    socket,
    capture: ({ escapes = false } = {}) =>
      tmux('capture-pane', '-p', ...(escapes ? ['-e'] : []), '-t', 'main'),
    send: (...keys) => {
      for (const key of keys) tmux('send-keys', '-t', 'main', key);
    },
    type: (text) => {
      tmux('send-keys', '-t', 'main', '-l', text);
    },
    resize: (columns, rows) => {
      tmux('resize-window', '-t', 'main', '-x', String(columns), '-y', String(rows));
    },
    async waitFor(probe, timeoutMs = 15_000, what) {
      const deadline = Date.now() + timeoutMs;
      const test =
        typeof probe === 'function'
          ? probe
          : (screen: string) => (typeof probe === 'string' ? screen.includes(probe) : probe.test(screen));
      for (;;) {
        const screen = session.capture();
        if (test(screen)) return screen;
        if (Date.now() > deadline)
          throw new Error(`timed out waiting for ${what ?? String(probe)}; the screen was:\n${screen}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    kill: () => {
      spawnSync('tmux', ['-L', socket, 'kill-server'], { stdio: 'ignore' });
    },
  };
  return session;
}
