// A private tmux server (its own socket, so only what the caller started is touched) running one
// command in a real terminal: send keys, read the screen. Used by the TUI's end-to-end test, the
// screenshots and the TUI benchmark; typed in tmux.d.mts.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';

export const hasTmux = spawnSync('tmux', ['-V'], { stdio: 'ignore' }).status === 0;

/** One shell word: single-quoted, with its own single quotes escaped. */
function quote(word) {
  return `'${String(word).replaceAll("'", "'\\''")}'`;
}

/**
 * Starts `command` (argv) in a new tmux server, in a terminal of `columns` x `rows` with `env`
 * (entries that are undefined are left out), TERM=xterm-256color and LANG=C.UTF-8 unless `env`
 * says otherwise. OSC 52 copies land in tmux's paste buffer. When the command ends its
 * exit status is printed as `GANTRY_EXIT=N` and the pane is kept, so the caller can see how it
 * ended.
 */
export function startTmux(command, { env = {}, columns = 100, rows = 30, label }) {
  const socket = `gantry-${label}-${randomBytes(4).toString('hex')}`;
  const tmux = (...args) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
  const assignments = Object.entries({ TERM: 'xterm-256color', LANG: 'C.UTF-8', ...env })
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => quote(`${key}=${value}`));
  const shellCommand = `env ${assignments.join(' ')} ${command.map(quote).join(' ')}; echo "GANTRY_EXIT=$?"; sleep 600`;
  tmux(
    '-f',
    '/dev/null',
    'new-session',
    '-d',
    '-s',
    'main',
    '-x',
    String(columns),
    '-y',
    String(rows),
    shellCommand,
  );
  // Applications may set the clipboard (OSC 52); tmux keeps what they set as a paste buffer.
  tmux('set-option', '-s', 'set-clipboard', 'on');
  const session = {
    socket,
    capture: ({ escapes = false } = {}) =>
      tmux('capture-pane', '-p', ...(escapes ? ['-e'] : []), '-t', 'main'),
    send: (...keys) => {
      for (const key of keys) tmux('send-keys', '-t', 'main', key);
    },
    type: (text) => {
      tmux('send-keys', '-t', 'main', '-l', text);
    },
    resize: (newColumns, newRows) => {
      tmux('resize-window', '-t', 'main', '-x', String(newColumns), '-y', String(newRows));
    },
    panePid: () => Number(tmux('display-message', '-p', '-t', 'main', '#{pane_pid}').trim()),
    async commandPid(timeoutMs = 15_000) {
      const shell = session.panePid();
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        try {
          const children = fs
            .readdirSync(`/proc/${shell}/task`)
            .flatMap((task) =>
              fs.readFileSync(`/proc/${shell}/task/${task}/children`, 'utf8').trim().split(/\s+/),
            )
            .filter(Boolean);
          if (children.length > 0) return Number(children[0]);
        } catch {
          // the shell is starting or gone
        }
        if (Date.now() > deadline) throw new Error('the pane runs no command');
        await delay(50);
      }
    },
    alternateOn: () => tmux('display-message', '-p', '-t', 'main', '#{alternate_on}').trim() === '1',
    clipboard: () => {
      const result = spawnSync('tmux', ['-L', socket, 'show-buffer'], { encoding: 'utf8' });
      return result.status === 0 ? result.stdout : '';
    },
    async waitFor(probe, timeoutMs = 15_000, what, pollMs = 50) {
      // Stretched like the tests' own timeouts on a slow machine (the cgroup v2 guest).
      const deadline = Date.now() + timeoutMs * Math.max(1, Number(process.env.GANTRY_TEST_TIME_SCALE) || 1);
      const test =
        typeof probe === 'function'
          ? probe
          : (screen) => (typeof probe === 'string' ? screen.includes(probe) : probe.test(screen));
      for (;;) {
        const screen = session.capture();
        if (test(screen)) return screen;
        if (Date.now() > deadline)
          throw new Error(`timed out waiting for ${what ?? String(probe)}; the screen was:\n${screen}`);
        await delay(pollMs);
      }
    },
    kill: () => {
      spawnSync('tmux', ['-L', socket, 'kill-server'], { stdio: 'ignore' });
    },
  };
  return session;
}
