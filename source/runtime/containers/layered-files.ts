/**
 * Reads a file of a container's filesystem without mounting it: the topmost layer that has the
 * path wins, an overlay whiteout (0/0 character device) hides it, an opaque parent stops the
 * search. Used to resolve users and groups from /etc/passwd and /etc/group before start.
 */
import fs from 'node:fs';
import path from 'node:path';
import { lgetxattr } from '../sys/libc.js';

function isWhiteout(stat: fs.Stats): boolean {
  return stat.isCharacterDevice() && stat.rdev === 0;
}

function isOpaque(directory: string): boolean {
  try {
    return lgetxattr(directory, 'trusted.overlay.opaque')?.toString() === 'y';
  } catch {
    return false;
  }
}

/** `layers` top first (the container's upper directory, then the image's layers top down). */
export function readLayeredFile(layers: readonly string[], file: string): string | undefined {
  const relative = path.posix.normalize(file).replace(/^\/+/, '');
  const parents: string[] = [];
  for (let dir = path.posix.dirname(relative); dir !== '.' && dir !== '/'; dir = path.posix.dirname(dir))
    parents.push(dir);
  for (const layer of layers) {
    const full = path.join(layer, relative);
    let stat: fs.Stats | undefined;
    try {
      stat = fs.lstatSync(full);
    } catch {
      stat = undefined;
    }
    if (stat) {
      if (isWhiteout(stat)) return undefined;
      if (stat.isFile()) return fs.readFileSync(full, 'utf8');
      if (stat.isSymbolicLink()) {
        const target = fs.readlinkSync(full);
        const resolved = target.startsWith('/')
          ? target
          : path.posix.join(path.posix.dirname(relative), target);
        return readLayeredFile(layers, resolved);
      }
      return undefined;
    }
    if (parents.some((parent) => isOpaque(path.join(layer, parent)))) return undefined;
  }
  return undefined;
}
