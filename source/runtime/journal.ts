/**
 * The journal of long operations: before a gantry process starts something that leaves state
 * half-made if it is killed (create, rm, commit, build, image rm, import, pull, kube play), it records it
 * here, and it erases the record when it is done (a temporary pause, to read a layer, too). The next gantry process of any kind (and the
 * TUI) finishes or undoes whatever a dead process left recorded (see containers/unfinished.ts).
 *
 * An entry is an empty file, journal/<operation>.<subject>.<pid>.<n>, that its owner keeps
 * flock(2)ed for as long as it lives: the kernel drops the lock when the owner dies, however it
 * dies, so "the lock is free" means "abandoned", with no pid reuse to get wrong. Being empty, an
 * entry can be made on a full disk (an inode, no data block): removing and stopping must work
 * there, since they are what frees space.
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { hasCode } from './errors.js';
import type { StateLayout } from './paths.js';
import { flock, LOCK_EX, LOCK_NB, LOCK_UN } from './sys/libc.js';

export type JournalOperation =
  'create' | 'remove' | 'pause' | 'commit' | 'build' | 'image-rm' | 'import' | 'pull' | 'play' | 'volume';

const OPERATIONS: readonly JournalOperation[] = [
  'create',
  'remove',
  'pause',
  'commit',
  'build',
  'image-rm',
  'import',
  'pull',
  'play',
  'volume',
];
/** How long to wait for another process that is recovering a dead process's entry. */
const RECOVERY_WAIT_MS = 60_000;
const ENTRY = /^([a-z-]+)\.([0-9a-f]+|-)\.(\d+)\.(\d+)$/;
/** A half-made entry (made, not yet locked and renamed) is only a leftover after this long. */
const TEMPORARY_GRACE_MS = 10_000;

let counter = 0;

/** An operation under way in this process; end() erases it. */
export class JournalEntry {
  private ended = false;

  constructor(
    readonly file: string | undefined,
    private readonly fd: number | undefined,
  ) {}

  /** The operation is over (done, or failed having undone itself). */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.file !== undefined) fs.rmSync(this.file, { force: true });
    if (this.fd !== undefined) fs.closeSync(this.fd);
  }
}

/** An entry a dead process left, locked by this process while it finishes or undoes it. */
export interface AbandonedEntry {
  operation: JournalOperation;
  /** What it acted on (a container or image id), or "-". */
  subject: string;
  /** The process that died. */
  pid: number;
  /** The entry's file name in the journal directory. */
  name: string;
  /** Recovered: the entry goes. */
  done(): void;
  /** Not recovered (it failed): the entry stays for the next process to try. */
  release(): void;
}

export class Journal {
  constructor(private readonly layout: StateLayout) {}

  private get directory(): string {
    return path.join(this.layout.root, 'journal');
  }

  /**
   * Records that `operation` on `subject` is under way. With `optional`, a disk too full even for
   * an empty file does not stop the operation (removals: they free space, and what they leave is
   * recognisable without an entry); the returned entry then records nothing.
   */
  begin(operation: JournalOperation, subject = '-', options: { optional?: boolean } = {}): JournalEntry {
    try {
      return this.write(operation, subject);
    } catch (error) {
      if (options.optional && (hasCode(error, 'ENOSPC') || hasCode(error, 'EDQUOT')))
        return new JournalEntry(undefined, undefined);
      throw error;
    }
  }

  private write(operation: JournalOperation, subject: string): JournalEntry {
    fs.mkdirSync(this.directory, { recursive: true, mode: 0o700 });
    for (let attempt = 0; ; attempt += 1) {
      counter += 1;
      const name = `${operation}.${subject}.${process.pid}.${counter}`;
      // Locked under a temporary name, then renamed: a visible entry is always a locked one
      // while its owner lives.
      const temporary = path.join(this.directory, `.${name}.tmp`);
      const fd = fs.openSync(
        temporary,
        fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_EXCL,
        0o600,
      );
      try {
        flock(fd, LOCK_EX, temporary);
        fs.renameSync(temporary, path.join(this.directory, name));
        return new JournalEntry(path.join(this.directory, name), fd);
      } catch (error) {
        fs.closeSync(fd);
        fs.rmSync(temporary, { force: true });
        // Another process took it for a leftover in the instant before it was locked: again.
        if (!hasCode(error, 'ENOENT') || attempt >= 3) throw error;
      }
    }
  }

  /** The recorded operations (live or abandoned), without locking anything. */
  list(): { operation: JournalOperation; subject: string; pid: number; name: string }[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.directory);
    } catch (error) {
      if (hasCode(error, 'ENOENT')) return [];
      throw error;
    }
    const entries = [];
    for (const name of names) {
      const match = ENTRY.exec(name);
      if (!match || !OPERATIONS.includes(match[1] as JournalOperation)) continue;
      entries.push({
        operation: match[1] as JournalOperation,
        subject: match[2]!,
        pid: Number(match[3]),
        name,
      });
    }
    return entries;
  }

  /**
   * Entries whose owner is dead, each locked for the caller as it is reached; the caller calls
   * done() or release() before asking for the next. An entry a live process holds is passed
   * over. One whose owner is dead but that another process is recovering is waited for (up to
   * a minute), so that once this ends, what dead processes left has been finished.
   */
  async *abandoned(
    filter: { operation?: JournalOperation; subject?: string } = {},
  ): AsyncGenerator<AbandonedEntry> {
    this.sweepTemporaries();
    for (const entry of this.list()) {
      if (filter.operation !== undefined && entry.operation !== filter.operation) continue;
      if (filter.subject !== undefined && entry.subject !== filter.subject) continue;
      let claimed = this.claim(entry.name);
      for (let waited = 0; !claimed && !isPidAlive(entry.pid) && waited < RECOVERY_WAIT_MS; waited += 50) {
        if (!fs.existsSync(path.join(this.directory, entry.name))) break;
        await sleep(50);
        claimed = this.claim(entry.name);
      }
      if (claimed) yield { ...entry, ...claimed };
    }
  }

  /**
   * Whether a live process holds any entry (one that may yet be killed and leave work to finish),
   * or an entry's owner died after the last recovery pass looked at it (`tried`: the entries
   * that pass tried): a process killed between that pass and this look left work no journal
   * event will announce. Entries whose recovery failed in that pass do not count.
   */
  anyUnderWay(tried: ReadonlySet<string> = new Set()): boolean {
    return this.list().some((entry) => {
      const claimed = this.claim(entry.name);
      if (!claimed) return true;
      claimed.release();
      return !tried.has(entry.name);
    });
  }

  /** Whether a live process has `operation` on `subject` under way. */
  isUnderWay(operation: JournalOperation, subject: string): boolean {
    for (const entry of this.list()) {
      if (entry.operation !== operation || entry.subject !== subject) continue;
      const claimed = this.claim(entry.name);
      if (!claimed) return true;
      claimed.release();
    }
    return false;
  }

  private claim(name: string): { done(): void; release(): void } | undefined {
    const file = path.join(this.directory, name);
    let fd: number;
    try {
      fd = fs.openSync(file, fs.constants.O_RDWR);
    } catch (error) {
      if (hasCode(error, 'ENOENT')) return undefined;
      throw error;
    }
    let locked = false;
    try {
      locked = flock(fd, LOCK_EX | LOCK_NB, file);
      // Recovered and erased by another process between our open and our lock.
      if (!locked || fs.fstatSync(fd).nlink === 0) {
        if (locked) flock(fd, LOCK_UN, file);
        fs.closeSync(fd);
        return undefined;
      }
    } catch (error) {
      fs.closeSync(fd);
      throw error;
    }
    return {
      done: () => {
        fs.rmSync(file, { force: true });
        fs.closeSync(fd);
      },
      release: () => fs.closeSync(fd),
    };
  }

  /** Entries whose owner died between making and locking them: nothing was started yet. */
  private sweepTemporaries(): void {
    let names: string[];
    try {
      names = fs.readdirSync(this.directory).filter((name) => name.startsWith('.') && name.endsWith('.tmp'));
    } catch (error) {
      if (hasCode(error, 'ENOENT')) return;
      throw error;
    }
    for (const name of names) {
      const file = path.join(this.directory, name);
      const stats = fs.statSync(file, { throwIfNoEntry: false });
      if (!stats || Date.now() - stats.mtimeMs < TEMPORARY_GRACE_MS) continue;
      const claimed = this.claim(name);
      claimed?.done();
    }
  }
}

/** Whether a process with this pid exists (the owner of an entry, as its name says). */
function isPidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return hasCode(error, 'EPERM');
  }
}
