/**
 * The host's device nodes, as `--privileged` hands them to a container (docker's HostDevices):
 * every character and block device under /dev, with its mode and owner, except what the
 * container gets of its own (its /dev/pts and /dev/ptmx, /dev/shm, /dev/mqueue, /dev/fd) and the
 * host's console.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_DEV_SYMLINKS } from '../spec/defaults.js';
import type { OciDevice } from '../spec/types.js';

/** Directories of /dev that are the container's own mounts or runtime state, never copied. */
const SKIPPED_DIRECTORIES = new Set(['pts', 'shm', 'fd', 'mqueue', '.lxc', '.lxd-mounts', '.udev']);

/**
 * Paths the container makes itself: the host's /dev/ptmx would allocate terminals in the host's
 * devpts instance, and /dev/console is the host's own terminal.
 */
const SKIPPED_PATHS = new Set(['/dev/console', ...DEFAULT_DEV_SYMLINKS.map((link) => link.path)]);

/** Device nodes under `devRoot` (the host's /dev), with paths as the container sees them. */
export function hostDevices(devRoot = '/dev'): OciDevice[] {
  const found: OciDevice[] = [];
  const walk = (directory: string, inContainer: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(directory, { withFileTypes: true });
    } catch {
      return; // gone meanwhile, or not readable: udev changes /dev while we look
    }
    for (const entry of entries) {
      const hostPath = path.join(directory, entry.name);
      const containerPath = path.posix.join(inContainer, entry.name);
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRECTORIES.has(entry.name)) walk(hostPath, containerPath);
        continue;
      }
      // Symbolic links are left out (they point at nodes that are listed themselves).
      if ((!entry.isCharacterDevice() && !entry.isBlockDevice()) || SKIPPED_PATHS.has(containerPath))
        continue;
      let stats: fs.BigIntStats;
      try {
        stats = fs.lstatSync(hostPath, { bigint: true });
      } catch {
        continue;
      }
      found.push({
        type: stats.isBlockDevice() ? 'b' : 'c',
        path: containerPath,
        // glibc's major() and minor() of a dev_t.
        major: Number(((stats.rdev >> 8n) & 0xfffn) | ((stats.rdev >> 32n) & 0xfffff000n)),
        minor: Number((stats.rdev & 0xffn) | ((stats.rdev >> 12n) & 0xffffff00n)),
        fileMode: Number(stats.mode & 0o7777n),
        uid: Number(stats.uid),
        gid: Number(stats.gid),
      });
    }
  };
  walk(devRoot, '/dev');
  return found.sort((a, b) => a.path.localeCompare(b.path));
}
