/**
 * `system df`: what images, containers, volumes and the build cache take on disk, how much of it
 * is in use and how much a prune would free, measured on the store (each layer and each inode
 * once; links the containers made are never followed).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Engine } from '../containers/engine.js';
import { isStopped, writableLayerSize } from '../containers/prune.js';
import type { ContainerRecord } from '../containers/record.js';
import type { ImageRecord } from '../images/types.js';
import { storedVolumeUsers, volumeSize } from '../volumes/usage.js';

export interface UsageRow {
  Type: 'Images' | 'Containers' | 'Local Volumes' | 'Build Cache';
  TotalCount: number;
  Active: number;
  /** Bytes. */
  Size: number;
  /** Bytes a prune of the unused ones would free. */
  Reclaimable: number;
}

export interface DiskUsage {
  rows: UsageRow[];
  images: ImageRecord[];
  containers: Array<{ record: ContainerRecord; size: number }>;
  volumes: Array<{ name: string; links: number; size: number }>;
  /** Build cache records (their layers belong to images and are counted there). */
  cache: Array<{ id: string; size: number; created: string }>;
}

function cacheEntries(root: string): DiskUsage['cache'] {
  const directory = path.join(root, 'build-cache');
  let names: string[];
  try {
    names = fs.readdirSync(directory);
  } catch {
    return [];
  }
  return names
    .filter((name) => /^[0-9a-f]{64}\.json$/.test(name))
    .map((name) => {
      const stats = fs.statSync(path.join(directory, name));
      return { id: name.slice(0, -'.json'.length), size: stats.size, created: stats.mtime.toISOString() };
    });
}

export async function diskUsage(engine: Engine): Promise<DiskUsage> {
  const images = await engine.images.list();
  const { records } = await engine.list({ all: true });
  const usedImages = new Set(records.map((record) => record.Image));
  const layerSize = (list: readonly ImageRecord[]): number => {
    const layers = new Map<string, number>();
    for (const image of list) for (const layer of image.layers) layers.set(layer.chainId, layer.size);
    return [...layers.values()].reduce((sum, size) => sum + size, 0);
  };
  const imageBytes = layerSize(images);
  const activeImages = images.filter((image) => usedImages.has(image.id));

  const containers = records.map((record) => ({ record, size: writableLayerSize(engine, record) }));
  const containerBytes = containers.reduce((sum, entry) => sum + entry.size, 0);
  const stopped = containers.filter((entry) => isStopped(entry.record));

  const users = await storedVolumeUsers(engine.containers);
  const volumes = (await engine.volumes.list()).map((volume) => ({
    name: volume.Name,
    links: (users.get(volume.Name) ?? []).length,
    size: volumeSize(engine.volumes.dataPath(volume.Name)),
  }));
  const cache = cacheEntries(engine.layout.root);

  return {
    rows: [
      {
        Type: 'Images',
        TotalCount: images.length,
        Active: activeImages.length,
        Size: imageBytes,
        Reclaimable: imageBytes - layerSize(activeImages),
      },
      {
        Type: 'Containers',
        TotalCount: containers.length,
        Active: containers.length - stopped.length,
        Size: containerBytes,
        Reclaimable: stopped.reduce((sum, entry) => sum + entry.size, 0),
      },
      {
        Type: 'Local Volumes',
        TotalCount: volumes.length,
        Active: volumes.filter((volume) => volume.links > 0).length,
        Size: volumes.reduce((sum, volume) => sum + volume.size, 0),
        Reclaimable: volumes
          .filter((volume) => volume.links === 0)
          .reduce((sum, volume) => sum + volume.size, 0),
      },
      {
        Type: 'Build Cache',
        TotalCount: cache.length,
        Active: 0,
        Size: cache.reduce((sum, entry) => sum + entry.size, 0),
        Reclaimable: 0,
      },
    ],
    images,
    containers,
    volumes,
    cache,
  };
}
