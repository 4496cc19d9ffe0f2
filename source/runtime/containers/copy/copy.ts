/**
 * `gantry cp` with docker's path rules (docker's CLI reference, "cp"): a file to a missing path
 * is created there, to a directory goes inside it, over a file replaces it; a directory to a
 * missing path becomes that path, to a directory goes inside it (its content only for "SRC/.");
 * `-` reads or writes a tar stream. Inside the container every path resolves inside its root
 * (symlinks as in a chroot; -L follows the source's own link the same way), and writes never
 * follow a symlink (TreeWriter). Owners: the writer's (root) unless -a keeps the source's, and
 * with them the user.* extended attributes of files and directories (in a tar stream too).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { ConflictError, hasCode, InvalidArgumentError, NotFoundError, SyscallError } from '../../errors.js';
import { DirectoryHandle, openInRoot } from '../../in-root.js';
import { readTar } from '../../images/tar/reader.js';
import { O_PATH } from '../../sys/libc.js';
import type { EngineCore } from '../core.js';
import type { ContainerRecord } from '../record.js';
import { isUserXattr, walkEntries, type CopyEntry } from './entries.js';
import { openContainerRoot, type ContainerRoot } from './roots.js';
import { safeRelativePath, TarSink, TreeSink, type CopySink } from './sinks.js';

const { O_RDONLY, O_DIRECTORY } = fs.constants;
const MAX_LINKS = 40;

export interface CopyOptions {
  /** -a: keep the source's owners (default: the destination's root) and user.* xattrs. */
  archive?: boolean;
  /** -L: follow a symlink named as the source. */
  followLink?: boolean;
}

function inRootPath(file: string): string {
  return path.posix.normalize(`/${file}`);
}

function openDirectoryIn(root: DirectoryHandle, file: string, what: string): DirectoryHandle {
  try {
    return DirectoryHandle.fromDescriptor(
      openInRoot(root.fd, file, O_RDONLY | O_DIRECTORY),
      `${what}:${file}`,
    );
  } catch (error) {
    if (error instanceof SyscallError && ['ENOENT', 'ENOTDIR'].includes(error.code)) {
      throw new NotFoundError(`no such directory: ${file} in ${what}`, { cause: error });
    }
    throw error;
  }
}

/** The source inside the container: its parent directory and name, links followed when asked. */
function locateInContainer(
  croot: ContainerRoot,
  record: ContainerRecord,
  source: string,
  follow: boolean,
): { parent: DirectoryHandle; name: string; stats: fs.Stats } {
  let current = inRootPath(source);
  for (let hops = 0; ; hops += 1) {
    if (current === '/') {
      throw new InvalidArgumentError('copying the whole root of a container is not supported', {
        hint: 'name a directory below / (or use `gantry export` for the whole filesystem)',
      });
    }
    const missing = () =>
      new NotFoundError(`Could not find the file ${source} in container ${record.Name}`, {
        hint: 'the path is resolved inside the container, as its processes see it',
      });
    let parent: DirectoryHandle;
    try {
      parent = openDirectoryIn(croot.root, path.posix.dirname(current), `container ${record.Name}`);
    } catch (error) {
      if (error instanceof NotFoundError) throw missing();
      throw error;
    }
    const name = path.posix.basename(current);
    const stats = parent.lstat(name);
    if (!stats) {
      parent.close();
      throw missing();
    }
    if (!stats.isSymbolicLink() || !follow) return { parent, name, stats };
    const target = parent.readlink(name) ?? '';
    parent.close();
    if (hops >= MAX_LINKS) throw new InvalidArgumentError(`too many levels of symbolic links in ${source}`);
    current = inRootPath(
      target.startsWith('/') ? target : path.posix.join(path.posix.dirname(current), target),
    );
  }
}

function rethrowWrite(error: unknown, record: ContainerRecord, destination: string): never {
  if ((error instanceof SyscallError && error.code === 'EROFS') || hasCode(error, 'EROFS')) {
    throw new ConflictError(
      `cannot copy to ${destination} in container ${record.Name}: it is on a read-only mount`,
      {
        cause: error,
        hint: 'the container root is --read-only, or a volume or bind there is mounted :ro',
      },
    );
  }
  throw error;
}

export async function drain(entries: Iterable<CopyEntry>, sink: CopySink): Promise<void> {
  for (const entry of entries) await sink.add(entry);
  await sink.finish();
}

/** `cp CONTAINER:SRC DEST` and `cp CONTAINER:SRC -` (a tar stream on `output`). */
export async function copyFromContainer(
  core: EngineCore,
  record: ContainerRecord,
  source: string,
  destination: string | Writable,
  options: CopyOptions & {
    /** A stream for another host's cp: the top always comes, named `name` (the receiver renames). */
    wholeTree?: boolean;
  } = {},
): Promise<void> {
  const croot = await openContainerRoot(core, record);
  try {
    const contentsOnly = contentsOnlyPath(source);
    const follow = options.followLink === true || contentsOnly || source.endsWith('/');
    const { parent, name, stats } = locateInContainer(croot, record, source, follow);
    try {
      const isDirectory = stats.isDirectory();
      if (typeof destination !== 'string') {
        const whole = options.wholeTree === true;
        await drain(
          walkEntries(parent, name, contentsOnly && isDirectory && !whole ? '' : name, {
            contentsOnly: contentsOnly && !whole,
            xattrs: options.archive === true,
          }),
          new TarSink(destination),
        );
        return;
      }
      const chown = options.archive === true;
      const { top, rename } = planHostDestination(destination, { name, isDirectory, contentsOnly });
      try {
        await drain(
          walkEntries(parent, name, '', { contentsOnly: rename === undefined, xattrs: chown }),
          new TreeSink(top, rename, { chown }),
        );
      } finally {
        top.close();
      }
    } finally {
      parent.close();
    }
  } finally {
    await croot.close();
  }
}

/** What a copy's destination needs to know of its source. */
export interface CopySource {
  /** The name its top takes unless the destination renames it. */
  name: string;
  isDirectory: boolean;
  /** docker's "SRC/.": a directory's content without the directory itself. */
  contentsOnly: boolean;
}

/** docker's "SRC/." form, said by the path as given. */
export function contentsOnlyPath(source: string): boolean {
  return /(^|\/)\.$/.test(source);
}

/**
 * Where a copy lands on this machine, by docker's rules: inside an existing directory (as `name`,
 * or its content only for "SRC/."), else as the destination's own name in its parent directory.
 * `rename` undefined: the entries' paths are already names inside `top`.
 */
export function planHostDestination(
  destination: string,
  source: CopySource,
): { top: DirectoryHandle; rename: string | undefined } {
  const target = fs.statSync(destination, { throwIfNoEntry: false });
  if (target?.isDirectory()) {
    return {
      top: DirectoryHandle.open(fs.realpathSync(destination)),
      rename: source.isDirectory && source.contentsOnly ? undefined : source.name,
    };
  }
  if (target && source.isDirectory)
    throw new InvalidArgumentError(`cannot copy a directory to a file: ${destination}`);
  if (!target && destination.endsWith('/') && !source.isDirectory) {
    throw new NotFoundError(`destination directory ${destination} must exist`);
  }
  const directory = path.dirname(path.resolve(destination));
  try {
    return {
      top: DirectoryHandle.open(fs.realpathSync(directory)),
      rename: path.basename(path.resolve(destination)),
    };
  } catch (error) {
    throw new NotFoundError(`no such directory: ${directory}`, { cause: error });
  }
}

/** Refuses a write a start would make read-only (a stopped container's binds are all rw here). */
function checkWritable(croot: ContainerRoot, record: ContainerRecord, destination: string): void {
  if (croot.running) return;
  const normal = inRootPath(destination);
  const under = (mount: string) => normal === mount || normal.startsWith(`${mount}/`);
  const mounts = record.Mounts.map((mount) => mount.Destination).filter(under);
  const innermost = mounts.sort((a, b) => b.length - a.length)[0];
  const readOnly = innermost ? croot.readOnlyMounts.includes(innermost) : record.HostConfig.ReadonlyRootfs;
  if (readOnly) rethrowWrite(new SyscallError('open', 30, 'EROFS', destination), record, destination);
}

/**
 * Where a copy lands in the container, by docker's rules (as planHostDestination), every path
 * resolved inside its root.
 */
function planContainerDestination(
  croot: ContainerRoot,
  record: ContainerRecord,
  destination: string,
  source: CopySource,
): { top: DirectoryHandle; rename: string | undefined } {
  const where = `container ${record.Name}`;
  const normal = inRootPath(destination);
  let existing: fs.Stats | undefined;
  try {
    const fd = openInRoot(croot.root.fd, normal, O_PATH);
    existing = fs.fstatSync(fd);
    fs.closeSync(fd);
  } catch (error) {
    if (!(error instanceof SyscallError) || !['ENOENT', 'ENOTDIR'].includes(error.code)) throw error;
  }
  if (existing?.isDirectory()) {
    return {
      top: openDirectoryIn(croot.root, normal, where),
      rename: source.isDirectory && source.contentsOnly ? undefined : source.name,
    };
  }
  if (existing && source.isDirectory)
    throw new InvalidArgumentError(`cannot copy a directory to a file: ${destination}`);
  if (!existing && destination.endsWith('/') && !source.isDirectory) {
    throw new NotFoundError(`destination directory ${destination} must exist in ${where}`);
  }
  return {
    top: openDirectoryIn(croot.root, path.posix.dirname(normal), where),
    rename: path.posix.basename(normal),
  };
}

/** A tar stream's entries as a copy's, every name checked (no "..", nothing absolute). */
export async function* tarCopyEntries(
  input: Readable,
  label: string,
  options: {
    xattrs: boolean;
    /** The top's name (every entry is it or below it, and is named relative to it); true: the first entry's. */
    top?: string | true;
  },
): AsyncGenerator<{ entry: CopyEntry; content?: AsyncIterable<Uint8Array>; top?: string }> {
  let top = options.top;
  const rebase = (name: string): string => {
    const relative = safeRelativePath(name);
    if (top === true) top = relative;
    if (top === undefined) return relative;
    if (relative === top) return '';
    if (relative.startsWith(`${top}/`)) return relative.slice(top.length + 1);
    throw new InvalidArgumentError(
      `refusing the archive entry ${JSON.stringify(name)}: it is not below the copy's top ${JSON.stringify(top)}`,
    );
  };
  for await (const tarEntry of readTar(input, { label })) {
    const header = tarEntry.header;
    const entry: CopyEntry = {
      path: rebase(header.path),
      type: header.type,
      metadata: { mode: header.mode, uid: header.uid, gid: header.gid, mtime: header.mtime },
      size: header.size,
      linkTarget: header.linkPath,
      // A symlink's target is the container's business ("../lib/x" is fine); a hard link's names
      // an entry of this copy, checked as the entries are.
      ...(header.type === 'hardlink' ? { linkTo: rebase(header.linkPath) } : {}),
      major: header.devMajor,
      minor: header.devMinor,
    };
    const xattrs = new Map([...header.xattrs].filter(([key]) => isUserXattr(key)));
    if (options.xattrs && xattrs.size > 0) entry.xattrs = xattrs;
    const named = typeof top === 'string' ? { top } : {};
    yield header.type === 'file' ? { entry, content: tarEntry.body(), ...named } : { entry, ...named };
  }
}

/** Entries from a tar stream into a sink: each file's content is read before the next entry. */
export async function drainTar(
  input: Readable,
  sink: CopySink,
  label: string,
  options: { xattrs: boolean; top?: string },
): Promise<void> {
  for await (const { entry, content } of tarCopyEntries(input, label, options))
    await sink.add(entry, content);
  await sink.finish();
}

/** A tree that another host sends for `cp SRC CONTAINER:DEST`: its top, named `source.name`, first. */
export interface SentTree {
  archive: Readable;
  source: CopySource;
}

/**
 * `cp SRC CONTAINER:DEST` (SRC on this machine, or a tree another host sends) and
 * `cp - CONTAINER:DEST` (a tar stream from `input`).
 */
export async function copyToContainer(
  core: EngineCore,
  record: ContainerRecord,
  source: string | Readable | SentTree,
  destination: string,
  options: CopyOptions = {},
): Promise<void> {
  const croot = await openContainerRoot(core, record);
  try {
    checkWritable(croot, record, destination);
    const chown = options.archive === true;
    const where = `container ${record.Name}`;
    try {
      if (typeof source !== 'string' && 'source' in source) {
        const { top, rename } = planContainerDestination(croot, record, destination, source.source);
        try {
          await drainTar(source.archive, new TreeSink(top, rename, { chown }), `the tree sent for ${where}`, {
            xattrs: chown,
            top: source.source.name,
          });
        } finally {
          top.close();
        }
        return;
      }
      if (typeof source !== 'string') {
        const top = openDirectoryIn(croot.root, inRootPath(destination), where);
        try {
          await drainTar(source, new TreeSink(top, undefined, { chown }), 'the archive on stdin', {
            xattrs: chown,
          });
        } finally {
          top.close();
        }
        return;
      }
      const { parent: hostParent, name, stats, contentsOnly } = openHostSource(source, options);
      try {
        const { top, rename } = planContainerDestination(croot, record, destination, {
          name,
          isDirectory: stats.isDirectory(),
          contentsOnly,
        });
        try {
          await drain(
            walkEntries(hostParent, name, '', { contentsOnly: rename === undefined, xattrs: chown }),
            new TreeSink(top, rename, { chown }),
          );
        } finally {
          top.close();
        }
      } finally {
        hostParent.close();
      }
    } catch (error) {
      rethrowWrite(error, record, destination);
    }
  } finally {
    await croot.close();
  }
}

/**
 * A source on this machine as docker's cp takes it: a symlink named with -L (or a trailing "/")
 * is followed; "SRC/." of a directory means its content.
 */
export function openHostSource(
  given: string,
  options: CopyOptions = {},
): { parent: DirectoryHandle; name: string; stats: fs.Stats; contentsOnly: boolean } {
  let stats = fs.lstatSync(given, { throwIfNoEntry: false });
  if (!stats) throw new NotFoundError(`lstat ${given}: no such file or directory`);
  let hostPath = path.resolve(given);
  if (stats.isSymbolicLink() && (options.followLink || given.endsWith('/'))) {
    hostPath = fs.realpathSync(hostPath);
    stats = fs.lstatSync(hostPath);
  }
  const contentsOnly = contentsOnlyPath(given) && stats.isDirectory();
  const parent = DirectoryHandle.open(path.dirname(hostPath));
  return { parent, name: path.basename(hostPath), stats, contentsOnly };
}
