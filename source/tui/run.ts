/**
 * `gantry` (no command, in a terminal) and `gantry tui`. React checks NODE_ENV when it is first
 * loaded and is several times slower in its development build, so the choice is made here,
 * before anything imports react or ink.
 */
import type { EngineOptions } from '../runtime/paths.js';
import type { TuiIo } from './start.js';

/**
 * Ink decides once, when it is loaded, whether it runs in CI (CI or CONTINUOUS_INTEGRATION set and
 * not "0"/"false"), and if so writes no frames at all until it exits: a blank screen. The TUI only
 * starts when stdin and stdout are terminals, so someone is watching whatever the environment
 * says; the variables are hidden while Ink loads and put back at once, for the processes the TUI
 * starts.
 */
export async function withoutCiDetection<T>(load: () => Promise<T>): Promise<T> {
  const saved: Record<string, string> = {};
  for (const key of ['CI', 'CONTINUOUS_INTEGRATION']) {
    const value = process.env[key];
    if (value === undefined) continue;
    saved[key] = value;
    delete process.env[key];
  }
  try {
    return await load();
  } finally {
    Object.assign(process.env, saved);
  }
}

/**
 * yoga-layout (Ink's layout engine) loads its WebAssembly, which it carries as base64, with
 * `fetch()` of a data: URL whenever `fetch` exists, and the first call of `fetch` loads Node's
 * HTTP client (undici): about 100 ms before the first frame for nothing. Without `fetch` it decodes
 * the same bytes itself. `fetch` is hidden while Ink loads and put back at once.
 */
export async function withoutFetch<T>(load: () => Promise<T>): Promise<T> {
  const descriptor = Object.getOwnPropertyDescriptor(globalThis, 'fetch');
  if (!descriptor?.configurable) return load();
  Object.defineProperty(globalThis, 'fetch', { value: undefined, configurable: true, writable: true });
  try {
    return await load();
  } finally {
    Object.defineProperty(globalThis, 'fetch', descriptor);
  }
}

export async function runTui(
  options: EngineOptions,
  io: TuiIo = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env },
  /** Remote hosts shown beside this machine: ssh:// addresses or connection names. */
  hosts: readonly string[] = [],
): Promise<number> {
  process.env.NODE_ENV ??= 'production';
  const { startTui } = await withoutCiDetection(() => withoutFetch(() => import('./start.js')));
  const code = await startTui(options, io, hosts);
  // Everything the TUI opened is closed by now; should a watcher elsewhere outlive its abort (a
  // check that finishes after the close), quitting must still end the process. The timer is
  // unref'd: it only fires if something else keeps the process alive.
  setTimeout(() => process.exit(code), 1000).unref();
  return code;
}
