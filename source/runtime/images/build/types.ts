/** The options, progress events, result and error of `gantry build` (builder.ts, stage.ts). */
import { GantryError } from '../../errors.js';
import type { ImageRecord } from '../types.js';

export const BUILD_HISTORY_COMMENT = 'gantry build';

export interface BuildOptions {
  /** The build context directory, or `-`: a tar (or a Containerfile) read from `contextStream`. */
  context: string;
  /** Where `-` reads the context from (the CLI's stdin). */
  contextStream?: NodeJS.ReadableStream;
  /** The Containerfile (default: Containerfile, else Dockerfile, in the context). */
  file?: string;
  /** The Containerfile's text, read elsewhere (`-f -` reads it from stdin); `file` is then unused. */
  containerfileText?: string;
  /** Names for the image. */
  tags?: string[];
  /** Run every step even when the cache has it (the results still become cache). */
  noCache?: boolean;
  /** --build-arg NAME=VALUE values. */
  buildArgs?: Record<string, string>;
  /** --label KEY=VALUE: labels of the image, set after every instruction (docker's order). */
  labels?: string[];
  /** --ulimit name=soft[:hard] of the RUN steps' containers. */
  ulimits?: string[];
  /** --platform: only the host's is accepted. */
  platform?: string;
  /** The stage to build (`--target NAME`); default the last one. */
  target?: string;
  /** Network of RUN steps unless a step says otherwise (default none). */
  network?: 'none' | 'host';
  onEvent?: (event: BuildEvent) => void;
  signal?: AbortSignal;
}

export type BuildEvent =
  /** `prefix` is "[stage/stages] " in a multi-stage build, "" otherwise. */
  | { type: 'step'; step: number; total: number; text: string; line: number; prefix: string }
  | { type: 'cached'; step: number; diffId?: string }
  | { type: 'output'; step: number; stream: 'stdout' | 'stderr'; text: string }
  | { type: 'layer'; step: number; diffId: string; size: number }
  | { type: 'warning'; message: string }
  | { type: 'commit'; names: string[] };

export interface BuildResult {
  image: ImageRecord;
  steps: number;
  /** Steps whose result came from the cache. */
  cachedSteps: number;
  /** Layers made by this build (not from the cache). */
  builtLayers: number;
}

/** A build step failed; says which step, where it is in the file, and why. */
export class BuildError extends GantryError {
  override readonly exitCode: number;

  constructor(message: string, options: { hint?: string; cause?: unknown; exitCode?: number } = {}) {
    super(message, options);
    this.exitCode = options.exitCode ?? 1;
  }
}
