/**
 * The build cache: one small record per build step under <root>/build-cache/, named by the step's
 * key. A key is the sha256 of
 *   - the ChainID of the layer stack the step runs on ("" for scratch),
 *   - the image config at that point (Env, WorkingDir, User, ... everything a step can see),
 *     the ARGs in scope with their values, and the SHELL,
 *   - the instruction text after variable substitution,
 *   - for COPY/ADD, the digest of what is copied (names, types, modes, content);
 * so a step is reused exactly when it would run on the same filesystem with the same inputs, and
 * a change invalidates that step and, through the ChainID, everything after it.
 *
 * A record points at the layer the step made; layers belong to images (the store's records), so
 * a record whose layer is gone is ignored and removed by `image prune`. Records are written only
 * after the image that holds their layers is committed: a failed build leaves none.
 */
import { createHash } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { hasCode } from '../../errors.js';
import { atomicWriteJson } from '../../fsutil.js';
import type { StateLayout } from '../../paths.js';
import { digestHex, isSha256Digest } from '../digest.js';
import { layerDiffPath, readLayerRecord } from '../records.js';
import type { ImageHistoryEntry, ImageRuntimeConfig, LayerRecord } from '../types.js';

export interface StepKeyInput {
  parentChainId: string;
  config: ImageRuntimeConfig;
  args: ReadonlyArray<readonly [string, string | undefined]>;
  shell: readonly string[];
  instruction: string;
  contentDigest?: string;
  platform: string;
}

export interface CacheRecord {
  version: 1;
  key: string;
  /** ChainID the step ran on ("" for scratch). */
  parentChainId: string;
  /** The history entry the step made; reusing its time makes a fully cached build reproducible. */
  history: ImageHistoryEntry;
  /** The layer the step made; absent for steps that change only the config. */
  layer?: LayerRecord;
}

/** JSON with object keys sorted, so equal values always hash alike. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([name, item]) => `${JSON.stringify(name)}:${canonical(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function stepKey(input: StepKeyInput): string {
  const args = [...input.args].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `sha256:${createHash('sha256')
    .update(canonical({ v: 1, ...input, args }))
    .digest('hex')}`;
}

export class BuildCache {
  constructor(private readonly layout: StateLayout) {}

  get directory(): string {
    return path.join(this.layout.root, 'build-cache');
  }

  private file(key: string): string {
    return path.join(this.directory, `${digestHex(key)}.json`);
  }

  /** The record for `key` when its layer is still in the store. */
  async lookup(key: string): Promise<CacheRecord | undefined> {
    let record: CacheRecord;
    try {
      record = JSON.parse(await fsp.readFile(this.file(key), 'utf8')) as CacheRecord;
    } catch (error) {
      if (hasCode(error, 'ENOENT') || error instanceof SyntaxError) return undefined;
      throw error;
    }
    if (record.version !== 1 || record.key !== key) return undefined;
    if (record.layer && !(await this.layerPresent(record.layer))) return undefined;
    return record;
  }

  private async layerPresent(layer: LayerRecord): Promise<boolean> {
    if (!isSha256Digest(layer.chainId)) return false;
    const stored = await readLayerRecord(this.layout, layer.chainId).catch(() => undefined);
    if (!stored || stored.diffId !== layer.diffId) return false;
    try {
      await fsp.access(layerDiffPath(this.layout, layer.chainId));
      return true;
    } catch {
      return false;
    }
  }

  async save(records: readonly CacheRecord[]): Promise<void> {
    if (records.length === 0) return;
    await fsp.mkdir(this.directory, { recursive: true, mode: 0o700 });
    for (const record of records) await atomicWriteJson(this.file(record.key), record);
  }

  /** Removes records whose layer, or the layer they ran on, is gone. Returns how many. */
  async prune(): Promise<number> {
    let names: string[];
    try {
      names = await fsp.readdir(this.directory);
    } catch (error) {
      if (hasCode(error, 'ENOENT')) return 0;
      throw error;
    }
    let removed = 0;
    for (const name of names) {
      if (!/^[0-9a-f]{64}\.json$/.test(name)) continue;
      const file = path.join(this.directory, name);
      let record: CacheRecord | undefined;
      try {
        record = JSON.parse(await fsp.readFile(file, 'utf8')) as CacheRecord;
      } catch {
        record = undefined;
      }
      const parentGone =
        record !== undefined &&
        record.parentChainId !== '' &&
        !(await readLayerRecord(this.layout, record.parentChainId).catch(() => undefined));
      const layerGone = record?.layer !== undefined && !(await this.layerPresent(record.layer));
      if (!record || parentGone || layerGone) {
        await fsp.rm(file, { force: true });
        removed += 1;
      }
    }
    return removed;
  }
}
