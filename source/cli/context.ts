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
      engine ??= import('../runtime/containers/engine.js').then(({ Engine }) => {
        trace('cli: engine loaded');
        return new Engine(engineOptions);
      });
      return engine;
    },
    stdout: process.stdout,
    stderr: process.stderr,
  };
}

export function write(stream: NodeJS.WritableStream, text: string): void {
  stream.write(text.endsWith('\n') ? text : `${text}\n`);
}
