/**
 * Writes entries into a tree a container can reach (a volume, a container's root through
 * /proc/PID/root) without ever following a symlink it planted: every entry is made relative to
 * an open descriptor of its parent directory (DirectoryHandle.entry names it as
 * /proc/self/fd/N/NAME, so only the last component is looked up, and the calls below never follow
 * it), files are created O_EXCL|O_NOFOLLOW, and owner, mode and times go on a descriptor of the
 * entry itself. A directory is entered only through openDirectory, which refuses a symlink.
 *
 * What is already there follows docker's extraction rules (archive.Untar with
 * NoOverwriteDirNonDir): a directory stays and takes the new metadata, a non-directory is replaced,
 * and a directory never replaces a non-directory or the other way round.
 */
import fs from 'node:fs';
import { ConflictError } from '../errors.js';
import { DirectoryHandle, openInRoot } from '../in-root.js';
import { mknod, O_CLOEXEC, O_PATH, openat, S_IFBLK, S_IFCHR, S_IFIFO } from '../sys/libc.js';

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_RDONLY, O_DIRECTORY } = fs.constants;

export interface EntryMetadata {
  /** Permission bits (07777). */
  mode: number;
  /** Owner to set; left as made (root) when undefined. */
  uid?: number;
  gid?: number;
  /** Seconds since the epoch. */
  mtime?: number;
  atime?: number;
}

export type NodeType = 'char' | 'block' | 'fifo';

function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // nothing to release
  }
}

/** Opens a directory by a host path we own (the top of a volume, a temporary directory). */
export function openHostDirectory(hostPath: string): DirectoryHandle {
  return DirectoryHandle.open(hostPath);
}

/** Opens a directory inside a root, resolving symlinks inside that root only. */
export function openDirectoryInRoot(root: DirectoryHandle, file: string, label: string): DirectoryHandle {
  const fd = openInRoot(root.fd, file, O_RDONLY | O_DIRECTORY);
  return DirectoryHandle.fromDescriptor(fd, label);
}

export class TreeWriter {
  constructor(
    private readonly options: {
      /** Set owners from the metadata (false: everything stays root's, as the caller made it). */
      chown: boolean;
    },
  ) {}

  /** The existing entry of that name: its lstat, or undefined. */
  private existing(parent: DirectoryHandle, name: string): fs.Stats | undefined {
    return parent.lstat(name);
  }

  /** Makes way for a non-directory: a directory in the way is an error, anything else goes. */
  private clearForFile(parent: DirectoryHandle, name: string): void {
    const stats = this.existing(parent, name);
    if (!stats) return;
    if (stats.isDirectory()) {
      throw new ConflictError(`cannot overwrite directory ${parent.path}/${name} with non-directory`);
    }
    fs.unlinkSync(parent.entry(name));
  }

  /** Makes (or reuses) a directory; its metadata goes on with finishDirectory, after its content. */
  directory(parent: DirectoryHandle, name: string): DirectoryHandle {
    const stats = this.existing(parent, name);
    if (stats && !stats.isDirectory()) {
      throw new ConflictError(`cannot overwrite non-directory ${parent.path}/${name} with directory`);
    }
    if (!stats) fs.mkdirSync(parent.entry(name), { mode: 0o700 });
    const handle = parent.openDirectory(name);
    if (!handle) {
      throw new ConflictError(`${parent.path}/${name} was replaced while it was being written`);
    }
    return handle;
  }

  finishDirectory(handle: DirectoryHandle, metadata: EntryMetadata): void {
    this.applyToDescriptor(handle.fd, metadata);
  }

  /** A regular file with the given content. */
  async file(
    parent: DirectoryHandle,
    name: string,
    metadata: EntryMetadata,
    content: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  ): Promise<void> {
    this.clearForFile(parent, name);
    const fd = fs.openSync(parent.entry(name), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600);
    try {
      for await (const chunk of content) {
        let offset = 0;
        while (offset < chunk.length) offset += fs.writeSync(fd, chunk, offset, chunk.length - offset);
      }
      this.applyToDescriptor(fd, metadata);
    } finally {
      fs.closeSync(fd);
    }
  }

  /** A regular file copied from an open descriptor. */
  fileFromDescriptor(parent: DirectoryHandle, name: string, metadata: EntryMetadata, source: number): void {
    this.clearForFile(parent, name);
    const fd = fs.openSync(parent.entry(name), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600);
    try {
      const buffer = Buffer.allocUnsafe(1 << 20);
      for (;;) {
        const read = fs.readSync(source, buffer, 0, buffer.length, null);
        if (read === 0) break;
        let offset = 0;
        while (offset < read) offset += fs.writeSync(fd, buffer, offset, read - offset);
      }
      this.applyToDescriptor(fd, metadata);
    } finally {
      fs.closeSync(fd);
    }
  }

  symlink(parent: DirectoryHandle, name: string, target: string, metadata: EntryMetadata): void {
    this.clearForFile(parent, name);
    fs.symlinkSync(target, parent.entry(name));
    if (this.options.chown && metadata.uid !== undefined) {
      fs.lchownSync(parent.entry(name), metadata.uid, metadata.gid ?? 0);
    }
    if (metadata.mtime !== undefined) {
      fs.lutimesSync(parent.entry(name), metadata.atime ?? metadata.mtime, metadata.mtime);
    }
  }

  node(
    parent: DirectoryHandle,
    name: string,
    type: NodeType,
    metadata: EntryMetadata,
    major = 0,
    minor = 0,
  ): void {
    this.clearForFile(parent, name);
    const kind = type === 'char' ? S_IFCHR : type === 'block' ? S_IFBLK : S_IFIFO;
    mknod(parent.entry(name), kind | 0o600, major, minor);
    this.applyByPath(parent, name, metadata);
  }

  /** A hard link to an entry written before (it may be in another directory of the same tree). */
  hardlink(
    parent: DirectoryHandle,
    name: string,
    existingParent: DirectoryHandle,
    existingName: string,
  ): void {
    this.clearForFile(parent, name);
    // link(2) does not follow a symlink in its old path's last component; the rest is our fd.
    fs.linkSync(existingParent.entry(existingName), parent.entry(name));
  }

  /** Owner, mode and times on a node or a file reached by name, through an O_PATH descriptor. */
  private applyByPath(parent: DirectoryHandle, name: string, metadata: EntryMetadata): void {
    const fd = openat(parent.fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    try {
      if (fs.fstatSync(fd).isSymbolicLink()) return;
      const self = `/proc/self/fd/${fd}`;
      if (this.options.chown && metadata.uid !== undefined)
        fs.chownSync(self, metadata.uid, metadata.gid ?? 0);
      fs.chmodSync(self, metadata.mode & 0o7777);
      if (metadata.mtime !== undefined) fs.utimesSync(self, metadata.atime ?? metadata.mtime, metadata.mtime);
    } finally {
      closeQuietly(fd);
    }
  }

  private applyToDescriptor(fd: number, metadata: EntryMetadata): void {
    // chown clears setuid and setgid bits: the mode goes on after it.
    if (this.options.chown && metadata.uid !== undefined) fs.fchownSync(fd, metadata.uid, metadata.gid ?? 0);
    fs.fchmodSync(fd, metadata.mode & 0o7777);
    if (metadata.mtime !== undefined) fs.futimesSync(fd, metadata.atime ?? metadata.mtime, metadata.mtime);
  }
}
