/**
 * Writes a container's writable layer as an OCI layer tar: overlay whiteouts (0/0 character
 * devices) become `.wh.NAME` entries, opaque directories get a `.wh..wh..opq` entry, hard links
 * inside the layer stay hard links, and owners, modes, times, device numbers and extended
 * attributes are kept (overlay's own trusted.overlay.* attributes are not content).
 *
 * Which paths go in is decided by walkUpper (diff/upper-walk.ts), so a commit holds exactly what
 * `gantry diff` lists, plus the unchanged parent directories the entries need.
 */
import fs from 'node:fs';
import path from 'node:path';
import { GantryError } from '../../errors.js';
import { lgetxattr, llistxattr } from '../../sys/libc.js';
import { containerOwned, walkUpper, type UpperWalkOptions } from '../diff/upper-walk.js';
import { OPAQUE_WHITEOUT, WHITEOUT_PREFIX } from '../layer/unpack.js';
import type { TarEntryInput, TarWriter } from '../tar/writer.js';

const READ_CHUNK = 1 << 20;

/** Changes a file's content while we read it: reported rather than written half-way. */
export class LayerChangedError extends GantryError {}

export function deviceNumbers(rdev: number): { major: number; minor: number } {
  // glibc's gnu_dev_major/minor over the 64-bit dev_t, without 32-bit truncation.
  const high = Math.floor(rdev / 2 ** 32);
  const low = rdev % 2 ** 32;
  const major = ((low >>> 8) & 0xfff) | ((high & 0xfffff000) >>> 0);
  const minor = (low & 0xff) | ((low >>> 12) & 0xfff00);
  return { major: major >>> 0, minor: minor >>> 0 };
}

/** Extended attributes worth keeping in a layer (everything but overlay's bookkeeping). */
export function readXattrs(file: string): Map<string, Buffer> | undefined {
  let names: string[];
  try {
    names = llistxattr(file);
  } catch {
    return undefined;
  }
  const result = new Map<string, Buffer>();
  for (const name of names.sort()) {
    if (name.startsWith('trusted.overlay.')) continue;
    try {
      const value = lgetxattr(file, name);
      if (value !== undefined) result.set(name, Buffer.from(value));
    } catch {
      // Gone meanwhile, or too large for the fixed buffer: not worth failing a commit over.
    }
  }
  return result.size > 0 ? result : undefined;
}

function relative(imagePath: string): string {
  return imagePath.replace(/^\/+/, '');
}

function common(
  imagePath: string,
  stats: fs.Stats,
  xattrs?: Map<string, Buffer>,
): Omit<TarEntryInput, 'type'> {
  return {
    path: relative(imagePath),
    mode: stats.mode & 0o7777,
    uid: stats.uid,
    gid: stats.gid,
    mtime: Math.floor(stats.mtimeMs / 1000),
    ...(xattrs ? { xattrs } : {}),
  };
}

/** Reads exactly `size` bytes of an open file, in fresh chunks the tar writer may keep. */
async function* readExactly(fd: number, size: number, imagePath: string): AsyncGenerator<Buffer> {
  let position = 0;
  while (position < size) {
    const chunk = Buffer.allocUnsafe(Math.min(READ_CHUNK, size - position));
    const count = fs.readSync(fd, chunk, 0, chunk.length, position);
    if (count === 0) {
      throw new LayerChangedError(`${imagePath} shrank while its layer was being written`, {
        hint: 'pause the container while committing (the default), or try again',
      });
    }
    position += count;
    yield count === chunk.length ? chunk : chunk.subarray(0, count);
  }
}

/**
 * Adds the changes of `upperDirectory` (over `lowerDirectories`, bottom first) to `writer`.
 * Returns the number of entries written.
 */
export async function writeUpperLayer(
  writer: TarWriter,
  upperDirectory: string,
  lowerDirectories: readonly string[],
  options: UpperWalkOptions = {},
): Promise<number> {
  const links = new Map<string, string>();
  let count = 0;
  for (const event of walkUpper(upperDirectory, lowerDirectories, options)) {
    switch (event.type) {
      case 'hidden':
        break;
      case 'whiteout': {
        const parent = path.posix.dirname(event.path);
        await writer.add({
          path: relative(path.posix.join(parent, `${WHITEOUT_PREFIX}${path.posix.basename(event.path)}`)),
          type: 'file',
          mode: 0,
          size: 0,
        });
        count += 1;
        break;
      }
      case 'directory': {
        await writer.add({ ...common(event.path, event.stats, readXattrs(event.file)), type: 'directory' });
        count += 1;
        if (event.opaque) {
          await writer.add({
            path: relative(path.posix.join(event.path, OPAQUE_WHITEOUT)),
            type: 'file',
            mode: 0,
            uid: event.stats.uid,
            gid: event.stats.gid,
            size: 0,
          });
          count += 1;
        }
        break;
      }
      case 'node': {
        const { stats, file } = event;
        if (stats.isSymbolicLink()) {
          let target: string;
          try {
            target = fs.readlinkSync(file);
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code === 'ENOENT') break;
            throw error;
          }
          await writer.add({
            ...common(event.path, stats, readXattrs(file)),
            type: 'symlink',
            linkPath: target,
          });
        } else if (stats.isFile()) {
          const inode = `${stats.dev}:${stats.ino}`;
          const first = stats.nlink > 1 ? links.get(inode) : undefined;
          if (first !== undefined) {
            await writer.add({ ...common(event.path, stats), type: 'hardlink', linkPath: first });
          } else {
            // Opened through its directory's descriptor, and only if it is still a regular file:
            // a container swapping it for a FIFO, a device or a symlink meanwhile gets it skipped.
            const opened = event.directory.openFile(event.name);
            if (!opened) break;
            const { fd } = opened;
            const current = containerOwned(opened.stats, options.idMap);
            try {
              // The size at open time: a running container may still be writing.
              await writer.add(
                { ...common(event.path, current, readXattrs(file)), type: 'file', size: current.size },
                readExactly(fd, current.size, event.path),
              );
            } finally {
              fs.closeSync(fd);
            }
            if (stats.nlink > 1) links.set(inode, relative(event.path));
          }
        } else if (stats.isCharacterDevice() || stats.isBlockDevice()) {
          const { major, minor } = deviceNumbers(stats.rdev);
          await writer.add({
            ...common(event.path, stats, readXattrs(file)),
            type: stats.isCharacterDevice() ? 'char' : 'block',
            devMajor: major,
            devMinor: minor,
          });
        } else if (stats.isFIFO()) {
          await writer.add({ ...common(event.path, stats, readXattrs(file)), type: 'fifo' });
        } else {
          break;
        }
        count += 1;
        break;
      }
    }
  }
  return count;
}
