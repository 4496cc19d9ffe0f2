/**
 * The store's files: one JSON record per image (images/<config hex>.json), one layer.json per
 * unpacked layer, and the lookups that derive what is still referenced from the records alone
 * (there are no separate reference counts to drift out of sync).
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { CorruptStateError, hasCode } from '../errors.js';
import { atomicWriteJson, describeReadError, readRegularFile } from '../fsutil.js';
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
    text = await readRegularFile(file);
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

/** An image record that cannot be used: skipped by listings, removable by image rm and prune. */
export interface DamagedImageRecord {
  /** The image ID its file name says ("sha256:<hex>"). */
  id: string;
  file: string;
  error: Error;
  /**
   * Every digest its text still names: what it used is kept from garbage collection until the
   * record itself is removed (it may be repaired by hand).
   */
  digests: string[];
}

const isString = (value: unknown): value is string => typeof value === 'string';

/** Why a parsed record cannot be used, or undefined when it has every field the store needs. */
function recordProblem(value: unknown, id: string): string | undefined {
  if (typeof value !== 'object' || value === null) return 'it is not a JSON object';
  const record = value as Partial<ImageRecord>;
  if (record.id !== id) return `its id is not ${id}`;
  if (!Array.isArray(record.names) || !record.names.every(isString)) return 'its names are missing';
  if (!isString(record.manifestDigest) || !isString(record.configDigest)) return 'its digests are missing';
  if (
    !Array.isArray(record.layers) ||
    !record.layers.every((layer) => isString(layer?.chainId) && isString(layer?.blobDigest))
  )
    return 'its layers are missing';
  if (!isString(record.created)) return 'its creation time is missing';
  return undefined;
}

/** Every image record, the damaged ones apart (a listing never fails because of one). */
export async function readImageRecords(
  layout: StateLayout,
): Promise<{ records: ImageRecord[]; damaged: DamagedImageRecord[] }> {
  let names: string[];
  try {
    names = await fsp.readdir(layout.images);
  } catch (error) {
    if (hasCode(error, 'ENOENT')) return { records: [], damaged: [] };
    throw error;
  }
  const records: ImageRecord[] = [];
  const damaged: DamagedImageRecord[] = [];
  for (const name of names) {
    const match = RECORD_FILE.exec(name);
    if (!match) continue;
    const id = `sha256:${match[1]}`;
    const file = path.join(layout.images, name);
    let text: string;
    try {
      text = await readRegularFile(file);
    } catch (error) {
      // Removed between readdir and read: it is simply no longer there.
      if (hasCode(error, 'ENOENT')) continue;
      damaged.push({
        id,
        file,
        error: new CorruptStateError(`image record ${file} is damaged: ${describeReadError(error)}`, {
          cause: error,
        }),
        digests: [],
      });
      continue;
    }
    let problem: string | undefined;
    try {
      problem = recordProblem(JSON.parse(text), id);
    } catch (error) {
      problem = (error as Error).message;
    }
    if (problem === undefined) {
      records.push(JSON.parse(text) as ImageRecord);
      continue;
    }
    damaged.push({
      id,
      file,
      error: new CorruptStateError(`image record ${file} is damaged: ${problem}`),
      digests: [...new Set(text.match(/sha256:[0-9a-f]{64}/g) ?? [])],
    });
  }
  return { records, damaged };
}

export async function listImageRecords(layout: StateLayout): Promise<ImageRecord[]> {
  return (await readImageRecords(layout)).records;
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
