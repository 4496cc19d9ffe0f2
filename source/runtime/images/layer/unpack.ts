/**
 * Unpacks one layer tar into a directory in the format overlayfs takes as a lowerdir: OCI
 * whiteouts become 0/0 character devices, opaque markers become `trusted.overlay.opaque=y`.
 *
 * Safety: the target directory is new and private to this unpack, so the unpacker keeps the
 * kind of every path it created in memory and never has to ask the filesystem (or follow
 * anything) to know whether a parent is a real directory. An entry that would climb out with
 * "..", write through a symlink made earlier in the layer, or hard-link to something that is
 * not a file of this layer is refused before any syscall touches it.
 *
 * Speed: per-entry work uses synchronous syscalls (a few microseconds each, no thread-pool hop);
 * the only awaits are for the next input chunk, so decompression runs on the thread pool while
 * this thread writes. Nothing is fsynced here; the store syncs the filesystem once per import.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ImageFormatError, SyscallError } from '../../errors.js';
import { lsetxattr, mknod, S_IFBLK, S_IFCHR, S_IFIFO } from '../../sys/libc.js';
import type { TarHeader } from '../tar/header.js';
import type { TarEntry } from '../tar/reader.js';

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_WHITEOUT = '.wh..wh..opq';
export const OVERLAY_OPAQUE_XATTR = 'trusted.overlay.opaque';

export interface UnpackOptions {
  /** Names the layer in error messages, e.g. "layer 2 (sha256:...)". */
  label?: string;
  /** Give entries the owners recorded in the tar (needs CAP_CHOWN). Default: when running as root. */
  preserveOwnership?: boolean;
}

export interface UnpackResult {
  /** Entries in the tar, metadata entries not counted. */
  entries: number;
  /** Bytes of regular file content written. */
  contentBytes: number;
}

type NodeKind = 'directory' | 'file' | 'symlink' | 'other';

interface DirectoryMetadata {
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  atime: number;
}

/**
 * Splits an entry name into path components inside the layer. A leading "/" or "./" is the layer
 * root (tar writers disagree on it); a ".." component anywhere is refused because the only layer
 * that needs one is a hostile one.
 */
export function layerPathComponents(name: string, label = 'layer'): string[] {
  const components: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      throw new ImageFormatError(
        `${label}: entry "${name}" contains a ".." component; refusing to unpack it`,
        {
          hint: 'layer paths must stay inside the layer',
        },
      );
    }
    components.push(part);
  }
  return components;
}

const OPEN_FLAGS =
  fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;

function writeAll(fd: number, chunk: Buffer): void {
  let offset = 0;
  while (offset < chunk.length) offset += fs.writeSync(fd, chunk, offset, chunk.length - offset);
}

class LayerUnpacker {
  /** Kind of every path created so far, by relative path ("" is the root). */
  private readonly kinds = new Map<string, NodeKind>([['', 'directory']]);
  private readonly directories = new Map<string, DirectoryMetadata>();
  private readonly opaque = new Set<string>();
  private readonly label: string;
  private readonly preserveOwnership: boolean;
  entries = 0;
  contentBytes = 0;

  constructor(
    private readonly root: string,
    options: UnpackOptions,
  ) {
    this.label = options.label ?? 'layer';
    this.preserveOwnership = options.preserveOwnership ?? process.getuid?.() === 0;
  }

  private refuse(entry: string, reason: string): ImageFormatError {
    return new ImageFormatError(`${this.label}: entry "${entry}" ${reason}; refusing to unpack it`, {
      hint: 'the layer tries to write outside its own directory or is malformed; do not use this image',
    });
  }

  private absolute(relative: string): string {
    return relative === '' ? this.root : path.join(this.root, relative);
  }

  /** Makes sure every parent of `components` is a real directory created by this unpack. */
  private ensureParents(entryName: string, components: readonly string[]): void {
    let current = '';
    for (let index = 0; index < components.length - 1; index += 1) {
      current = current === '' ? (components[index] as string) : `${current}/${components[index]}`;
      const kind = this.kinds.get(current);
      if (kind === 'directory') continue;
      if (kind === 'symlink')
        throw this.refuse(entryName, `would be written through the symlink "${current}"`);
      if (kind !== undefined)
        throw this.refuse(entryName, `has a parent "${current}" that is not a directory`);
      fs.mkdirSync(this.absolute(current), 0o755);
      this.kinds.set(current, 'directory');
    }
  }

  /** Removes what an earlier entry of this layer put at `relative`, so a later entry replaces it. */
  private removeExisting(relative: string): void {
    const kind = this.kinds.get(relative);
    if (kind === undefined) return;
    if (kind === 'directory') {
      fs.rmSync(this.absolute(relative), { recursive: true, force: true });
      const prefix = `${relative}/`;
      for (const key of [...this.kinds.keys()]) if (key.startsWith(prefix)) this.kinds.delete(key);
      for (const key of [...this.directories.keys()])
        if (key.startsWith(prefix)) this.directories.delete(key);
      for (const key of [...this.opaque])
        if (key === relative || key.startsWith(prefix)) this.opaque.delete(key);
      this.directories.delete(relative);
    } else {
      fs.unlinkSync(this.absolute(relative));
    }
    this.kinds.delete(relative);
  }

  private setOwner(target: string, header: TarHeader): void {
    if (this.preserveOwnership) fs.lchownSync(target, header.uid, header.gid);
  }

  private setXattrs(target: string, header: TarHeader, kind: NodeKind): void {
    for (const [name, value] of header.xattrs) {
      // Overlay's own attributes are the unpacker's to set (from whiteouts), never the layer's.
      if (name.startsWith('trusted.overlay.')) continue;
      try {
        lsetxattr(target, name, value);
      } catch (error) {
        // Filesystems without xattr support, and user.* on symlinks, which Linux forbids.
        const code = error instanceof SyscallError ? error.code : '';
        if (code === 'ENOTSUP' || code === 'EOPNOTSUPP' || (kind === 'symlink' && code === 'EPERM')) continue;
        throw error;
      }
    }
  }

  async unpack(entry: TarEntry): Promise<void> {
    const { header } = entry;
    this.entries += 1;
    const components = layerPathComponents(header.path, this.label);
    const relative = components.join('/');
    const baseName = components.at(-1) ?? '';

    if (baseName.startsWith(WHITEOUT_PREFIX)) {
      this.whiteout(header.path, components);
      return;
    }
    if (relative === '') {
      if (header.type !== 'directory')
        throw this.refuse(header.path, 'replaces the layer root with a non-directory');
      this.directories.set('', directoryMetadata(header));
      return;
    }

    this.ensureParents(header.path, components);
    const existing = this.kinds.get(relative);
    if (existing !== undefined && !(existing === 'directory' && header.type === 'directory')) {
      if (
        header.type === 'hardlink' &&
        layerPathComponents(header.linkPath, this.label).join('/') === relative
      )
        return;
      this.removeExisting(relative);
    }
    const target = this.absolute(relative);

    switch (header.type) {
      case 'directory':
        if (existing !== 'directory') {
          fs.mkdirSync(target, 0o700);
          this.kinds.set(relative, 'directory');
        }
        this.directories.set(relative, directoryMetadata(header));
        this.setXattrs(target, header, 'directory');
        return;
      case 'file':
        await this.writeFile(entry, target);
        this.kinds.set(relative, 'file');
        return;
      case 'symlink':
        fs.symlinkSync(header.linkPath, target);
        this.kinds.set(relative, 'symlink');
        this.setOwner(target, header);
        this.setXattrs(target, header, 'symlink');
        fs.lutimesSync(target, header.atime ?? header.mtime, header.mtime);
        return;
      case 'hardlink':
        this.hardlink(header, relative, target);
        return;
      case 'char':
      case 'block':
      case 'fifo': {
        const typeBits = header.type === 'char' ? S_IFCHR : header.type === 'block' ? S_IFBLK : S_IFIFO;
        mknod(target, typeBits | 0o600, header.devMajor, header.devMinor);
        this.kinds.set(relative, 'other');
        this.setOwner(target, header);
        // mknod is subject to the umask; the tar's mode is not.
        fs.chmodSync(target, header.mode);
        this.setXattrs(target, header, 'other');
        fs.lutimesSync(target, header.atime ?? header.mtime, header.mtime);
        return;
      }
    }
  }

  private async writeFile(entry: TarEntry, target: string): Promise<void> {
    const { header } = entry;
    const fd = fs.openSync(target, OPEN_FLAGS, 0o600);
    try {
      for await (const chunk of entry.body()) writeAll(fd, chunk);
      // chown clears setuid/setgid and file capabilities, so it goes first.
      if (this.preserveOwnership) fs.fchownSync(fd, header.uid, header.gid);
      fs.fchmodSync(fd, header.mode);
      this.setXattrs(target, header, 'file');
      fs.futimesSync(fd, header.atime ?? header.mtime, header.mtime);
    } finally {
      fs.closeSync(fd);
    }
    this.contentBytes += header.size;
  }

  private hardlink(header: TarHeader, relative: string, target: string): void {
    const linkComponents = layerPathComponents(header.linkPath, this.label);
    const linkRelative = linkComponents.join('/');
    if (linkRelative === '') throw this.refuse(header.path, 'is a hard link to the layer root');
    // Every parent of a path in `kinds` is a directory created here, so this also proves the
    // target is not reached through a symlink.
    const kind = this.kinds.get(linkRelative);
    if (kind === undefined) {
      const parentKind = linkComponents
        .slice(0, -1)
        .map((_, index) => this.kinds.get(linkComponents.slice(0, index + 1).join('/')))
        .find((parent) => parent !== 'directory');
      if (parentKind === 'symlink')
        throw this.refuse(header.path, `is a hard link through a symlink ("${header.linkPath}")`);
      throw this.refuse(
        header.path,
        `is a hard link to "${header.linkPath}", which is not an earlier entry of this layer`,
      );
    }
    if (kind === 'symlink')
      throw this.refuse(header.path, `is a hard link to the symlink "${header.linkPath}"`);
    if (kind === 'directory')
      throw this.refuse(header.path, `is a hard link to the directory "${header.linkPath}"`);
    fs.linkSync(this.absolute(linkRelative), target);
    this.kinds.set(relative, kind);
  }

  private whiteout(entryName: string, components: readonly string[]): void {
    const baseName = components.at(-1) as string;
    const parent = components.slice(0, -1).join('/');
    this.ensureParents(entryName, components);
    if (baseName === OPAQUE_WHITEOUT) {
      this.opaque.add(parent);
      return;
    }
    // Other ".wh..wh." names are AUFS bookkeeping (hard-link directories), meaningless here.
    if (baseName.startsWith(`${WHITEOUT_PREFIX}${WHITEOUT_PREFIX}`)) return;
    const hidden = baseName.slice(WHITEOUT_PREFIX.length);
    if (hidden === '' || hidden === '.' || hidden === '..')
      throw this.refuse(entryName, 'is a whiteout without a name');
    const relative = parent === '' ? hidden : `${parent}/${hidden}`;
    this.removeExisting(relative);
    const target = this.absolute(relative);
    mknod(target, S_IFCHR | 0o600, 0, 0);
    this.kinds.set(relative, 'other');
  }

  /** Directory owners, modes and times go last: creating children would change the times. */
  finish(): void {
    for (const relative of this.opaque) {
      if (this.kinds.get(relative) === 'directory')
        lsetxattr(this.absolute(relative), OVERLAY_OPAQUE_XATTR, Buffer.from('y'));
    }
    if (!this.directories.has('')) fs.chmodSync(this.root, 0o755);
    for (const [relative, metadata] of this.directories) {
      const target = this.absolute(relative);
      if (this.preserveOwnership) fs.lchownSync(target, metadata.uid, metadata.gid);
      fs.chmodSync(target, metadata.mode);
      fs.lutimesSync(target, metadata.atime, metadata.mtime);
    }
  }
}

function directoryMetadata(header: TarHeader): DirectoryMetadata {
  return {
    mode: header.mode,
    uid: header.uid,
    gid: header.gid,
    mtime: header.mtime,
    atime: header.atime ?? header.mtime,
  };
}

/**
 * Unpacks `entries` into `targetDirectory`, which must be an empty directory that nothing else
 * writes to while this runs (the store uses a fresh private temporary directory).
 */
export async function unpackLayer(
  entries: AsyncIterable<TarEntry>,
  targetDirectory: string,
  options: UnpackOptions = {},
): Promise<UnpackResult> {
  const unpacker = new LayerUnpacker(targetDirectory, options);
  // System errors (ENOSPC, EIO) pass through as they are: they name the path and are not the
  // image's fault.
  for await (const entry of entries) await unpacker.unpack(entry);
  unpacker.finish();
  return { entries: unpacker.entries, contentBytes: unpacker.contentBytes };
}
