/**
 * The destination side of `cp`: entries written as a tar stream (`cp CONTAINER:SRC -`), or into a
 * directory tree (the host, or a container's root) through TreeWriter. A tree sink resolves every
 * entry's parent below the copy's top with no symlink allowed on the way, so an archive (or a
 * tree) holding `a -> /etc` and then `a/passwd` fails instead of writing through the link, and a
 * name with ".." is refused. Directory metadata goes on last, deepest first, so a read-only
 * directory can still be filled.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { InvalidArgumentError } from '../../errors.js';
import { DirectoryHandle, openInRoot } from '../../in-root.js';
import { TarWriter } from '../../images/tar/writer.js';
import { lsetxattr } from '../../sys/libc.js';
import { TreeWriter, type EntryMetadata } from '../../volumes/tree-writer.js';
import { isUserXattr, type CopyEntry } from './entries.js';

const { O_RDONLY, O_DIRECTORY } = fs.constants;

export interface CopySink {
  add(entry: CopyEntry, content?: AsyncIterable<Uint8Array>): Promise<void>;
  finish(): Promise<void>;
}

/** Reads exactly `size` bytes from a descriptor (zeros if the file shrank meanwhile). */
async function* exactly(fd: number, size: number): AsyncGenerator<Buffer> {
  const buffer = Buffer.allocUnsafe(1 << 20);
  let left = size;
  while (left > 0) {
    const read = fs.readSync(fd, buffer, 0, Math.min(buffer.length, left), null);
    if (read === 0) {
      yield Buffer.alloc(left);
      return;
    }
    left -= read;
    yield Buffer.from(buffer.subarray(0, read));
  }
}

export class TarSink implements CopySink {
  private readonly writer: TarWriter;

  constructor(output: Writable) {
    this.writer = new TarWriter(output);
  }

  async add(entry: CopyEntry, content?: AsyncIterable<Uint8Array>): Promise<void> {
    const base = {
      path: entry.type === 'directory' ? `${entry.path}/` : entry.path,
      mode: entry.metadata.mode,
      uid: entry.metadata.uid ?? 0,
      gid: entry.metadata.gid ?? 0,
      mtime: Math.floor(entry.metadata.mtime ?? 0),
      ...(entry.xattrs ? { xattrs: entry.xattrs } : {}),
    };
    switch (entry.type) {
      case 'file': {
        if (content) {
          await this.writer.add({ ...base, type: 'file', size: entry.size }, content);
          return;
        }
        const fd = entry.open?.();
        if (fd === undefined) return; // gone meanwhile
        try {
          await this.writer.add({ ...base, type: 'file', size: entry.size }, exactly(fd, entry.size));
        } finally {
          fs.closeSync(fd);
        }
        return;
      }
      case 'symlink':
        return this.writer.add({ ...base, type: 'symlink', linkPath: entry.linkTarget ?? '' });
      case 'hardlink':
        return this.writer.add({ ...base, type: 'hardlink', linkPath: entry.linkTo ?? '' });
      case 'char':
      case 'block':
        return this.writer.add({
          ...base,
          type: entry.type,
          devMajor: entry.major ?? 0,
          devMinor: entry.minor ?? 0,
        });
      default:
        return this.writer.add({ ...base, type: entry.type });
    }
  }

  finish(): Promise<void> {
    return this.writer.finish();
  }
}

/** Checks an entry's relative path: no "..", no absolute path, no empty component. */
export function safeRelativePath(name: string): string {
  const parts = name.split('/').filter((part) => part !== '' && part !== '.');
  if (parts.some((part) => part === '..')) {
    throw new InvalidArgumentError(
      `refusing the archive entry ${JSON.stringify(name)}: it climbs out with ".."`,
    );
  }
  return parts.join('/');
}

export class TreeSink implements CopySink {
  private readonly writer: TreeWriter;
  private readonly directories: { path: string; metadata: EntryMetadata }[] = [];

  /**
   * @param top the directory the copy goes into
   * @param rename the name the copy's top entry ("" in the entries) takes in `top`; undefined when
   *   the entries' paths are already names inside `top` (an archive from stdin, "SRC/.")
   */
  constructor(
    private readonly top: DirectoryHandle,
    private readonly rename: string | undefined,
    options: { chown: boolean },
  ) {
    this.writer = new TreeWriter({ chown: options.chown });
  }

  private target(relative: string): string {
    const cleaned = safeRelativePath(relative);
    if (this.rename === undefined) return cleaned;
    return cleaned === '' ? this.rename : `${this.rename}/${cleaned}`;
  }

  /** The directory that holds `target` (made, 0755, when an archive skipped it). */
  private parentOf(target: string): DirectoryHandle {
    const parent = path.posix.dirname(target);
    let current = DirectoryHandle.fromDescriptor(
      fs.openSync(`/proc/self/fd/${this.top.fd}`, O_RDONLY | O_DIRECTORY),
      this.top.path,
    );
    if (parent === '.') return current;
    for (const part of parent.split('/')) {
      try {
        if (!current.lstat(part)) fs.mkdirSync(current.entry(part), { mode: 0o755 });
        const child = current.openDirectory(part);
        if (!child) {
          throw new InvalidArgumentError(
            `cannot write ${target}: ${parent} is not a directory (a symlink is never followed when writing)`,
          );
        }
        current.close();
        current = child;
      } catch (error) {
        current.close();
        throw error;
      }
    }
    return current;
  }

  async add(entry: CopyEntry, content?: AsyncIterable<Uint8Array>): Promise<void> {
    const target = this.target(entry.path);
    if (target === '') {
      // The destination directory itself ("SRC/." or an archive's "./"): it keeps what it is.
      if (entry.type !== 'directory')
        throw new InvalidArgumentError('an archive entry names the top directory as a file');
      return;
    }
    const parent = this.parentOf(target);
    const name = path.posix.basename(target);
    try {
      switch (entry.type) {
        case 'directory':
          this.writer.directory(parent, name).close();
          this.setXattrs(parent, name, entry);
          this.directories.push({ path: target, metadata: entry.metadata });
          return;
        case 'file': {
          if (content) {
            await this.writer.file(parent, name, entry.metadata, content);
            this.setXattrs(parent, name, entry);
            return;
          }
          const fd = entry.open?.();
          if (fd === undefined) return;
          try {
            this.writer.fileFromDescriptor(parent, name, entry.metadata, fd);
          } finally {
            fs.closeSync(fd);
          }
          this.setXattrs(parent, name, entry);
          return;
        }
        case 'symlink':
          this.writer.symlink(parent, name, entry.linkTarget ?? '', entry.metadata);
          return;
        case 'hardlink': {
          const linked = this.target(entry.linkTo ?? '');
          const linkedParent = this.parentOf(linked);
          try {
            this.writer.hardlink(parent, name, linkedParent, path.posix.basename(linked));
          } finally {
            linkedParent.close();
          }
          return;
        }
        default:
          this.writer.node(parent, name, entry.type, entry.metadata, entry.major, entry.minor);
      }
    } finally {
      parent.close();
    }
  }

  /** The entry's user.* attributes on what was just written (TreeWriter made it: no link there). */
  private setXattrs(parent: DirectoryHandle, name: string, entry: CopyEntry): void {
    for (const [key, value] of entry.xattrs ?? [])
      if (isUserXattr(key)) lsetxattr(parent.entry(name), key, value);
  }

  async finish(): Promise<void> {
    for (const directory of [...this.directories].reverse()) {
      const fd = openInRoot(this.top.fd, directory.path, O_RDONLY | O_DIRECTORY, { symlinks: 'none' });
      const handle = DirectoryHandle.fromDescriptor(fd, directory.path);
      try {
        this.writer.finishDirectory(handle, directory.metadata);
      } finally {
        handle.close();
      }
    }
  }
}
