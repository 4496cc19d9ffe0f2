/** What every command gets: the engine (loaded on first use) and the output streams. */
import type { Engine } from '../runtime/containers/engine.js';
import type { EngineOptions } from '../runtime/paths.js';
import { trace } from '../runtime/trace.js';
import type { CommandSpec, ParsedArgs } from './args.js';

export interface CommandContext {
  engineOptions: EngineOptions;
  engine(): Promise<Engine>;
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number; rows?: number };
  stderr: NodeJS.WritableStream;
}

export interface CommandModule {
  spec: CommandSpec;
  run(parsed: ParsedArgs, context: CommandContext): Promise<number>;
}

export function createContext(engineOptions: EngineOptions): CommandContext {
  let engine: Promise<Engine> | undefined;
  return {
    engineOptions,
    engine() {
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
  };
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
