/**
 * Walks a container's writable layer (an overlayfs upperdir) against the image layers below it
 * and says what changed: the one walk behind `gantry diff` (A/C/D lines) and `gantry commit`
 * (the layer tar). It reads the live directory in place; nothing is copied or exported.
 *
 * Rules (docker's, made exact where docker's are approximate):
 * - a path that is in the upperdir is A (added) when no lower layer has it, C when one does;
 * - a 0/0 character device is a whiteout: D (deleted), when a lower layer had the path;
 * - an opaque directory over a lower directory replaced it: it is C, every name the lower
 *   directory had that the new one lacks is D, and everything inside it is part of the change;
 * - a directory that exists below is C when its mode or owner changed, or when something
 *   beneath it changed (docker's "C for parents of changes", applied to every level);
 * - the empty files and directories the runtime creates only to mount over (/etc/hosts,
 *   /etc/resolv.conf, /proc in an image without it, bind-mount targets) are not changes: docker
 *   keeps them in a separate init layer, here they are recognised and skipped.
 *
 * The upperdir belongs to the container, which may rewrite it while it is walked (diff and
 * commit --pause=false of a running container). So it is walked by descriptors (DirectoryHandle):
 * a directory swapped for a symlink to a host directory after it was listed is skipped, never
 * entered, and no path of the walk passes through anything but directories we hold open.
 */
import fs from 'node:fs';
import path from 'node:path';
import { UnsupportedError } from '../../errors.js';
import { DirectoryHandle } from '../../in-root.js';
import { lgetxattr } from '../../sys/libc.js';
import { containerIdOf, type IdMapping } from '../../userns/mappings.js';
import { byteOrder, isOpaqueDirectory, isWhiteout, StackView, type StackEntry } from './stack-view.js';

export type ChangeStatus = 'A' | 'C';

/**
 * What the walk found. `file` names the entry through the descriptor of its parent directory
 * (/proc/self/fd/N/NAME): use it only with calls that do not follow a last symlink (lstat,
 * readlink, lgetxattr, llistxattr), and only before the walk resumes; open content with
 * `directory.openFile(name)`.
 */
export type UpperEvent =
  /** A directory to record, given before anything inside it. `ancestorOnly`: unchanged itself. */
  | {
      type: 'directory';
      path: string;
      file: string;
      stats: fs.Stats;
      status: ChangeStatus;
      opaque: boolean;
      ancestorOnly: boolean;
    }
  /** A file, symlink, device or FIFO that was added or changed, `name` in `directory`. */
  | {
      type: 'node';
      path: string;
      file: string;
      stats: fs.Stats;
      status: ChangeStatus;
      directory: DirectoryHandle;
      name: string;
    }
  /** An explicit whiteout: the lower path is deleted. */
  | { type: 'whiteout'; path: string; file: string; lower: StackEntry }
  /** A lower path hidden by an opaque directory above it (reported by diff, implied in a layer). */
  | { type: 'hidden'; path: string; lower: StackEntry };

export interface UpperWalkOptions {
  /**
   * Mount destinations of the container (from its OCI spec): an empty file or directory at one
   * of them that no image layer has was made by the runtime to mount over, and is skipped.
   */
  mountpoints?: Iterable<string>;
  /**
   * The container's user namespace mapping: its writable layer holds host ids, which are shifted
   * back to the container's own (what the image's layers hold) before they are compared or given.
   */
  idMap?: { uid: readonly IdMapping[]; gid: readonly IdMapping[] };
}

/** The kernel's overflow id: what a host id outside the mapping reads as inside. */
const OVERFLOW_ID = 65534;

/** `stats` with its owner as the container sees it (the same object without a mapping). */
export function containerOwned(stats: fs.Stats, idMap: UpperWalkOptions['idMap']): fs.Stats {
  if (!idMap) return stats;
  const shifted = Object.assign(Object.create(Object.getPrototypeOf(stats) as object) as fs.Stats, stats);
  shifted.uid = containerIdOf(idMap.uid, stats.uid) ?? OVERFLOW_ID;
  shifted.gid = containerIdOf(idMap.gid, stats.gid) ?? OVERFLOW_ID;
  return shifted;
}

function sameOwnerAndMode(upper: fs.Stats, lower: fs.Stats): boolean {
  return upper.mode === lower.mode && upper.uid === lower.uid && upper.gid === lower.gid;
}

function readParameter(name: string): string {
  try {
    return fs.readFileSync(`/sys/module/overlay/parameters/${name}`, 'utf8').trim();
  } catch {
    return 'N';
  }
}

interface PendingDirectory {
  path: string;
  file: string;
  stats: fs.Stats;
  emitted: boolean;
  /** A new directory that is only given if something inside it is (a mount stub's parent). */
  status?: ChangeStatus;
}

/**
 * Yields the changes of `upperDirectory` relative to `lowerDirectories` (bottom first), in
 * docker's order: depth first, names sorted, a directory before its contents.
 */
export function* walkUpper(
  upperDirectory: string,
  lowerDirectories: readonly string[],
  options: UpperWalkOptions = {},
): Generator<UpperEvent> {
  const lower = new StackView(lowerDirectories);
  const mountpoints = new Set(
    [...(options.mountpoints ?? [])].map((mountpoint) => path.posix.normalize(mountpoint)),
  );
  // Redirects and metacopy make an upperdir depend on lower content by reference; the engine
  // mounts without them, but a host default could turn them on.
  const checkRedirects = readParameter('redirect_dir') === 'Y' || readParameter('metacopy') === 'Y';
  const pending: PendingDirectory[] = [];
  const isMountpointParent = (directory: string): boolean => {
    for (const mountpoint of mountpoints) if (mountpoint.startsWith(`${directory}/`)) return true;
    return false;
  };

  /** Directory events for every pending ancestor not yet given. */
  function* flush(): Generator<UpperEvent> {
    for (const directory of pending) {
      if (directory.emitted) continue;
      directory.emitted = true;
      yield {
        type: 'directory',
        path: directory.path,
        file: directory.file,
        stats: directory.stats,
        status: directory.status ?? 'C',
        opaque: false,
        ancestorOnly: directory.status === undefined,
      };
    }
  }

  function refuseRedirect(file: string): void {
    for (const name of ['trusted.overlay.redirect', 'trusted.overlay.metacopy']) {
      let value: Buffer | undefined;
      try {
        value = lgetxattr(file, name);
      } catch {
        value = undefined;
      }
      if (value !== undefined) {
        throw new UnsupportedError(
          `${file} is an overlay ${name.slice('trusted.overlay.'.length)} entry: its content lives in a lower layer`,
          { hint: 'the container was mounted with redirect_dir or metacopy on, which gantry does not use' },
        );
      }
    }
  }

  function* visit(
    directory: DirectoryHandle,
    imageDirectory: string,
    lowerDirectory: StackEntry | undefined,
    replaced: boolean,
  ): Generator<UpperEvent> {
    const names = directory.names().sort(byteOrder);
    // A whiteout's name counts as present here: it is reported where it stands, below.
    const present = new Set(names);
    if (replaced && lowerDirectory) {
      const hidden = [...lower.list(lowerDirectory)].filter(([name]) => !present.has(name));
      for (const [name, entry] of hidden.sort(([a], [b]) => byteOrder(a, b))) {
        yield* flush();
        yield { type: 'hidden', path: path.posix.join(imageDirectory, name), lower: entry };
      }
    }
    for (const name of names) {
      const file = directory.entry(name);
      const imagePath = imageDirectory === '/' ? `/${name}` : `${imageDirectory}/${name}`;
      // Gone since the listing: a running container changes its layer while it is walked.
      const listed = directory.lstat(name);
      if (!listed) continue;
      const stats = containerOwned(listed, options.idMap);
      const below = lowerDirectory?.stats.isDirectory() ? lower.child(lowerDirectory, name) : undefined;
      if (isWhiteout(stats)) {
        if (!below) continue;
        yield* flush();
        // Inside a replaced directory the opaque marker already hides the lower path.
        yield replaced
          ? { type: 'hidden', path: imagePath, lower: below }
          : { type: 'whiteout', path: imagePath, file, lower: below };
        continue;
      }
      if (!below && mountpoints.has(imagePath) && isEmptyStub(directory, name, stats)) continue;
      if (checkRedirects) refuseRedirect(file);
      if (!stats.isDirectory()) {
        if (stats.isSocket()) continue; // not representable in a layer; sockets are runtime state
        yield* flush();
        yield { type: 'node', path: imagePath, file, stats, status: below ? 'C' : 'A', directory, name };
        continue;
      }
      // Opened before anything is said about it: swapped for a symlink since the lstat, it is skipped.
      const child = directory.openDirectory(name);
      if (!child) continue;
      try {
        yield* visitDirectory(child, file, imagePath, below, replaced);
      } finally {
        child.close();
      }
    }
  }

  function* visitDirectory(
    child: DirectoryHandle,
    file: string,
    imagePath: string,
    below: StackEntry | undefined,
    replaced: boolean,
  ): Generator<UpperEvent> {
    // The directory as opened, not as listed a moment before.
    const stats = containerOwned(fs.fstatSync(child.fd), options.idMap);
    const opaque = isOpaqueDirectory(file);
    const belowDirectory = below?.stats.isDirectory() ? below : undefined;
    const childReplaced = replaced || (opaque && belowDirectory !== undefined);
    const changed = !belowDirectory || childReplaced || !sameOwnerAndMode(stats, belowDirectory.stats);
    const record: PendingDirectory = { path: imagePath, file, stats, emitted: false };
    if (!below && isMountpointParent(imagePath) && !opaque) {
      // Made by the runtime to hold mount points (/etc for /etc/hosts in an image without
      // /etc): a change only if something else is put in it.
      record.status = 'A';
    } else if (changed) {
      yield* flush();
      record.emitted = true;
      yield {
        type: 'directory',
        path: imagePath,
        file,
        stats,
        status: below ? 'C' : 'A',
        // Only meaningful where something is below; a new directory hides nothing.
        opaque: opaque && belowDirectory !== undefined,
        ancestorOnly: false,
      };
    }
    pending.push(record);
    try {
      yield* visit(child, imagePath, belowDirectory, childReplaced);
    } finally {
      pending.pop();
    }
  }

  const root = lower.empty ? undefined : lower.root;
  const top = DirectoryHandle.open(upperDirectory);
  try {
    yield* visit(top, '/', root, false);
  } finally {
    top.close();
  }
}

function isEmptyStub(directory: DirectoryHandle, name: string, stats: fs.Stats): boolean {
  if (stats.isFile()) return stats.size === 0;
  if (!stats.isDirectory()) return false;
  const child = directory.openDirectory(name);
  if (!child) return false;
  try {
    return child.names().length === 0;
  } finally {
    child.close();
  }
}

/** One line of `gantry diff`. */
export interface ContainerChange {
  /** Absolute path inside the container. */
  Path: string;
  /** C changed, A added, D deleted (docker's letters). */
  Kind: 'C' | 'A' | 'D';
}

/** The changes of a container's writable layer, as `docker diff` lists them. */
export function containerChanges(
  upperDirectory: string,
  lowerDirectories: readonly string[],
  options: UpperWalkOptions = {},
): ContainerChange[] {
  const changes: ContainerChange[] = [];
  for (const event of walkUpper(upperDirectory, lowerDirectories, options)) {
    switch (event.type) {
      case 'directory':
      case 'node':
        changes.push({ Path: event.path, Kind: event.status });
        break;
      case 'whiteout':
      case 'hidden':
        changes.push({ Path: event.path, Kind: 'D' });
        break;
    }
  }
  return changes;
}
