/**
 * Keeps what is under the state root private to root, whatever mode the root had before: an
 * unpacked layer holds the image's setuid binaries (a local user who can reach
 * layers/<id>/diff/bin/su runs it as root), and a container's config.json and state.json hold its
 * environment. Directories become 0700 and files 0600, as podman keeps its storage. Checked on
 * every start of the engine, not only when the root is made, so a root made by an older gantry or
 * loosened by hand is fixed the next time anything runs.
 *
 * The root itself is left as it is (it may be any directory the administrator chose, even a
 * shared one); what is in it is reached only through its entries, which are all made private.
 * Inside layers/, only each layer's own directory is closed: its diff/ keeps the image's mode,
 * which is the mode of `/` in a container.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { StateLayout } from './paths.js';

export const PRIVATE_DIRECTORY_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;
/** Files of a container directory that hold what the user gave (env values). */
const CONTAINER_FILES = ['config.json', 'state.json'];

function entries(directory: string): string[] {
  try {
    return fs.readdirSync(directory);
  } catch {
    return [];
  }
}

/**
 * Takes group and other permissions away (never adds any) but the `kept` bits; symlinks are left
 * alone.
 */
function makePrivate(file: string, kept: (stats: fs.Stats) => number = () => 0): void {
  let stats: fs.Stats;
  try {
    stats = fs.lstatSync(file);
  } catch {
    return; // gone meanwhile (a concurrent rm), or never made
  }
  const allowed = kept(stats);
  if ((stats.mode & 0o077 & ~allowed) === 0 || stats.isSymbolicLink()) return;
  const mode = (stats.isDirectory() ? PRIVATE_DIRECTORY_MODE : PRIVATE_FILE_MODE) | (stats.mode & allowed);
  try {
    fs.chmodSync(file, mode);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // EPERM: not ours to fix (gantry not run as root, which cannot start containers anyway).
    if (code !== 'ENOENT' && code !== 'EPERM') throw error;
  }
}

/**
 * Makes every entry of the state root, every layer directory, every container directory and
 * the files of a container that hold its configuration private to root. Costs one lstat per
 * layer and three per container when nothing needs fixing.
 */
export function securePermissions(layout: StateLayout): void {
  // A container's directory may be searchable by its mapped root's group, and containers/
  // searchable (never listable) while such a container exists: the way a user-namespaced
  // container's init reaches its own directory (userns/container-root.ts).
  let mapped = false;
  for (const name of entries(layout.containers)) {
    const directory = path.join(layout.containers, name);
    makePrivate(directory, (stats) => {
      if (stats.gid === 0) return 0;
      mapped = true;
      return 0o010;
    });
    for (const file of CONTAINER_FILES) makePrivate(path.join(directory, file));
  }
  const containers = path.basename(layout.containers);
  for (const name of entries(layout.root))
    makePrivate(path.join(layout.root, name), () => (mapped && name === containers ? 0o011 : 0));
  for (const name of entries(layout.layers)) makePrivate(path.join(layout.layers, name));
}
