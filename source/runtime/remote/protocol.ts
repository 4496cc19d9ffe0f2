/**
 * The remote protocol: JSON lines on the stdin/stdout of `gantry system service --stdio`, which the
 * user's ssh client starts on demand. The server speaks first (a hello with its protocol and
 * gantry versions); every request carries an id its replies repeat. A call ends with a result or
 * an error; a stream sends items until its end (or the client's cancel); an exec relays its
 * input, output and exit through the same id. Errors travel as their class, message and hint, and
 * come back out as the same classes, so the CLI prints and exits as it does locally.
 */
import {
  CommandCannotRunError,
  CommandNotFoundError,
  ConflictError,
  CorruptStateError,
  GantryError,
  ImageFormatError,
  InvalidArgumentError,
  NotFoundError,
  UnsupportedError,
} from '../errors.js';

/**
 * Bumped when a message changes meaning or one is added; a client refuses a server whose range
 * excludes it, and asks a server for what it added only from the version that added it
 * (SINCE_PROTOCOL).
 */
export const PROTOCOL_VERSION = 3;
/** The oldest protocol this build still speaks (as a server and as a client). */
export const MIN_PROTOCOL_VERSION = 1;
/**
 * What a protocol version added. 2: a `logs` stream asked for `start` sends first where its
 * entries begin (`{ start: { olderBefore } }`), with `positions` each entry its cursor, and
 * `logs.older` reads the page before a cursor, as the Logs pane's `o` does locally. 3: `detach`
 * on an attached run or `attach` ends the relay with the container running on (Ctrl-P Ctrl-Q).
 */
export const SINCE_PROTOCOL = { olderLogs: 2, detach: 3 } as const;

/** This build's version, said in the hello. */
export const GANTRY_VERSION = '0.1.0';

export interface Hello {
  hello: 'gantry';
  protocol: number;
  minProtocol: number;
  gantry: string;
}

/** An error as it crosses the wire. */
export interface WireError {
  class: string;
  message: string;
  hint?: string;
  exitCode?: number;
}

/** Client to server. */
export type ClientMessage =
  | { id: number; method: string; params?: unknown }
  /** Ends a stream (or an exec's relay) the client no longer reads. */
  | { id: number; cancel: true }
  /** An exec's input: base64 bytes, or null for end of input. */
  | { id: number; input: string | null }
  /** A signal for an exec's process (the CLI's proxy passes on what reaches it). */
  | { id: number; signal: string }
  /** An exec's terminal changed size (a server without it ignores the message: the size stays). */
  | { id: number; resize: { rows: number; cols: number } }
  /** The client has read this many more bytes of a stream's output (flow.ts: its window). */
  | { id: number; credit: number }
  /** Ctrl-P Ctrl-Q on an attached container's relay: it ends, the container runs on (protocol 3). */
  | { id: number; detach: true };

/** Server to client. */
export type ServerMessage =
  | Hello
  | { id: number; result: unknown }
  | { id: number; error: WireError }
  | { id: number; item: unknown }
  | { id: number; end: true }
  /** An exec's output, base64, on fd 1 or 2. */
  | { id: number; output: string; fd: 1 | 2 }
  /** The server has read this many more bytes of a stream's input (flow.ts: its window). */
  | { id: number; credit: number };

const CLASSES: Record<string, new (message: string, options?: { hint?: string }) => GantryError> = {
  GantryError,
  InvalidArgumentError,
  NotFoundError,
  ConflictError,
  CorruptStateError,
  ImageFormatError,
  UnsupportedError,
  CommandCannotRunError,
  CommandNotFoundError,
};

export function encodeError(error: unknown): WireError {
  if (error instanceof GantryError) {
    return {
      class: error.name,
      message: error.message,
      ...(error.hint ? { hint: error.hint } : {}),
      exitCode: error.exitCode,
    };
  }
  return {
    class: error instanceof Error ? error.name : 'Error',
    message: String((error as Error)?.message ?? error),
  };
}

/**
 * The error as this side knows it: the same class where it is one of the runtime's (a NotFoundError
 * stays one, so `inspect` can fall back to images), a RemoteCallError keeping the class name and
 * exit code otherwise. Either names the host it came from.
 */
export function decodeError(wire: WireError, host: string): GantryError {
  const known = CLASSES[wire.class];
  const hint = wire.hint === undefined ? {} : { hint: wire.hint };
  if (known) return new known(`${wire.message} (on ${host})`, hint);
  return new RemoteCallError(wire, host);
}

/** A failure on the remote side whose class this build does not know (a syscall, an fs error...). */
export class RemoteCallError extends GantryError {
  override readonly exitCode: number;
  readonly remoteClass: string;

  constructor(wire: WireError, host: string) {
    super(`${wire.message} (on ${host})`, wire.hint === undefined ? {} : { hint: wire.hint });
    this.remoteClass = wire.class;
    this.exitCode = wire.exitCode ?? 125;
  }
}

/** Infinity (stop -t -1) is not JSON: it travels as -1. */
export function encodeTimeout(seconds: number | undefined): number | undefined {
  return seconds === Number.POSITIVE_INFINITY ? -1 : seconds;
}

export function decodeTimeout(seconds: number | undefined): number | undefined {
  return seconds === -1 ? Number.POSITIVE_INFINITY : seconds;
}

/** Errors inside a list (damaged records) as plain objects with their message. */
export function plainError(error: Error): { name: string; message: string } {
  return { name: error.name, message: error.message };
}
