/**
 * The one copier of what a stack of image layers holds, read without mounting it: COPY --from
 * (into a layer tar) and a volume's first pre-fill (into a directory tree) walk a StackView the
 * same way and differ only in where entries land, a StackCopySink.
 *
 * File content is read through descriptors opened inside each layer's own directory with no
 * symlink allowed on the way, and a symlink inside a copied tree is copied as a link, never
 * followed by the host: a link an image or an earlier RUN step planted (`/x -> /etc/shadow`)
 * cannot make the copy read a host file. Hard links between copied entries stay hard links.
 */
import fs from 'node:fs';
import { splitDeviceNumber } from '../../device-number.js';
import { openInRoot, openRoot } from '../../in-root.js';
import { byteOrder, type StackEntry, type StackView } from './stack-view.js';

const { O_RDONLY, O_NOFOLLOW } = fs.constants;

export type StackNodeType = 'char' | 'block' | 'fifo';

/**
 * Where a copy writes. `Place` is a sink's handle on a directory being filled, `Link` what a later
 * hard link needs to name an earlier entry; a write returns undefined for an entry that later
 * links should not point at (they are then written out in full).
 */
export interface StackCopySink<Place, Link> {
  /** Makes directory `name` in `place` and fills it by calling `copyChildren` with the place inside it. */
  directory(
    place: Place,
    name: string,
    entry: StackEntry,
    copyChildren: (inside: Place) => Promise<void>,
  ): Promise<void>;
  /** A regular file; `fd` reads its content and is the sink's to close, whatever happens. */
  file(place: Place, name: string, entry: StackEntry, fd: number): Promise<Link | undefined>;
  symlink(place: Place, name: string, entry: StackEntry, linkTarget: string): Promise<Link | undefined>;
  node(
    place: Place,
    name: string,
    entry: StackEntry,
    type: StackNodeType,
    device: { major: number; minor: number },
  ): Promise<Link | undefined>;
  /** A second name of an inode already written, as its write described it. */
  hardlink(place: Place, name: string, entry: StackEntry, first: Link): Promise<void>;
}

/** Descriptors of the stack's layer directories, opened once per copy. */
export class LayerFiles {
  private readonly roots = new Map<string, number>();

  /** Opens a file of the stack for reading from its own layer, no symlink allowed on the way. */
  open(entry: StackEntry): number {
    let root = this.roots.get(entry.layer);
    if (root === undefined) {
      root = openRoot(entry.layer);
      this.roots.set(entry.layer, root);
    }
    return openInRoot(root, entry.path, O_RDONLY | O_NOFOLLOW, { symlinks: 'none' });
  }

  close(): void {
    for (const fd of this.roots.values()) fs.closeSync(fd);
    this.roots.clear();
  }
}

/** A directory's entries in byte order of their names, as docker's walk and layer tars have them. */
export function sortedChildren(view: StackView, directory: StackEntry): [string, StackEntry][] {
  return [...view.list(directory)].sort(([a], [b]) => byteOrder(a, b));
}

/** Copies entries of one StackView into one sink; close() it when done. */
export class StackCopier<Place, Link> {
  readonly files = new LayerFiles();
  /** First copy of each hard-linked inode: how the sink named it. */
  private readonly links = new Map<string, Link>();

  constructor(
    private readonly view: StackView,
    private readonly sink: StackCopySink<Place, Link>,
  ) {}

  /** Copies what `directory` holds (not the directory itself) into `place`. */
  async copyChildren(directory: StackEntry, place: Place): Promise<void> {
    for (const [name, child] of sortedChildren(this.view, directory)) await this.copy(child, place, name);
  }

  /** Copies `entry` (a directory with all below it) into `place` as `name`; sockets are left out. */
  async copy(entry: StackEntry, place: Place, name: string): Promise<void> {
    const { stats } = entry;
    if (stats.isDirectory()) {
      await this.sink.directory(place, name, entry, (inside) => this.copyChildren(entry, inside));
      return;
    }
    const inode = `${stats.dev}:${stats.ino}`;
    const first = stats.nlink > 1 ? this.links.get(inode) : undefined;
    if (first !== undefined) {
      await this.sink.hardlink(place, name, entry, first);
      return;
    }
    let written: Link | undefined;
    if (stats.isFile()) {
      written = await this.sink.file(place, name, entry, this.files.open(entry));
    } else if (stats.isSymbolicLink()) {
      written = await this.sink.symlink(place, name, entry, fs.readlinkSync(entry.file));
    } else if (stats.isCharacterDevice() || stats.isBlockDevice() || stats.isFIFO()) {
      const type = stats.isFIFO() ? 'fifo' : stats.isCharacterDevice() ? 'char' : 'block';
      written = await this.sink.node(place, name, entry, type, splitDeviceNumber(stats.rdev));
    } else {
      return; // sockets are not copied (docker's tar skips them too)
    }
    if (stats.nlink > 1 && written !== undefined) this.links.set(inode, written);
  }

  close(): void {
    this.files.close();
  }
}
