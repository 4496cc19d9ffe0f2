/**
 * The source side of `cp`: a file or directory tree read as a stream of entries, through
 * descriptors only (DirectoryHandle: each child opened relative to its parent, never through a
 * symlink), so a container rewriting the tree while it is copied cannot point the walk at a host
 * file. Hard-linked files come once, then as links to the first copy, as tar keeps them. With
 * `xattrs` (cp -a), a file's or directory's user.* extended attributes come along; the other
 * namespaces never do (security.capability or trusted.* from a container would grant on the host
 * what the container's root chose).
 */
import type fs from 'node:fs';
import { splitDeviceNumber } from '../../device-number.js';
import type { DirectoryHandle } from '../../in-root.js';
import { lgetxattr, llistxattr } from '../../sys/libc.js';
import type { EntryMetadata } from '../../volumes/tree-writer.js';

export type CopyEntryType = 'directory' | 'file' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo';

export interface CopyEntry {
  /** Relative path below the copy's top ("" is the top itself), "/"-separated. */
  path: string;
  type: CopyEntryType;
  metadata: EntryMetadata;
  /** A regular file's size. */
  size: number;
  /** A symlink's target. */
  linkTarget?: string;
  /** A hard link: the path (relative, as above) of the entry it links to. */
  linkTo?: string;
  major?: number;
  minor?: number;
  /** A regular file's content (a descriptor open for reading; the consumer closes it). */
  open?: () => number | undefined;
  /** user.* extended attributes (files and directories, with -a). */
  xattrs?: Map<string, Buffer>;
}

/** The user.* namespace: the only extended attributes cp carries, either way. */
export const isUserXattr = (name: string): boolean => name.startsWith('user.');

/** The user.* attributes of `name` in `directory` (the entry itself, never a link's target). */
function userXattrs(directory: DirectoryHandle, name: string): Map<string, Buffer> | undefined {
  const file = directory.entry(name);
  const result = new Map<string, Buffer>();
  try {
    for (const key of llistxattr(file).filter(isUserXattr).sort()) {
      const value = lgetxattr(file, key);
      if (value !== undefined) result.set(key, Buffer.from(value));
    }
  } catch {
    return undefined; // gone meanwhile, or a filesystem without them
  }
  return result.size > 0 ? result : undefined;
}

export function metadataOf(stats: fs.Stats): EntryMetadata {
  return {
    mode: stats.mode & 0o7777,
    uid: stats.uid,
    gid: stats.gid,
    mtime: stats.mtimeMs / 1000,
    atime: stats.atimeMs / 1000,
  };
}

function join(parent: string, name: string): string {
  return parent === '' ? name : `${parent}/${name}`;
}

/**
 * The entries of `name` in `parent` (a file, link, node or a whole directory), the top named
 * `topPath`. `contentsOnly`: for a directory, its content without the directory itself (docker's
 * "SRC/." form). `notInto`: relative paths of directories given without their content (mount
 * points, for export). `xattrs`: user.* attributes of files and directories come along (cp -a).
 */
export function* walkEntries(
  parent: DirectoryHandle,
  name: string,
  topPath: string,
  options: { contentsOnly?: boolean; notInto?: ReadonlySet<string>; xattrs?: boolean } = {},
): Generator<CopyEntry> {
  const xattrsOf = (directory: DirectoryHandle, entryName: string) => {
    const found = options.xattrs ? userXattrs(directory, entryName) : undefined;
    return found ? { xattrs: found } : {};
  };
  const links = new Map<string, string>();
  function* visit(
    directory: DirectoryHandle,
    entryName: string,
    relative: string,
    top: boolean,
  ): Generator<CopyEntry> {
    const stats = directory.lstat(entryName);
    if (!stats) return;
    const metadata = metadataOf(stats);
    if (stats.isDirectory()) {
      const child = directory.openDirectory(entryName);
      if (!child) return;
      try {
        if (!(top && options.contentsOnly))
          yield { path: relative, type: 'directory', metadata, size: 0, ...xattrsOf(directory, entryName) };
        if (options.notInto?.has(relative)) return;
        for (const childName of child.names().sort()) {
          yield* visit(child, childName, join(top && options.contentsOnly ? '' : relative, childName), false);
        }
      } finally {
        child.close();
      }
      return;
    }
    const key = `${stats.dev}:${stats.ino}`;
    if (stats.nlink > 1 && !stats.isSymbolicLink()) {
      const first = links.get(key);
      if (first !== undefined) {
        yield { path: relative, type: 'hardlink', metadata, size: 0, linkTo: first };
        return;
      }
      links.set(key, relative);
    }
    if (stats.isFile()) {
      yield {
        path: relative,
        type: 'file',
        metadata,
        size: stats.size,
        open: () => directory.openFile(entryName)?.fd,
        ...xattrsOf(directory, entryName),
      };
    } else if (stats.isSymbolicLink()) {
      const target = directory.readlink(entryName);
      if (target !== undefined)
        yield { path: relative, type: 'symlink', metadata, size: 0, linkTarget: target };
    } else if (stats.isCharacterDevice() || stats.isBlockDevice() || stats.isFIFO()) {
      const { major, minor } = splitDeviceNumber(stats.rdev);
      const type = stats.isFIFO() ? 'fifo' : stats.isCharacterDevice() ? 'char' : 'block';
      yield { path: relative, type, metadata, size: 0, major, minor };
    }
    // Sockets are left out, as docker's archive leaves them out.
  }
  yield* visit(parent, name, topPath, true);
}
