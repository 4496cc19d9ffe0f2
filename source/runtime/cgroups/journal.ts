/**
 * Writes of one create()/update() call, remembered so that a value the kernel refuses leaves
 * nothing else changed: the journal restores every earlier write, newest first (the reverse
 * order also satisfies ordering rules such as v1's memory <= memory+swap).
 */
import path from 'node:path';
import { GantryError, InvalidArgumentError, UnsupportedError } from '../errors.js';
import { errorCode, type CgroupFs } from './fs.js';

/** errno codes with which cgroupfs refuses a value (as opposed to an I/O or permission fault). */
const REFUSAL_CODES = new Set([
  'EINVAL',
  'EBUSY',
  'ERANGE',
  'ENOSPC',
  'ENODEV',
  'ENXIO',
  'EOPNOTSUPP',
  'ENOTSUP',
  'EPERM',
  'EACCES',
]);

export interface WriteOptions {
  /** What the value is, for messages: "memory limit 1048576". */
  what: string;
  /**
   * Content that undoes the write. Omitted: the file's current content (right for single-value
   * files). null: the write cannot be undone and is not journaled.
   */
  restore?: string | null;
  /**
   * Says why the kernel refused the value (usage above the new limit, CPUs the host lacks...);
   * called only on a refusal, with the errno code. Undefined keeps the generic message.
   */
  explain?: (code: string) => Promise<string | undefined>;
}

interface Undo {
  what: string;
  run: () => Promise<void>;
}

export class ChangeJournal {
  private readonly undo: Undo[] = [];

  constructor(private readonly cgroupFs: CgroupFs) {}

  get changes(): number {
    return this.undo.length;
  }

  async write(file: string, value: string, options: WriteOptions): Promise<void> {
    let restore = options.restore;
    if (restore === undefined) restore = (await this.cgroupFs.readFile(file)).trim();
    try {
      await this.cgroupFs.writeFile(file, value);
    } catch (error) {
      throw await refusalError(error, file, value, options);
    }
    if (restore !== null) {
      const value = restore;
      this.undo.push({
        what: `${options.what} (${file} = "${value}")`,
        run: () => this.cgroupFs.writeFile(file, value),
      });
    }
  }

  /** Writes without reading an old value first and without journaling (for undo steps). */
  async writeOnly(file: string, value: string, options: WriteOptions): Promise<void> {
    try {
      await this.cgroupFs.writeFile(file, value);
    } catch (error) {
      throw await refusalError(error, file, value, options);
    }
  }

  /** Journals an undo step that is more than one write (e.g. replaying a device list). */
  addUndo(what: string, run: () => Promise<void>): void {
    this.undo.push({ what, run });
  }

  /** Restores every journaled write, newest first; returns what could not be restored. */
  async rollback(): Promise<Error[]> {
    const failures: Error[] = [];
    while (this.undo.length > 0) {
      const undo = this.undo.pop() as Undo;
      try {
        await undo.run();
      } catch (error) {
        failures.push(new GantryError(`could not restore ${undo.what}`, { cause: error }));
      }
    }
    return failures;
  }
}

async function refusalError(
  error: unknown,
  file: string,
  value: string,
  options: WriteOptions,
): Promise<unknown> {
  const code = errorCode(error);
  if (code === 'ENOENT') {
    return new UnsupportedError(
      `the kernel has no ${path.basename(file)}, so ${options.what} cannot be set`,
      {
        cause: error,
      },
    );
  }
  if (code === undefined || !REFUSAL_CODES.has(code)) return error;
  let reason: string | undefined;
  try {
    reason = await options.explain?.(code);
  } catch {
    // An explanation is best effort; the refusal itself is what matters.
  }
  const message = reason ?? `the kernel refused ${options.what} (${code} writing "${value}" to ${file})`;
  return new InvalidArgumentError(message, { cause: error });
}

/** Runs `apply` with a journal; on any failure restores what it wrote and rethrows. */
export async function withRollback(
  cgroupFs: CgroupFs,
  apply: (journal: ChangeJournal) => Promise<void>,
): Promise<void> {
  const journal = new ChangeJournal(cgroupFs);
  try {
    await apply(journal);
  } catch (error) {
    const failures = await journal.rollback();
    if (failures.length > 0 && error instanceof Error) {
      // Keep the error's class (the CLI maps it to an exit code) and say what stayed changed.
      error.message += `; restoring the earlier values also failed: ${failures.map((f) => f.message).join('; ')}`;
    }
    throw error;
  }
}
