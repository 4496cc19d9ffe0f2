/**
 * A container's log as files: the current one (NAME) and the rotated ones, NAME.1 (newest) to
 * NAME.N (oldest), opened newest first. The monitor rotates while we read; opening in that order
 * means a rotation in between can only show a file twice (it moved to the next name), never skip
 * one, and a file seen twice is recognised by its inode.
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

/** The files of one log, opened on demand from the newest (index 0) to the oldest. */
export class LogFileSet {
  private readonly opened: OpenLogFile[] = [];
  private readonly inodes = new Set<number>();
  /** Names still to try, newest first: undefined until the directory was listed. */
  private names: string[] | undefined;
  private exhausted = false;

  constructor(readonly file: string) {}

  /** The index-th file from the newest, or undefined when there are not that many. */
  async get(index: number): Promise<OpenLogFile | undefined> {
    while (this.opened.length <= index && !this.exhausted) await this.openNext();
    return this.opened[index];
  }

  /** Every file, newest first. */
  async all(): Promise<OpenLogFile[]> {
    while (!this.exhausted) await this.openNext();
    return this.opened;
  }

  /** Files opened so far, newest first. */
  get files(): readonly OpenLogFile[] {
    return this.opened;
  }

  private async openNext(): Promise<void> {
    if (!this.names) {
      const numbers = await rotatedNumbers(this.file);
      // Beyond the highest number listed, one more: a rotation may add it while we read.
      const highest = numbers[numbers.length - 1] ?? 0;
      this.names = [this.file, ...numbers.map((n) => `${this.file}.${n}`), `${this.file}.${highest + 1}`];
    }
    const name = this.names.shift();
    if (name === undefined) {
      this.exhausted = true;
      return;
    }
    const opened = await openIfExists(name);
    if (!opened) return;
    if (this.inodes.has(opened.inode)) {
      await opened.handle.close();
      return;
    }
    this.inodes.add(opened.inode);
    this.opened.push(opened);
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
