/**
 * A container's log as files: the current one (NAME) and the rotated ones, NAME.1 (newest) to
 * NAME.N (oldest). The monitor rotates while we read: the set is anchored on the current file as
 * first opened, and the older ones are listed again until no rotation came in between.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { hasCode } from '../errors.js';

export interface OpenLogFile {
  handle: fsp.FileHandle;
  /** Identifies the file across renames (with `born`, as an inode number is reused once freed). */
  inode: number;
  /** Its birth time in ms where the filesystem records one, else 0. */
  born: number;
  /** Its size when opened (rotated files do not grow). */
  size: number;
}

/** The numbers of NAME.N files in the directory, ascending. */
async function rotatedNumbers(file: string): Promise<number[]> {
  const base = path.basename(file);
  let names: string[];
  try {
    names = await fsp.readdir(path.dirname(file));
  } catch {
    return [];
  }
  const numbers: number[] = [];
  for (const name of names) {
    if (!name.startsWith(`${base}.`)) continue;
    const suffix = name.slice(base.length + 1);
    if (/^[1-9]\d{0,5}$/.test(suffix)) numbers.push(Number(suffix));
  }
  return numbers.sort((a, b) => a - b);
}

async function openIfExists(file: string): Promise<OpenLogFile | undefined> {
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(file, 'r');
  } catch (error) {
    if (hasCode(error, 'ENOENT')) return undefined;
    throw error;
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) {
      await handle.close();
      return undefined;
    }
    return { handle, inode: stat.ino, born: stat.birthtimeMs, size: stat.size };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** The files of one log: the current one (index 0), then the rotated ones, newest first. */
export class LogFileSet {
  private readonly opened: OpenLogFile[] = [];
  private exhausted = false;

  constructor(readonly file: string) {}

  /** The index-th file from the newest, or undefined when there are not that many. */
  async get(index: number): Promise<OpenLogFile | undefined> {
    if (index === 0 && this.opened.length === 0 && !this.exhausted) {
      const current = await openIfExists(this.file);
      if (current) this.opened.push(current);
      else this.exhausted = true;
    }
    if (index > 0) await this.all();
    return this.opened[index];
  }

  /** Every file, newest first. */
  async all(): Promise<OpenLogFile[]> {
    if (this.exhausted) return this.opened;
    const anchor = await this.get(0);
    if (anchor) this.opened.push(...(await this.olderThan(anchor)));
    this.exhausted = true;
    return this.opened;
  }

  /** Files opened so far, newest first. */
  get files(): readonly OpenLogFile[] {
    return this.opened;
  }

  /**
   * The files older than `anchor` (the current file when it was opened), newest first. Each
   * rotation shifts every name by one, and two of them while we open NAME.1, NAME.2... would
   * hand us a newer file under an older name and drop one: so the names are read in one go,
   * and read again if the current name changed meanwhile (every rotation renames a new file
   * over it). A rotation half-done (NAME and NAME.1 one file for a moment, or NAME.1 missing)
   * is harmless: a file already seen is known by its inode, and a missing name is skipped.
   */
  private async olderThan(anchor: OpenLogFile): Promise<OpenLogFile[]> {
    for (let attempt = 0; ; attempt += 1) {
      const head = await currentInode(this.file);
      const numbers = await rotatedNumbers(this.file);
      const highest = numbers[numbers.length - 1] ?? 0;
      // One more than listed: a rotation may add it while we read.
      const names = [this.file, ...numbers.map((n) => `${this.file}.${n}`), `${this.file}.${highest + 1}`];
      const older: OpenLogFile[] = [];
      const seen = new Set<number>([anchor.inode]);
      let anchorFound = false;
      for (const name of names) {
        const file = await openIfExists(name);
        if (!file) continue;
        if (seen.has(file.inode)) {
          if (file.inode === anchor.inode) anchorFound = true;
          await file.handle.close();
          continue;
        }
        seen.add(file.inode);
        // Newer than the anchor (it was rotated since we opened it): not ours to read here.
        if (!anchorFound) await file.handle.close();
        else older.push(file);
      }
      // Settled: no rotation while we looked (after a few tries, take what we have: a log
      // rotating faster than it can be listed loses what it rotates away anyway).
      if ((await currentInode(this.file)) === head || attempt >= 20) return older;
      for (const file of older) await file.handle.close().catch(() => undefined);
    }
  }

  /** Closes every file but `keep`. */
  async close(keep?: OpenLogFile): Promise<void> {
    for (const file of this.opened) if (file !== keep) await file.handle.close().catch(() => undefined);
    this.opened.length = 0;
    this.exhausted = true;
  }
}

/** The inode the current name points at now, or undefined when it is missing. */
export async function currentInode(file: string): Promise<number | undefined> {
  try {
    return (await fsp.stat(file)).ino;
  } catch {
    return undefined;
  }
}
