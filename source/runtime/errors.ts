/**
 * Error classes of the runtime. Every failure a user can meet is one of these, so the CLI can map
 * it to docker's exit codes (125 engine error, 126 cannot run, 127 not found) and print one line
 * that says what was wrong and what would be accepted.
 */

export interface GantryErrorOptions {
  cause?: unknown;
  /** A hint for the user: what would be accepted, or what to do next. */
  hint?: string;
}

export class GantryError extends Error {
  /** Exit code the CLI uses for this error. */
  readonly exitCode: number = 125;
  readonly hint: string | undefined;

  constructor(message: string, options: GantryErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint;
  }
}

/** A value given by the user is not acceptable (flag, argument, config field). */
export class InvalidArgumentError extends GantryError {}

/** A container, image or other object named by the user does not exist. */
export class NotFoundError extends GantryError {}

/** The request conflicts with the current state (name in use, container running, ...). */
export class ConflictError extends GantryError {}

/** Stored state or an input document is damaged. */
export class CorruptStateError extends GantryError {}

/** An image archive, layout or blob is malformed or fails verification. */
export class ImageFormatError extends GantryError {}

/** The host lacks something the request needs (a compiler, a cgroup controller, a kernel feature). */
export class UnsupportedError extends GantryError {}

/** The container's command could not be executed (permission denied, not executable). */
export class CommandCannotRunError extends GantryError {
  override readonly exitCode: number = 126;
}

/** The container's command does not exist in the container. */
export class CommandNotFoundError extends GantryError {
  override readonly exitCode: number = 127;
}

/** A system call failed. Carries the call, the errno code and the path it acted on. */
export class SyscallError extends GantryError {
  readonly syscall: string;
  readonly code: string;
  readonly errno: number;
  readonly path: string | undefined;

  constructor(syscall: string, errno: number, code: string, path?: string, detail?: string) {
    const where = path === undefined ? '' : ` \`${path}\``;
    super(`${syscall}${where}: ${code}${detail ? ` (${detail})` : ''}`);
    this.syscall = syscall;
    this.errno = errno;
    this.code = code;
    this.path = path;
  }
}

/** Node's own fs errors carry `code`; this narrows unknown errors to them. */
export function isErrnoException(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string';
}

export function hasCode(error: unknown, code: string): boolean {
  return isErrnoException(error) && error.code === code;
}

/**
 * The filesystem is full (ENOSPC) or the quota used up (EDQUOT) while gantry wrote `path`.
 * Says where, and what frees space: removing and stopping work on a full disk.
 */
export class NoSpaceError extends GantryError {
  readonly path: string;

  constructor(path: string, options: { cause?: unknown; under?: boolean } = {}) {
    const what = hasCode(options.cause, 'EDQUOT')
      ? 'EDQUOT: disk quota exceeded'
      : 'ENOSPC: no space left on device';
    super(`${what} writing ${options.under ? 'under ' : ''}${path}`, {
      cause: options.cause,
      hint: 'free space on the filesystem that holds it: `gantry rm -f` containers you no longer need, `gantry image prune -a` unused images (removing and stopping work on a full disk)',
    });
    this.path = path;
  }
}

/** Whether `error` says the disk (or the quota) is full. */
export function isDiskFull(error: unknown): boolean {
  return error instanceof NoSpaceError || hasCode(error, 'ENOSPC') || hasCode(error, 'EDQUOT');
}

/** `error` as a NoSpaceError naming `path` when the disk is full; any other error as it is. */
export function nameFullDisk(error: unknown, path: string): unknown {
  if (error instanceof NoSpaceError || !isDiskFull(error)) return error;
  return new NoSpaceError(path, { cause: error });
}
