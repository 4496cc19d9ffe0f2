/**
 * What a container with a user namespace needs of the host's side before it starts. Its init is
 * root only of its own namespace: the host's root-owned, private state directories are closed to
 * it, yet it resolves its own directory (the root it pivots into, the /etc files and the exec
 * fifo it binds and opens). As containers/storage does for podman, the way there is made
 * traversable but not listable: the state root and containers/ get the search bit for others
 * (0711), and the container's directory is searchable by its mapped root's group only (0710).
 * Its writable layer belongs to its root, so what it writes there has the mapped owner on the
 * host.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { StateLayout } from '../paths.js';
import { hostIdOf, parseIdMapping, type IdMapping } from './mappings.js';

/** Container directories of user-namespaced containers: searchable by their root's group. */
export const MAPPED_CONTAINER_DIRECTORY_MODE = 0o710;
/** The state root and containers/: searchable (never listable) by the containers' roots. */
export const TRAVERSABLE_DIRECTORY_MODE = 0o711;

export interface RecordIdMappings {
  /** podman's inspect strings, "CONTAINER:HOST:SIZE". */
  UidMap: string[];
  GidMap: string[];
  /**
   * How the image's files appear owned by the container's root: "idmapped" (idmapped mounts of
   * the layers) or "chowned-copy" (a copy of the layers chowned to the mapping, kept per mapping).
   */
  RootfsMapping?: 'idmapped' | 'chowned-copy';
}

export function mappingsOf(ids: RecordIdMappings): { uid: IdMapping[]; gid: IdMapping[] } {
  return {
    uid: ids.UidMap.map((text) => parseIdMapping(text, 'UidMap')),
    gid: ids.GidMap.map((text) => parseIdMapping(text, 'GidMap')),
  };
}

async function addSearchBits(directory: string): Promise<void> {
  const stats = await fsp.stat(directory);
  if ((stats.mode & 0o011) !== 0o011) await fsp.chmod(directory, (stats.mode & 0o7777) | 0o011);
}

/** Opens the way to the container's directory for its root, and gives it its writable layer. */
export async function prepareMappedContainer(
  layout: StateLayout,
  directory: string,
  ids: RecordIdMappings,
): Promise<{ rootUid: number; rootGid: number }> {
  const { uid, gid } = mappingsOf(ids);
  const rootUid = hostIdOf(uid, 0);
  const rootGid = hostIdOf(gid, 0);
  if (rootUid === undefined || rootGid === undefined)
    throw new Error('the mapping has no container root (id 0): nothing could set the container up');
  await addSearchBits(layout.root);
  await addSearchBits(layout.containers);
  await fsp.chown(directory, 0, rootGid);
  await fsp.chmod(directory, MAPPED_CONTAINER_DIRECTORY_MODE);
  // The root of the container is the upper directory's owner (the overlay shows its attributes).
  const upper = path.join(directory, 'upper');
  const stats = fs.statSync(upper);
  if (stats.uid !== rootUid || stats.gid !== rootGid) await fsp.chown(upper, rootUid, rootGid);
  return { rootUid, rootGid };
}
