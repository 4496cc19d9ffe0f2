/**
 * `volume rm` and `volume prune`: under the volumes lock (exclusive), a volume any container
 * uses is refused by name, as docker refuses it; prune takes unused anonymous volumes (docker
 * 23+), or every unused one with `all`.
 */
import type { ContainerStore } from '../containers/store.js';
import { NotFoundError } from '../errors.js';
import { matchesVolumeFilters, type VolumeFilters } from './filters.js';
import { ANONYMOUS_LABEL } from './names.js';
import { volumeInUseError, type VolumeStore } from './store.js';
import { storedVolumeUsers, volumeSize } from './usage.js';

/** Removes one volume; NotFoundError when there is none (`force` makes that a no-op). */
export async function removeVolume(
  store: VolumeStore,
  containers: ContainerStore,
  name: string,
  options: { force?: boolean } = {},
): Promise<boolean> {
  return store.withLock(async () => {
    if (!(await store.find(name).catch(() => ({ Name: name })))) {
      if (options.force) return false;
      throw new NotFoundError(`get ${name}: no such volume`, { hint: 'see `gantry volume ls`' });
    }
    const users = (await storedVolumeUsers(containers)).get(name) ?? [];
    if (users.length > 0) throw volumeInUseError(name, users);
    await store.remove(name);
    return true;
  });
}

export interface PruneResult {
  removed: string[];
  /** Bytes the removed volumes held. */
  reclaimed: number;
}

export async function pruneVolumes(
  store: VolumeStore,
  containers: ContainerStore,
  options: { all?: boolean; filters?: VolumeFilters } = {},
): Promise<PruneResult> {
  return store.withLock(async () => {
    const users = await storedVolumeUsers(containers);
    const result: PruneResult = { removed: [], reclaimed: 0 };
    for (const volume of await store.list()) {
      if ((users.get(volume.Name) ?? []).length > 0) continue;
      if (!options.all && !Object.hasOwn(volume.Labels, ANONYMOUS_LABEL)) continue;
      if (options.filters && !matchesVolumeFilters(volume, false, options.filters)) continue;
      const size = volumeSize(store.dataPath(volume.Name));
      await store.remove(volume.Name);
      result.removed.push(volume.Name);
      result.reclaimed += size;
    }
    return result;
  });
}
