/**
 * Who uses which volume, and how much each holds. The users of a volume are the containers
 * (running or not) whose record mounts it: docker's refcount, derived from the records so it
 * cannot drift. Sizes walk the volume through descriptors (a link inside never leads out) and
 * count each inode once, as docker's `system df` does.
 */
import { DirectoryHandle } from '../in-root.js';
import type { ContainerRecord } from '../containers/record.js';
import type { ContainerStore } from '../containers/store.js';
import { ANONYMOUS_LABEL } from './names.js';
import type { VolumeRecord, VolumeStore } from './store.js';

export interface VolumeUser {
  id: string;
  name: string;
}

/** Volume name -> the containers that mount it. */
export function volumeUsers(records: readonly ContainerRecord[]): Map<string, VolumeUser[]> {
  const users = new Map<string, VolumeUser[]>();
  for (const record of records) {
    for (const mount of record.Mounts) {
      if (mount.Type !== 'volume' || !mount.Name) continue;
      const list = users.get(mount.Name) ?? [];
      if (!list.some((user) => user.id === record.Id)) list.push({ id: record.Id, name: record.Name });
      users.set(mount.Name, list);
    }
  }
  return users;
}

/** The users of every volume from the stored container records (damaged ones cannot be read). */
export async function storedVolumeUsers(containers: ContainerStore): Promise<Map<string, VolumeUser[]>> {
  const { records } = await containers.list();
  return volumeUsers(records);
}

/** Bytes of the regular files under a volume's _data, each inode once; 0 when it is gone. */
export function volumeSize(dataPath: string): number {
  let top: DirectoryHandle;
  try {
    top = DirectoryHandle.open(dataPath);
  } catch {
    return 0;
  }
  const seen = new Set<string>();
  let total = 0;
  const walk = (directory: DirectoryHandle): void => {
    for (const name of directory.names()) {
      const stats = directory.lstat(name);
      if (!stats) continue;
      if (stats.isDirectory()) {
        const child = directory.openDirectory(name);
        if (!child) continue;
        try {
          walk(child);
        } finally {
          child.close();
        }
      } else if (stats.isFile()) {
        const key = `${stats.dev}:${stats.ino}`;
        if (seen.has(key)) continue;
        seen.add(key);
        total += stats.size;
      }
    }
  };
  try {
    walk(top);
  } finally {
    top.close();
  }
  return total;
}

export interface VolumeUsage {
  volume: VolumeRecord;
  /** docker's Mountpoint. */
  mountpoint: string;
  /** Bytes held (docker's UsageData.Size). */
  size: number;
  /** Containers that use it (docker's UsageData.RefCount). */
  refCount: number;
  users: VolumeUser[];
  anonymous: boolean;
}

/**
 * Every volume with its size and users: the volume rows of `system df` (docker's Volumes of
 * /system/df: Name, Driver, Mountpoint, UsageData.Size, UsageData.RefCount), and what
 * `volume ls --format {{.Size}}` shows. Reads only; takes no lock.
 */
export async function volumeUsage(store: VolumeStore, containers: ContainerStore): Promise<VolumeUsage[]> {
  const users = await storedVolumeUsers(containers);
  return (await store.list()).map((volume) => {
    const list = users.get(volume.Name) ?? [];
    return {
      volume,
      mountpoint: store.dataPath(volume.Name),
      size: volumeSize(store.dataPath(volume.Name)),
      refCount: list.length,
      users: list,
      anonymous: Object.hasOwn(volume.Labels, ANONYMOUS_LABEL),
    };
  });
}
