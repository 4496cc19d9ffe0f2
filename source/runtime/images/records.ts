/**
 * The store's files: one JSON record per image (images/<config hex>.json), one layer.json per
 * unpacked layer, and the lookups that derive what is still referenced from the records alone
 * (there are no separate reference counts to drift out of sync).
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { CorruptStateError, hasCode } from '../errors.js';
import { atomicWriteJson } from '../fsutil.js';
import type { StateLayout } from '../paths.js';
import { digestHex, isSha256Digest } from './digest.js';
import type { ImageRecord, LayerRecord } from './types.js';

const RECORD_FILE = /^([0-9a-f]{64})\.json$/;

export function recordPath(layout: StateLayout, imageId: string): string {
  return path.join(layout.images, `${digestHex(imageId)}.json`);
}

export function layerDiffPath(layout: StateLayout, chainId: string): string {
  return path.join(layout.layer(chainId), 'diff');
}

export function layerRecordPath(layout: StateLayout, chainId: string): string {
  return path.join(layout.layer(chainId), 'layer.json');
}

async function readJson<T>(file: string, what: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (error) {
    if (hasCode(error, 'ENOENT')) return undefined;
    throw error;
  }
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new CorruptStateError(`${what} ${file} is damaged: ${(error as Error).message}`, {
      cause: error,
      hint: 'remove the file and import the image again',
    });
  }
}

export async function readImageRecord(
  layout: StateLayout,
  imageId: string,
): Promise<ImageRecord | undefined> {
  return readJson<ImageRecord>(recordPath(layout, imageId), 'image record');
}

export async function writeImageRecord(layout: StateLayout, record: ImageRecord): Promise<void> {
  await atomicWriteJson(recordPath(layout, record.id), record);
}

export async function listImageRecords(layout: StateLayout): Promise<ImageRecord[]> {
  let names: string[];
  try {
    names = await fsp.readdir(layout.images);
  } catch (error) {
    if (hasCode(error, 'ENOENT')) return [];
    throw error;
  }
  const records: ImageRecord[] = [];
  for (const name of names) {
    const match = RECORD_FILE.exec(name);
    if (!match) continue;
    const record = await readImageRecord(layout, `sha256:${match[1]}`);
    // Removed between readdir and read: it is simply no longer there.
    if (record) records.push(record);
  }
  return records;
}

export async function readLayerRecord(
  layout: StateLayout,
  chainId: string,
): Promise<LayerRecord | undefined> {
  return readJson<LayerRecord>(layerRecordPath(layout, chainId), 'layer record');
}

/** Blobs and layers that the given records still need. */
export function referencedBy(records: readonly ImageRecord[]): { blobs: Set<string>; layers: Set<string> } {
  const blobs = new Set<string>();
  const layers = new Set<string>();
  for (const record of records) {
    blobs.add(record.manifestDigest);
    blobs.add(record.configDigest);
    for (const layer of record.layers) {
      blobs.add(layer.blobDigest);
      layers.add(layer.chainId);
    }
  }
  return { blobs, layers };
}

/** Digests of the blobs on disk. */
export async function listBlobDigests(layout: StateLayout): Promise<string[]> {
  try {
    return (await fsp.readdir(path.join(layout.blobs, 'sha256')))
      .map((hex) => `sha256:${hex}`)
      .filter((digest) => isSha256Digest(digest));
  } catch (error) {
    if (hasCode(error, 'ENOENT')) return [];
    throw error;
  }
}

/** ChainIDs of the layer directories on disk. */
export async function listLayerChainIds(layout: StateLayout): Promise<string[]> {
  try {
    return (await fsp.readdir(layout.layers))
      .map((hex) => `sha256:${hex}`)
      .filter((chainId) => isSha256Digest(chainId));
  } catch (error) {
    if (hasCode(error, 'ENOENT')) return [];
    throw error;
  }
}
