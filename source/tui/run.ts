/**
 * `gantry` (no command, in a terminal) and `gantry tui`. React checks NODE_ENV when it is first
 * loaded and is several times slower in its development build, so the choice is made here,
 * before anything imports react or ink.
 */
import type { EngineOptions } from '../runtime/paths.js';
import type { TuiIo } from './start.js';

export async function runTui(
  options: EngineOptions,
  io: TuiIo = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env },
): Promise<number> {
  process.env.NODE_ENV ??= 'production';
  const { startTui } = await import('./start.js');
  const code = await startTui(options, io);
  // Everything the TUI opened is closed by now; should a watcher elsewhere outlive its abort (a
  // check that finishes after the close), quitting must still end the process. The timer is
  // unref'd: it only fires if something else keeps the process alive.
  setTimeout(() => process.exit(code), 1000).unref();
  return code;
}
