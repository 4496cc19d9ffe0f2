/**
 * Read-only lookups in a stack of unpacked layer directories (overlay lowerdir format), with
 * overlayfs's rules applied without mounting anything: a 0/0 character device hides the name in
 * the layers below, a directory marked `trusted.overlay.opaque=y` hides everything below it, and
 * a non-directory hides a directory of the same name below.
 *
 * A directory is described by the host directories that contribute to it (top first), so walking
 * a tree costs one lstat per contributing layer per name, not per layer per path component.
 *
 * Symlinks in the layers are resolved here, inside the image, never by the host kernel: every host
 * path built below is made of components lstat has seen to be real directories, and file content
 * is read with readFileInRoot from the layer's own directory with no symlink allowed on the way,
 * so a link in a layer (or in a stopped container's writable layer) cannot reach a host file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError } from '../../errors.js';
import { readTextInRoot } from '../../in-root.js';
import { lgetxattr } from '../../sys/libc.js';

export const OVERLAY_OPAQUE_XATTR = 'trusted.overlay.opaque';
const MAX_SYMLINK_HOPS = 40;

/** True for an overlay whiteout: a character device with device number 0/0. */
export function isWhiteout(stats: fs.Stats): boolean {
  return stats.isCharacterDevice() && stats.rdev === 0;
}

/** Reads the overlay opaque marker of a directory; file systems without trusted xattrs have none. */
export function isOpaqueDirectory(directory: string): boolean {
  try {
    return lgetxattr(directory, OVERLAY_OPAQUE_XATTR)?.toString() === 'y';
  } catch {
    return false;
  }
}

/** Byte order, as docker's walk and layer tars have it. */
export function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function lstatIfExists(file: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}

/** What a path resolves to in the stack. */
export interface StackEntry {
  /** Absolute path inside the image ("/etc/passwd"). */
  path: string;
  /** Host path of the topmost copy: the one a container sees. */
  file: string;
  stats: fs.Stats;
  /** For a directory: the host directories that contribute to it, top first. */
  sources: string[];
  /** The layer directory each of `sources` lies in. */
  sourceLayers: string[];
  /** The layer directory that holds `file`. */
  layer: string;
}

function splitImagePath(imagePath: string): string[] {
  return imagePath.split('/').filter((part) => part !== '' && part !== '.');
}

export class StackView {
  /** Host directories of the layers, top first. */
  private readonly topFirst: string[];
  private readonly opaqueCache = new Map<string, boolean>();

  /** @param layerDirs the layer directories, bottom first (as image records list them). */
  constructor(layerDirs: readonly string[]) {
    this.topFirst = [...layerDirs].reverse();
  }

  get root(): StackEntry {
    const top = this.topFirst[0];
    return {
      path: '/',
      file: top ?? '/',
      stats: top === undefined ? fs.lstatSync('/') : fs.lstatSync(top),
      sources: [...this.topFirst],
      sourceLayers: [...this.topFirst],
      layer: top ?? '/',
    };
  }

  /** Whether the stack has no layers at all (FROM scratch). */
  get empty(): boolean {
    return this.topFirst.length === 0;
  }

  private opaque(directory: string): boolean {
    let value = this.opaqueCache.get(directory);
    if (value === undefined) {
      value = isOpaqueDirectory(directory);
      this.opaqueCache.set(directory, value);
    }
    return value;
  }

  /** The entry `name` in the directory `parent`, or undefined when the stack has none. */
  child(parent: StackEntry, name: string): StackEntry | undefined {
    const childPath = parent.path === '/' ? `/${name}` : `${parent.path}/${name}`;
    let found: StackEntry | undefined;
    for (const [index, source] of parent.sources.entries()) {
      const layer = parent.sourceLayers[index]!;
      const file = path.join(source, name);
      const stats = lstatIfExists(file);
      if (!stats) continue;
      if (isWhiteout(stats)) break;
      if (!found) {
        found = { path: childPath, file, stats, sources: [], sourceLayers: [], layer };
        if (!stats.isDirectory()) break;
      } else if (!stats.isDirectory()) {
        // A non-directory below the directory is hidden by it, and hides nothing further down.
        break;
      }
      found.sources.push(file);
      found.sourceLayers.push(layer);
      if (this.opaque(file)) break;
    }
    return found;
  }

  /** The entry at an absolute image path, without following symlinks. */
  lookup(imagePath: string): StackEntry | undefined {
    let entry: StackEntry | undefined = this.root;
    for (const part of splitImagePath(imagePath)) {
      if (!entry || !entry.stats.isDirectory()) return undefined;
      entry = this.child(entry, part);
    }
    return entry;
  }

  /** The visible children of a directory entry, by name. */
  list(directory: StackEntry): Map<string, StackEntry> {
    const result = new Map<string, StackEntry>();
    const hidden = new Set<string>();
    for (const source of directory.sources) {
      let names: string[];
      try {
        names = fs.readdirSync(source);
      } catch {
        continue;
      }
      for (const name of names) {
        if (result.has(name) || hidden.has(name)) continue;
        const entry = this.child(directory, name);
        if (entry) result.set(name, entry);
        else hidden.add(name);
      }
    }
    return result;
  }

  /**
   * Resolves symlinks the way the kernel would inside a chroot: absolute targets start at the
   * image root and ".." never climbs above it. Returns the canonical image path and its entry (if
   * it exists). `followFinal` decides whether a symlink in the last component is followed.
   */
  resolve(
    imagePath: string,
    options: { followFinal?: boolean } = {},
  ): { path: string; entry: StackEntry | undefined } {
    let pending = splitImagePath(imagePath);
    const resolved: StackEntry[] = [this.root];
    let hops = 0;
    while (pending.length > 0) {
      const part = pending.shift() as string;
      if (part === '..') {
        if (resolved.length > 1) resolved.pop();
        continue;
      }
      const parent = resolved.at(-1) as StackEntry;
      const entry = parent.stats.isDirectory() ? this.child(parent, part) : undefined;
      if (!entry) {
        // Missing: the rest of the path is taken literally (it will be created).
        const base = parent.path === '/' ? '' : parent.path;
        const rest = [part, ...pending].filter((component) => component !== '..');
        return { path: `${base}/${rest.join('/')}`, entry: undefined };
      }
      const isLast = pending.length === 0;
      if (entry.stats.isSymbolicLink() && (!isLast || options.followFinal)) {
        hops += 1;
        if (hops > MAX_SYMLINK_HOPS) {
          throw new InvalidArgumentError(
            `too many levels of symbolic links resolving ${imagePath} in the image`,
          );
        }
        const target = fs.readlinkSync(entry.file);
        if (target.startsWith('/')) resolved.splice(1);
        pending = [...splitImagePath(target), ...pending];
        continue;
      }
      resolved.push(entry);
    }
    const last = resolved.at(-1) as StackEntry;
    return { path: last.path, entry: resolved.length === 1 ? this.root : last };
  }

  /** Reads a small file from the stack (following symlinks inside the image), or undefined when absent. */
  readFile(imagePath: string): string | undefined {
    const { entry } = this.resolve(imagePath, { followFinal: true });
    if (!entry || !entry.stats.isFile()) return undefined;
    return readTextInRoot(entry.layer, entry.path, { symlinks: 'none' });
  }
}
