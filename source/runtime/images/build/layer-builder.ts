/**
 * Writes entries of a new layer (COPY, ADD) on top of a stack of layers. Paths are resolved
 * through the stack first, so writing to /bin/tool where the image has /bin -> usr/bin lands in
 * /usr/bin (a layer that made /bin a directory would hide the symlink and break the image). Every
 * parent directory goes into the layer too, with the metadata the stack gives it, so the upper
 * layer's copy of a directory never changes its mode or owner by accident.
 */
import path from 'node:path';
import { InvalidArgumentError } from '../../errors.js';
import type { StackView } from '../diff/stack-view.js';
import type { TarEntryInput, TarWriter } from '../tar/writer.js';

export interface NewDirectoryMetadata {
  uid: number;
  gid: number;
  mode: number;
  mtime: number;
}

export class LayerTarBuilder {
  /** Directories already in the tar (canonical image paths). */
  private readonly directories = new Set<string>(['/']);
  /** Canonical form of directories resolved so far. */
  private readonly canonical = new Map<string, string>([['/', '/']]);
  entries = 0;

  constructor(
    private readonly writer: TarWriter,
    private readonly stack: StackView,
    private readonly newDirectory: NewDirectoryMetadata,
  ) {}

  /** The canonical image path of a directory: symlinks in the stack followed. */
  resolveDirectory(imageDirectory: string): string {
    const normalized = path.posix.normalize(imageDirectory);
    let resolved = this.canonical.get(normalized);
    if (resolved === undefined) {
      if (this.directories.has(normalized)) {
        resolved = normalized;
      } else {
        const parent = this.resolveDirectory(path.posix.dirname(normalized));
        const candidate = path.posix.join(parent, path.posix.basename(normalized));
        resolved = this.directories.has(candidate)
          ? candidate
          : this.stack.resolve(candidate, { followFinal: true }).path;
      }
      this.canonical.set(normalized, resolved);
    }
    return resolved;
  }

  /** Where `imagePath` is written: its parent resolved, its last component kept. */
  target(imagePath: string): string {
    const normalized = path.posix.normalize(imagePath);
    if (normalized === '/') return '/';
    return path.posix.join(
      this.resolveDirectory(path.posix.dirname(normalized)),
      path.posix.basename(normalized),
    );
  }

  /** Puts the canonical `directory` and its missing parents into the tar. */
  private async ensure(directory: string, what: string): Promise<void> {
    if (this.directories.has(directory)) return;
    await this.ensure(path.posix.dirname(directory), what);
    const existing = this.stack.lookup(directory);
    if (existing && !existing.stats.isDirectory()) {
      throw new InvalidArgumentError(`cannot write ${what}: ${directory} is not a directory in the image`);
    }
    const metadata = existing
      ? {
          mode: existing.stats.mode & 0o7777,
          uid: existing.stats.uid,
          gid: existing.stats.gid,
          mtime: Math.floor(existing.stats.mtimeMs / 1000),
        }
      : this.newDirectory;
    await this.writer.add({ path: directory.slice(1), type: 'directory', ...metadata });
    this.entries += 1;
    this.directories.add(directory);
  }

  /**
   * Adds an entry at `entry.path` (an absolute image path; its parent is resolved through the
   * stack). Returns the canonical path it was written at.
   */
  async add(entry: TarEntryInput, body?: Uint8Array | AsyncIterable<Uint8Array>): Promise<string> {
    const target = this.target(entry.path);
    if (target === '/') return target;
    await this.ensure(path.posix.dirname(target), entry.path);
    await this.writer.add({ ...entry, path: target.slice(1) }, body);
    this.entries += 1;
    if (entry.type === 'directory') {
      this.directories.add(target);
      this.canonical.set(target, target);
    }
    return target;
  }

  /** Makes sure a directory exists: new ones get the new-directory metadata, existing ones stay. */
  async directory(imagePath: string): Promise<string> {
    const target = this.target(imagePath);
    if (this.directories.has(target)) return target;
    const existing = this.stack.lookup(target);
    if (existing && !existing.stats.isDirectory()) {
      throw new InvalidArgumentError(`cannot copy into ${imagePath}: it is not a directory in the image`);
    }
    if (existing) {
      await this.ensure(target, imagePath);
      return target;
    }
    return this.add({ path: target, type: 'directory', ...this.newDirectory });
  }
}
