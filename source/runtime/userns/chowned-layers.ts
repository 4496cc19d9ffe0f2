/**
 * The fallback where the layers' filesystem refuses idmapped mounts: a copy of each image layer
 * whose owners are shifted to the container's mapping, made once per mapping and shared by every
 * container with that mapping (<root>/userns/layers/<key>/), removed with its last user. Users
 * are marker files named by container id; one whose container directory is gone (a kill -9
 * between start and rm) is dropped by the next acquire or release, and so is a half-made copy,
 * so nothing stays behind for long.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { GantryError, hasCode, InvalidArgumentError } from '../errors.js';
import { helperPath } from '../init/helper.js';
import { PRIVATE_DIRECTORY_MODE } from '../state-permissions.js';
import { withUsernsLock } from './allocations.js';
import type { RecordIdMappings } from './container-root.js';
import { mappingsOf } from './container-root.js';
import { hostIdOf, type IdMapping } from './mappings.js';

const run = promisify(execFile);

/** How the image's files appear owned by the container's root (inspect's RootfsMapping). */
export type RootfsMapping = 'idmapped' | 'chowned-copy';

/** A copy of a layer could not be made. */
export class ChownedCopyError extends GantryError {}

/** Where an id of the image has no place in the mapping: the kernel's overflow id, as podman. */
const OVERFLOW_ID = 65534;

function layersDirectory(root: string): string {
  return path.join(root, 'userns', 'layers');
}

function mappingKey(ids: RecordIdMappings): string {
  return createHash('sha256')
    .update(JSON.stringify([ids.UidMap, ids.GidMap]))
    .digest('hex')
    .slice(0, 24);
}

/** A layer's name in the cache: its chain id directory (<layers>/<chain>/diff), else a hash. */
function copyName(layer: string): string {
  const parent = path.basename(path.dirname(layer));
  return /^[0-9a-f]{16,128}$/.test(parent)
    ? parent
    : createHash('sha256').update(layer).digest('hex').slice(0, 32);
}

/**
 * GANTRY_USERNS_ROOTFS=idmapped|chowned-copy forces one way (tests, or a filesystem the probe
 * misjudges); otherwise the helper tries an idmapped clone of `layer` as the monitor would.
 */
export async function chooseRootfsMapping(layer: string | undefined): Promise<RootfsMapping> {
  const forced = process.env.GANTRY_USERNS_ROOTFS;
  if (forced === 'idmapped' || forced === 'chowned-copy') return forced;
  if (forced !== undefined && forced !== '' && forced !== 'auto') {
    throw new InvalidArgumentError(
      `GANTRY_USERNS_ROOTFS=${JSON.stringify(forced)}: expected idmapped, chowned-copy or auto`,
      { hint: 'unset it to let gantry probe the filesystem of the layers' },
    );
  }
  if (layer === undefined) return 'idmapped';
  try {
    await run(helperPath(), ['idmap-probe', layer]);
    return 'idmapped';
  } catch {
    return 'chowned-copy';
  }
}

/** Shifts every owner under `tree` from container ids to host ids (each inode once). */
async function shiftOwners(
  tree: string,
  uid: readonly IdMapping[],
  gid: readonly IdMapping[],
): Promise<void> {
  const seen = new Set<string>();
  const pending = [tree];
  while (pending.length > 0) {
    const current = pending.pop()!;
    const stats = await fsp.lstat(current);
    const inode = `${stats.dev}:${stats.ino}`;
    if (stats.isDirectory()) {
      for (const name of await fsp.readdir(current)) pending.push(path.join(current, name));
    }
    // A hard link is the same inode: shifting it twice would shift it out of the range.
    if (seen.has(inode)) continue;
    seen.add(inode);
    const hostUid = hostIdOf(uid, stats.uid) ?? OVERFLOW_ID;
    const hostGid = hostIdOf(gid, stats.gid) ?? OVERFLOW_ID;
    await fsp.lchown(current, hostUid, hostGid);
    // chown clears set-user-ID and set-group-ID on files: the copy keeps the image's mode.
    if (!stats.isSymbolicLink() && (stats.mode & 0o6000) !== 0) await fsp.chmod(current, stats.mode & 0o7777);
  }
}

function userAlive(containersDirectory: string, id: string): boolean {
  return fs.existsSync(path.join(containersDirectory, id));
}

/** Drops users whose container is gone, half-made copies, and mappings nobody uses. */
async function sweep(root: string, containersDirectory: string, leaving?: string): Promise<void> {
  let keys: string[];
  try {
    keys = await fsp.readdir(layersDirectory(root));
  } catch (error) {
    if (hasCode(error, 'ENOENT')) return;
    throw error;
  }
  for (const key of keys) {
    const directory = path.join(layersDirectory(root), key);
    const usersDirectory = path.join(directory, 'users');
    let users: string[] = [];
    try {
      users = await fsp.readdir(usersDirectory);
    } catch (error) {
      if (!hasCode(error, 'ENOENT')) throw error;
    }
    for (const user of users) {
      if (user === leaving || !userAlive(containersDirectory, user))
        await fsp.rm(path.join(usersDirectory, user), { force: true });
    }
    const left = users.filter((user) => user !== leaving && userAlive(containersDirectory, user));
    if (left.length === 0) {
      await fsp.rm(directory, { recursive: true, force: true });
      continue;
    }
    for (const name of await fsp.readdir(directory)) {
      if (name.includes('.partial'))
        await fsp.rm(path.join(directory, name), { recursive: true, force: true });
    }
  }
}

/**
 * The chowned copies of `layers` for container `id` with mapping `ids` (made where missing),
 * in the same order. The container is their user until releaseChownedLayers.
 */
export async function acquireChownedLayers(
  root: string,
  containersDirectory: string,
  id: string,
  ids: RecordIdMappings,
  layers: readonly string[],
): Promise<string[]> {
  const { uid, gid } = mappingsOf(ids);
  const directory = path.join(layersDirectory(root), mappingKey(ids));
  return withUsernsLock(root, async () => {
    await sweep(root, containersDirectory);
    await fsp.mkdir(path.join(directory, 'users'), { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
    // The user first: a sweep never takes the directory away under a copy being made.
    await fsp.writeFile(path.join(directory, 'users', id), '');
    // The overlay's lowers are reached by the host's root only; the container's root needs no way in.
    await fsp.chmod(directory, PRIVATE_DIRECTORY_MODE);
    const copies: string[] = [];
    for (const layer of layers) {
      const copy = path.join(directory, copyName(layer));
      if (!fs.existsSync(copy)) {
        const partial = `${copy}.partial`;
        await fsp.rm(partial, { recursive: true, force: true });
        try {
          // cp -a keeps what the overlay needs: whiteout devices, opaque xattrs, hard links.
          await run('cp', ['-a', '--reflink=auto', '--no-target-directory', layer, partial]);
          await shiftOwners(partial, uid, gid);
          await fsp.rename(partial, copy);
        } catch (error) {
          await fsp.rm(partial, { recursive: true, force: true }).catch(() => undefined);
          throw new ChownedCopyError(`could not make the chowned copy of layer ${layer}: ${String(error)}`, {
            cause: error,
            hint: 'check free space under the state root; GANTRY_USERNS_ROOTFS=idmapped uses idmapped mounts instead where the filesystem takes them',
          });
        }
      }
      copies.push(copy);
    }
    return copies;
  });
}

/** The container no longer uses its copies; the last user's removal removes them. */
export async function releaseChownedLayers(
  root: string,
  containersDirectory: string,
  id: string,
): Promise<void> {
  if (!fs.existsSync(layersDirectory(root))) return;
  await withUsernsLock(root, () => sweep(root, containersDirectory, id));
}

/** The mappings that have chowned copies now (for tests and diagnostics). */
export async function chownedMappings(root: string): Promise<string[]> {
  try {
    return await fsp.readdir(layersDirectory(root));
  } catch (error) {
    if (hasCode(error, 'ENOENT')) return [];
    throw error;
  }
}
