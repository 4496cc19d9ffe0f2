/** What every command gets: the engine (loaded on first use) and the output streams. */
import type { Engine } from '../runtime/containers/engine.js';
import type { EngineOptions } from '../runtime/paths.js';
import type { HostEngine } from '../runtime/remote/host-engine.js';
import { UnsupportedError } from '../runtime/errors.js';
import { trace } from '../runtime/trace.js';
import type { CommandSpec, ParsedArgs } from './args.js';

export interface CommandContext {
  engineOptions: EngineOptions;
  engine(): Promise<Engine>;
  /**
   * The engine of the host the command is for: this machine's, or (with --host / GANTRY_HOST) a
   * remote one over ssh. Commands that work on either take it from here.
   */
  hostEngine(): Promise<HostEngine>;
  /** The --host / GANTRY_HOST address or connection name, when not this machine. */
  host?: string;
  /**
   * With a remote host: runs the command as given on that host whole (relay-command.ts), for the
   * options the protocol has no call for (ps --size, events --since).
   */
  relay?(): Promise<number>;
  /** Lets go of a remote host's connection (the ssh process ends), once the command is done. */
  close?(): Promise<void>;
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number; rows?: number };
  stderr: NodeJS.WritableStream;
}

export interface CommandModule {
  spec: CommandSpec;
  run(parsed: ParsedArgs, context: CommandContext): Promise<number>;
}

export function createContext(engineOptions: EngineOptions, host?: string, command?: string): CommandContext {
  let engine: Promise<Engine> | undefined;
  let hostEngine: Promise<HostEngine> | undefined;
  const context: CommandContext = {
    engineOptions,
    ...(host !== undefined ? { host } : {}),
    hostEngine() {
      hostEngine ??=
        host === undefined
          ? context
              .engine()
              .then(
                async (local) =>
                  new (await import('../runtime/remote/host-engine.js')).LocalHostEngine(local),
              )
          : import('./remote-host.js').then(({ connectHost }) =>
              connectHost(host, process.stderr, engineOptions.root),
            );
      return hostEngine;
    },
    engine() {
      if (host !== undefined)
        return Promise.reject(
          new UnsupportedError(
            `'${command ?? 'this command'}' with these options does not work on a remote host (--host ${host})`,
            {
              hint: 'run it on that host (ssh HOST gantry ...), or leave out --host and GANTRY_HOST',
            },
          ),
        );
      engine ??= import('../runtime/containers/engine.js').then(async ({ Engine }) => {
        trace('cli: engine loaded');
        const opened = new Engine({
          ...engineOptions,
          warn: (message, hint) => warn(process.stderr, message, hint),
        });
        // Whatever a killed gantry process left half-done is finished or undone first.
        await opened.recoverInterrupted();
        trace('cli: interrupted operations recovered');
        return opened;
      });
      return engine;
    },
    stdout: process.stdout,
    stderr: process.stderr,
    async close() {
      if (host === undefined || !hostEngine) return;
      const opened = await hostEngine.catch(() => undefined);
      opened?.close();
    },
  };
  return context;
}

/** A warning that does not stop the command, each text once per process. */
const warned = new Set<string>();
export function warn(stream: NodeJS.WritableStream, message: string, hint?: string): void {
  if (warned.has(message)) return;
  warned.add(message);
  stream.write(`gantry: warning: ${message}\n${hint ? `hint: ${hint}\n` : ''}`);
}

export function write(stream: NodeJS.WritableStream, text: string): void {
  stream.write(text.endsWith('\n') ? text : `${text}\n`);
}
