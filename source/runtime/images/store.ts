/**
 * The image store: content-addressed blobs (blobs/sha256/<hex>), unpacked layers keyed by ChainID
 * (layers/<hex>/{diff,layer.json}, one copy shared by every image that has the layer) and one
 * record per image (images/<config hex>.json).
 *
 * Consistency rules:
 * - Everything an import produces is built and verified in a private work directory first.
 *   It becomes visible in one short critical section under images.lock: renames into place,
 *   then the record. A failed import therefore leaves nothing; a killed one leaves a work
 *   directory that the next store operation sweeps (see work-directory.ts).
 * - Blobs and layers are only added or removed under the lock, and what is referenced is derived
 *   from the records. A marker file spans each commit; if a process dies mid-commit the next one
 *   collects whatever no record references.
 * - Durability: one syncfs(2) after unpacking instead of an fsync per file (thousands of files
 *   per layer), then the renames and fsynced directory entries and records.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { ConflictError, CorruptStateError, hasCode, InvalidArgumentError, NotFoundError } from '../errors.js';
import { atomicWriteFile, exists, syncDirectory, syncFilesystem, withLock } from '../fsutil.js';
import type { Journal, JournalEntry, JournalOperation } from '../journal.js';
import type { StateLayout } from '../paths.js';
import { PRIVATE_DIRECTORY_MODE } from '../state-permissions.js';
import { trace } from '../trace.js';
import { digestHex, sha256Digest, shortId } from './digest.js';
import type { FromHostOptions } from './from-host.js';
import type { ImageCandidate } from './import/candidate.js';
import type { Platform } from './import/platform.js';
// The import machinery (tar, gzip, zstd, unpacking) is loaded when an import runs, not by every
// command that only reads the store.
import type { ImportState } from './import/prepare.js';
import {
  layerDiffPath,
  layerRecordPath,
  listBlobDigests,
  readImageRecords,
  type DamagedImageRecord,
  listLayerChainIds,
  readLayerRecord,
  recordPath,
  referencedBy,
  writeImageRecord,
} from './records.js';
import { formatReference, parseImageName, parseReference } from './reference.js';
import type { ImageRecord, OciImageConfig, ResolvedImage } from './types.js';
import { sweepStaleWorkDirectories, WorkDirectory } from './work-directory.js';
import type { StagedLayer } from './commit/stage-layer.js';
import { ociManifestBytes } from './media-types.js';
import type { LayerRecord } from './types.js';

export interface ImageStoreOptions {
  /** The names of the containers that use the image; remove() refuses such images unless forced. */
  imageUsers?: (imageId: string) => Promise<string[]>;
  /** Flush imported content to disk before it becomes visible (default true). */
  durable?: boolean;
  /** Platform to pick from multi-platform indexes (default: this host). */
  platform?: Platform;
  /**
   * Where removals and imports are recorded while under way, so the next gantry command
   * collects what a killed one left (the engine's journal).
   */
  journal?: Journal;
  /** Receives warnings: a damaged image record that listings skip. */
  warn?: (message: string) => void;
}

export interface ImportOptions {
  /** Name for the imported image; wins over the names in the archive. */
  name?: string;
  /**
   * When the image was made, for an image new to the store (from-host keeps its config's time
   * fixed so that its digest is reproducible, but `image ls` should say when it was made).
   */
  created?: string;
}

export interface RemoveOptions {
  /**
   * Remove an image that has several names by its ID, and untag an image a container uses (its
   * content stays until the container is gone, as with docker rmi -f).
   */
  force?: boolean;
  /** Remove an image with several names by its ID (all of them go), still refusing one in use. */
  allNames?: boolean;
}

export interface RemoveResult {
  /** Names taken off. */
  untagged: string[];
  /** ID of the deleted image, when the image itself went away. */
  deleted: string | undefined;
  /** ChainIDs of the layers freed. */
  removedLayers: string[];
  /** Digests of the blobs freed. */
  removedBlobs: string[];
}

const COMMIT_MARKER = '.commit-in-progress';
const MAX_COMMIT_ATTEMPTS = 4;

function findByName(records: readonly ImageRecord[], name: string): ImageRecord | undefined {
  return records.find((record) => record.names.includes(name));
}

/** What `addImage` stores: a new image on layers the store has or that are staged in `work`. */
export interface NewImage {
  config: OciImageConfig;
  /** Every layer, bottom first; each is in the store already or in `staged`. */
  layers: LayerRecord[];
  /** Layers made for this image (stage-layer.ts), by ChainID. */
  staged: ReadonlyMap<string, StagedLayer>;
  /** Names to give the image (taken off any image that had them). */
  names?: string[];
}

export interface PruneResult {
  /** Images removed, with the names they had. */
  deleted: Array<{ id: string; names: string[] }>;
  /** ChainIDs of the layers freed. */
  removedLayers: string[];
  /** Digests of the blobs freed. */
  removedBlobs: string[];
  /** Bytes freed on disk: unpacked layer content plus blob files. */
  reclaimedBytes: number;
}

export class ImageStore {
  private readonly imageUsers: (imageId: string) => Promise<string[]>;
  private readonly durable: boolean;
  private readonly platform: Platform | undefined;
  private readonly journal: Journal | undefined;

  constructor(
    readonly layout: StateLayout,
    options: ImageStoreOptions = {},
  ) {
    this.imageUsers = options.imageUsers ?? (async () => []);
    this.durable = options.durable ?? true;
    this.platform = options.platform;
    this.journal = options.journal;
    this.warn = options.warn;
  }

  private readonly warn: ((message: string) => void) | undefined;

  /** The records, each damaged one skipped with a warning that names its file and the remedy. */
  private async readRecords(): Promise<{ records: ImageRecord[]; damaged: DamagedImageRecord[] }> {
    const read = await readImageRecords(this.layout);
    for (const bad of read.damaged) {
      this.warn?.(
        `skipping image ${shortId(bad.id)}: ${bad.error.message}; remove it with \`gantry image rm ${shortId(bad.id)}\` (or \`gantry image prune\`)`,
      );
    }
    return read;
  }

  private async records(): Promise<ImageRecord[]> {
    return (await this.readRecords()).records;
  }

  /** A journal entry for an operation made of store calls (a pull); end() it when done. */
  journalEntry(operation: JournalOperation): JournalEntry | undefined {
    return this.journal?.begin(operation);
  }

  /**
   * Runs a long operation recorded in the journal (when the store has one), so that what a kill
   * leaves half-done is collected by the next command. Removals go ahead on a disk too full
   * even for the record: they are what frees it.
   */
  async recorded<T>(operation: JournalOperation, action: () => Promise<T>): Promise<T> {
    const entry = this.journal?.begin(operation, '-', { optional: operation === 'image-rm' });
    try {
      return await action();
    } finally {
      entry?.end();
    }
  }

  private get lockFile(): string {
    return path.join(this.layout.locks, 'images.lock');
  }

  /** Runs `action` under the store lock, shared: records, layers and blobs do not change meanwhile. */
  async withSharedLock<T>(action: () => Promise<T>): Promise<T> {
    return withLock(this.lockFile, action, { shared: true });
  }

  private async withExclusiveLock<T>(action: () => Promise<T>): Promise<T> {
    return withLock(this.lockFile, async () => {
      await this.recoverInterruptedCommit();
      return action();
    });
  }

  /** A private temporary directory that is removed when disposed (or swept if its owner dies). */
  async createWorkDirectory(kind: string): Promise<WorkDirectory> {
    // What a killed commit, build or export left is cleared by the next one that needs room.
    await sweepStaleWorkDirectories(this.layout).catch(() => 0);
    return WorkDirectory.create(this.layout, kind);
  }

  // ---------------------------------------------------------------- queries

  /** All images, newest first. */
  async list(): Promise<ImageRecord[]> {
    const records = await this.records();
    return records.sort((a, b) => b.created.localeCompare(a.created) || a.id.localeCompare(b.id));
  }

  /**
   * Finds an image by name[:tag], name@digest, full ID ("sha256:<hex>" or "<hex>") or a unique
   * ID prefix of at least 4 hex digits.
   */
  async resolve(reference: string): Promise<ImageRecord> {
    return (await this.find(reference, await this.records())).record;
  }

  private async find(
    reference: string,
    records: readonly ImageRecord[],
  ): Promise<{ record: ImageRecord; matchedName: string | undefined }> {
    const notFound = (): NotFoundError =>
      new NotFoundError(`image "${reference}" not found`, { hint: 'list the images with "gantry image ls"' });
    const idMatch = /^(sha256:)?([0-9a-f]{4,64})$/.exec(reference);
    if (idMatch) {
      const hex = idMatch[2] as string;
      // A bare hex string may also be a name ("cafe"); a name match wins, as in docker.
      if (!idMatch[1] && hex.length < 64) {
        const named = findByName(records, `${hex}:latest`);
        if (named) return { record: named, matchedName: `${hex}:latest` };
      }
      const matches = records.filter((record) => digestHex(record.id).startsWith(hex));
      if (matches.length === 1) return { record: matches[0] as ImageRecord, matchedName: undefined };
      if (matches.length > 1) {
        throw new InvalidArgumentError(
          `image ID prefix "${reference}" is ambiguous: it matches ${matches.length} images`,
          {
            hint: `give more digits: ${matches.map((record) => shortId(record.id)).join(', ')}`,
          },
        );
      }
      if (idMatch[1]) throw notFound();
    }
    const parsed = parseReference(reference);
    if (parsed.digest !== undefined) {
      const pulledAs = (record: ImageRecord) =>
        (record.digests ?? []).filter((entry) => entry.endsWith(`@${parsed.digest}`));
      const byDigest = records.filter(
        (record) =>
          record.manifestDigest === parsed.digest ||
          record.id === parsed.digest ||
          pulledAs(record).length > 0,
      );
      const sameRepository = byDigest.find(
        (record) =>
          record.names.some((name) => parseReference(name).name === parsed.name) ||
          pulledAs(record).some((entry) => entry === `${parsed.name}@${parsed.digest}`),
      );
      const record = sameRepository ?? byDigest[0];
      if (!record) throw notFound();
      return { record, matchedName: undefined };
    }
    const name = formatReference({ ...parsed, tag: parsed.tag ?? 'latest' });
    const record = findByName(records, name);
    if (!record) throw notFound();
    return { record, matchedName: name };
  }

  /** The image's config, read from its blob and checked against its digest. */
  async readConfig(record: ImageRecord): Promise<OciImageConfig> {
    const file = this.layout.blob(record.configDigest);
    let bytes: Buffer;
    try {
      bytes = await fsp.readFile(file);
    } catch (error) {
      if (!hasCode(error, 'ENOENT')) throw error;
      throw new CorruptStateError(
        `image ${shortId(record.id)}: its config blob ${record.configDigest} is missing`,
        {
          hint: 'remove the image and import it again',
        },
      );
    }
    if (sha256Digest(bytes) !== record.configDigest) {
      throw new CorruptStateError(`image ${shortId(record.id)}: its config blob ${file} is damaged`, {
        hint: 'remove the image and import it again',
      });
    }
    return JSON.parse(bytes.toString('utf8')) as OciImageConfig;
  }

  /**
   * What a container needs: the config and the unpacked layer directories, bottom first. To keep
   * the image from being removed before the container is recorded, call this inside
   * withSharedLock() together with writing the container's record.
   */
  async resolveForRun(reference: string): Promise<ResolvedImage> {
    const record = await this.resolve(reference);
    const config = await this.readConfig(record);
    const layerDirs = record.layers.map((layer) => layerDiffPath(this.layout, layer.chainId));
    for (const [index, directory] of layerDirs.entries()) {
      if (!(await exists(directory))) {
        throw new CorruptStateError(
          `image ${shortId(record.id)}: layer ${index + 1} (${record.layers[index]?.chainId}) is missing from ${this.layout.layers}`,
          { hint: 'remove the image and import it again' },
        );
      }
    }
    return { record, config, layerDirs };
  }

  // ---------------------------------------------------------------- names

  /** Gives the image `reference` the name `newName` (taking it from any image that had it). */
  async tag(reference: string, newName: string): Promise<ImageRecord> {
    const name = parseImageName(newName);
    return this.withExclusiveLock(async () => {
      const records = await this.records();
      const { record } = await this.find(reference, records);
      await this.assignNames(records, record, [name]);
      return record;
    });
  }

  /** Records that a registry holds the image `id` as `entry` ("repository@sha256:…"), after a push. */
  async addRepoDigest(id: string, entry: string): Promise<void> {
    await this.withExclusiveLock(async () => {
      const { records } = await readImageRecords(this.layout);
      const record = records.find((candidate) => candidate.id === id);
      // Removed meanwhile: nothing left to say it about.
      if (record) await this.assignNames(records, record, [], [entry]);
    });
  }

  /** Adds `names` to `target` and takes them off every other record. Writes what changed. */
  private async assignNames(
    records: readonly ImageRecord[],
    target: ImageRecord,
    names: readonly string[],
    digests: readonly string[] = [],
  ): Promise<void> {
    for (const other of records) {
      if (other.id === target.id) continue;
      // A name, or an index digest pulled for another platform, moves to the newest image.
      const kept = other.names.filter((name) => !names.includes(name));
      const keptDigests = other.digests?.filter((entry) => !digests.includes(entry));
      if (kept.length !== other.names.length || keptDigests?.length !== other.digests?.length) {
        other.names = kept;
        if (keptDigests && keptDigests.length > 0) other.digests = keptDigests;
        else delete other.digests;
        await writeImageRecord(this.layout, other);
      }
    }
    const merged = [...new Set([...target.names, ...names])];
    const mergedDigests = [...new Set([...(target.digests ?? []), ...digests])];
    if (
      merged.length !== target.names.length ||
      mergedDigests.length !== (target.digests ?? []).length ||
      !(await exists(recordPath(this.layout, target.id)))
    ) {
      target.names = merged;
      if (mergedDigests.length > 0) target.digests = mergedDigests;
      else delete target.digests;
      await writeImageRecord(this.layout, target);
    }
  }

  // ---------------------------------------------------------------- removal

  /**
   * Removes a name; the image goes when no name is left (or when it is named by ID), and with
   * it every layer and blob no other image uses.
   */
  async remove(reference: string, options: RemoveOptions = {}): Promise<RemoveResult> {
    return this.recorded('image-rm', () => this.removeRecorded(reference, options));
  }

  private async removeRecorded(reference: string, options: RemoveOptions): Promise<RemoveResult> {
    await sweepStaleWorkDirectories(this.layout);
    const trash = await this.createWorkDirectory('trash');
    try {
      return await this.withExclusiveLock(async () => {
        const { records, damaged } = await readImageRecords(this.layout);
        let found: { record: ImageRecord; matchedName: string | undefined };
        try {
          found = await this.find(reference, records);
        } catch (error) {
          const bad = error instanceof NotFoundError ? damagedMatching(reference, damaged) : undefined;
          if (!bad) throw error;
          return await this.removeDamaged(bad, records, trash);
        }
        const { record, matchedName } = found;
        const result: RemoveResult = {
          untagged: [],
          deleted: undefined,
          removedLayers: [],
          removedBlobs: [],
        };
        if (matchedName !== undefined && record.names.length > 1) {
          record.names = record.names.filter((name) => name !== matchedName);
          await writeImageRecord(this.layout, record);
          result.untagged.push(matchedName);
          return result;
        }
        if (matchedName === undefined && record.names.length > 1 && !options.force && !options.allNames) {
          throw new ConflictError(
            `image ${shortId(record.id)} has several names (${record.names.join(', ')}); refusing to remove it by ID`,
            { hint: 'remove the names one by one, or use -f' },
          );
        }
        const users = await this.imageUsers(record.id);
        if (users.length > 0) {
          if (!options.force) {
            throw new ConflictError(
              `image ${/^(sha256:)?[0-9a-f]{13,}$/.test(reference) ? shortId(record.id) : `"${reference}" (${shortId(record.id)})`} is used by ${users.length === 1 ? 'container' : 'containers'} ${users.join(', ')}`,
              { hint: 'remove the container first, or use -f to remove only its names' },
            );
          }
          // The container still needs the layers: drop the names, keep the content.
          result.untagged.push(...record.names);
          record.names = [];
          await writeImageRecord(this.layout, record);
          return result;
        }
        await fsp.rm(recordPath(this.layout, record.id), { force: true });
        await syncDirectory(this.layout.images);
        trace('image rm: record removed');
        result.untagged.push(...record.names);
        result.deleted = record.id;
        const remaining = records.filter((other) => other.id !== record.id);
        const freed = await this.freeUnreferenced(remaining, trash, {
          blobs: [
            record.manifestDigest,
            record.configDigest,
            ...record.layers.map((layer) => layer.blobDigest),
          ],
          layers: record.layers.map((layer) => layer.chainId),
        });
        result.removedLayers = freed.layers;
        result.removedBlobs = freed.blobs;
        trace('image rm: layers and blobs freed');
        return result;
      });
    } finally {
      // Deleting layer trees can take a while; the lock is already released.
      await trash.dispose();
    }
  }

  /** Removes a damaged record (by the ID its file name says), then what no record needs any more. */
  private async removeDamaged(
    bad: DamagedImageRecord,
    records: readonly ImageRecord[],
    trash: WorkDirectory,
  ): Promise<RemoveResult> {
    const users = await this.imageUsers(bad.id);
    if (users.length > 0) {
      throw new ConflictError(
        `image ${shortId(bad.id)} (its record is damaged) is used by ${users.length === 1 ? 'container' : 'containers'} ${users.join(', ')}`,
        { hint: 'remove the containers first' },
      );
    }
    await fsp.rm(bad.file, { force: true });
    await syncDirectory(this.layout.images);
    trace('image rm: record removed');
    const freed = await this.freeUnreferenced(records, trash);
    return { untagged: [], deleted: bad.id, removedLayers: freed.layers, removedBlobs: freed.blobs };
  }

  /**
   * Deletes the given blobs and layers (all of them when `candidates` is undefined) that no
   * record in `records` references. Layer directories are renamed into `trash` first, so a
   * half-deleted layer is never visible under layers/. Caller holds the exclusive lock.
   */
  private async freeUnreferenced(
    records: readonly ImageRecord[],
    trash: WorkDirectory,
    candidates?: { blobs: string[]; layers: string[] },
  ): Promise<{ blobs: string[]; layers: string[] }> {
    const referenced = referencedBy(records);
    // What a damaged record still names stays until that record is removed.
    for (const bad of (await readImageRecords(this.layout)).damaged) {
      for (const digest of bad.digests) {
        referenced.blobs.add(digest);
        referenced.layers.add(digest);
      }
    }
    const blobs = candidates?.blobs ?? (await listBlobDigests(this.layout));
    const layers = candidates?.layers ?? (await listLayerChainIds(this.layout));
    const freed = { blobs: [] as string[], layers: [] as string[] };
    for (const chainId of new Set(layers)) {
      if (referenced.layers.has(chainId)) continue;
      try {
        await fsp.rename(this.layout.layer(chainId), path.join(trash.path, digestHex(chainId)));
        freed.layers.push(chainId);
      } catch (error) {
        if (!hasCode(error, 'ENOENT')) throw error;
      }
    }
    for (const digest of new Set(blobs)) {
      if (referenced.blobs.has(digest)) continue;
      try {
        await fsp.unlink(this.layout.blob(digest));
        freed.blobs.push(digest);
      } catch (error) {
        if (!hasCode(error, 'ENOENT')) throw error;
      }
    }
    return freed;
  }

  /** Deletes every blob and layer no image references, and leftovers of killed processes. */
  async gc(): Promise<{ blobs: string[]; layers: string[] }> {
    await sweepStaleWorkDirectories(this.layout);
    const trash = await this.createWorkDirectory('trash');
    try {
      return await this.withExclusiveLock(async () => this.freeUnreferenced(await this.records(), trash));
    } finally {
      await trash.dispose();
    }
  }

  private get commitMarker(): string {
    return path.join(this.layout.images, COMMIT_MARKER);
  }

  /** After a process died inside a commit, objects may be in place that no record references. */
  private async recoverInterruptedCommit(): Promise<void> {
    if (!(await exists(this.commitMarker))) return;
    const trash = await this.createWorkDirectory('trash');
    try {
      await this.freeUnreferenced(await this.records(), trash);
      await fsp.rm(this.commitMarker, { force: true });
    } finally {
      await trash.dispose();
    }
  }

  // ---------------------------------------------------------------- import

  /**
   * Imports every image in an OCI layout directory, an oci-archive or a docker-archive (the
   * format is detected from the content). Returns the imported images' records.
   */
  async import(input: string, options: ImportOptions = {}): Promise<ImageRecord[]> {
    const name = options.name === undefined ? undefined : parseImageName(options.name);
    return this.recorded('import', () => this.importRecorded(input, name, options));
  }

  private async importRecorded(
    input: string,
    name: string | undefined,
    options: ImportOptions,
  ): Promise<ImageRecord[]> {
    await sweepStaleWorkDirectories(this.layout);
    const work = await this.createWorkDirectory('import');
    try {
      const { openImageSource } = await import('./import/open-source.js');
      const source = await openImageSource(input, work.path, this.platform);
      trace('import: source opened');
      if (name !== undefined) {
        if (source.images.length !== 1) {
          throw new InvalidArgumentError(
            `${input} holds ${source.images.length} images; a name can only be given to one`,
            {
              hint: 'import without a name, then tag the images you want',
            },
          );
        }
        (source.images[0] as ImageCandidate).names = [name];
      }
      return await this.importCandidates(source.images, work, input, options.created);
    } finally {
      await work.dispose();
    }
  }

  /**
   * Stores images whose documents are read and verified and whose layer bytes are in files
   * (a registry pull downloads them into `work` first): the same prepare-and-commit path as
   * import(), so a failure leaves nothing in the store. `label` names the source in messages.
   */
  async importCandidates(
    candidates: readonly ImageCandidate[],
    work: WorkDirectory,
    label: string,
    created?: string,
    onLayer?: ImportState['onLayer'],
  ): Promise<ImageRecord[]> {
    const state: ImportState = {
      layout: this.layout,
      work,
      blobs: new Map(),
      layers: new Map(),
      counter: 0,
      onLayer,
    };
    for (let attempt = 1; ; attempt += 1) {
      const prepared: ImageRecord[] = [];
      const { prepareImage } = await import('./import/prepare.js');
      for (const candidate of candidates) prepared.push(await prepareImage(candidate, state));
      trace('import: layers prepared');
      if (created !== undefined) for (const record of prepared) record.created = created;
      // One syncfs instead of an fsync per file; skipped when nothing new was written, since
      // it flushes everyone's dirty data on that filesystem.
      if (this.durable && (state.layers.size > 0 || state.blobs.size > 0)) syncFilesystem(work.path);
      const committed = await this.commit(prepared, state);
      if (committed) return committed;
      // A layer or blob this import meant to reuse was removed meanwhile: prepare again.
      if (attempt >= MAX_COMMIT_ATTEMPTS) {
        throw new ConflictError(`importing ${label} kept racing with concurrent removals; try again`);
      }
    }
  }

  /**
   * Makes the prepared images visible. Returns undefined when something the import meant to
   * reuse from the store has gone meanwhile (the caller prepares again).
   */
  private async commit(
    prepared: readonly ImageRecord[],
    state: ImportState,
  ): Promise<ImageRecord[] | undefined> {
    await this.ensureDirectories();
    return this.withExclusiveLock(async () => {
      const records = await this.records();
      const existingIds = new Set(records.map((record) => record.id));
      const fresh = prepared.filter((record) => !existingIds.has(record.id));

      const neededBlobs = new Set<string>();
      const neededLayers = new Set<string>();
      for (const record of fresh) {
        neededBlobs.add(record.manifestDigest);
        neededBlobs.add(record.configDigest);
        for (const layer of record.layers) {
          neededBlobs.add(layer.blobDigest);
          neededLayers.add(layer.chainId);
        }
      }
      const blobMoves: Array<[string, string]> = [];
      const layerMoves: Array<[string, string]> = [];
      for (const digest of neededBlobs) {
        if (await exists(this.layout.blob(digest))) continue;
        const staged = state.blobs.get(digest);
        if (!staged) return undefined;
        blobMoves.push([staged, this.layout.blob(digest)]);
      }
      for (const chainId of neededLayers) {
        if (await exists(layerRecordPath(this.layout, chainId))) continue;
        const staged = state.layers.get(chainId);
        if (!staged) return undefined;
        layerMoves.push([staged.directory, this.layout.layer(chainId)]);
      }

      if (blobMoves.length > 0 || layerMoves.length > 0) await atomicWriteFile(this.commitMarker, '');
      for (const [from, to] of blobMoves) {
        await fsp.rename(from, to);
      }
      trace('store: blobs moved in');
      for (const [from, to] of layerMoves) {
        try {
          // The layer's own directory closes its setuid binaries to other users; diff/ inside
          // keeps the image's mode (the container's `/`).
          await fsp.chmod(from, PRIVATE_DIRECTORY_MODE);
          await fsp.rename(from, to);
        } catch (error) {
          // Another import won the race: its copy is as good as ours.
          if (!hasCode(error, 'ENOTEMPTY') && !hasCode(error, 'EEXIST')) throw error;
        }
      }
      if (blobMoves.length > 0) await syncDirectory(path.join(this.layout.blobs, 'sha256'));
      if (layerMoves.length > 0) await syncDirectory(this.layout.layers);
      trace('store: layers moved in');

      const results: ImageRecord[] = [];
      for (const record of prepared) {
        const current = records.find((existing) => existing.id === record.id);
        const target = current ?? { ...record, names: [], digests: [] };
        await this.assignNames(records, target, record.names, record.digests ?? []);
        if (!current) records.push(target);
        results.push(target);
      }
      await fsp.rm(this.commitMarker, { force: true });
      trace('store: records written');
      return results;
    });
  }

  private async ensureDirectories(): Promise<void> {
    await fsp.mkdir(path.join(this.layout.blobs, 'sha256'), { recursive: true, mode: 0o700 });
    await fsp.mkdir(this.layout.images, { recursive: true, mode: 0o700 });
    await fsp.mkdir(this.layout.locks, { recursive: true, mode: 0o700 });
    // Root's alone: a layer holds the image's setuid binaries (state-permissions.ts). Overlay
    // looks up lower layers as the mounter, root.
    await fsp.mkdir(this.layout.layers, { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
  }

  /** Builds an image from the host's own binaries (see from-host.ts) and stores it as `name`. */
  async fromHost(name: string, options?: FromHostOptions): Promise<ImageRecord> {
    // Loaded on demand: from-host.ts uses this class, and most commands never need it.
    const { fromHost } = await import('./from-host.js');
    return fromHost(this, parseImageName(name), options);
  }

  // ---------------------------------------------------------------- images made here

  /**
   * Stores an image made on this machine (gantry commit, gantry build): writes its config and
   * manifest next to the staged layers in `work` and commits everything the way an import is
   * committed, in one short locked step. Nothing becomes visible if any part fails.
   */
  async addImage(work: WorkDirectory, image: NewImage): Promise<ImageRecord> {
    const names = (image.names ?? []).map((name) => parseImageName(name));
    const configBytes = Buffer.from(JSON.stringify(image.config));
    const configDigest = sha256Digest(configBytes);
    const manifestBytes = ociManifestBytes(
      { digest: configDigest, size: configBytes.length },
      image.layers.map((layer) => ({
        mediaType: layer.blobMediaType,
        digest: layer.blobDigest,
        size: layer.blobSize,
      })),
    );
    const manifestDigest = sha256Digest(manifestBytes);
    const state: ImportState = { layout: this.layout, work, blobs: new Map(), layers: new Map(), counter: 0 };
    for (const [digest, bytes] of [
      [configDigest, configBytes],
      [manifestDigest, manifestBytes],
    ] as const) {
      const file = path.join(work.path, `blob-${digestHex(digest)}`);
      await fsp.writeFile(file, bytes, { mode: 0o644 });
      state.blobs.set(digest, file);
    }
    for (const staged of image.staged.values()) {
      state.blobs.set(staged.record.blobDigest, staged.blobFile);
      state.layers.set(staged.record.chainId, { directory: staged.directory, record: staged.record });
    }
    if (this.durable) syncFilesystem(work.path);
    const created = image.config.created;
    const record: ImageRecord = {
      id: configDigest,
      names,
      manifestDigest,
      configDigest,
      layers: image.layers,
      created:
        typeof created === 'string' && !Number.isNaN(Date.parse(created))
          ? created
          : new Date().toISOString(),
      size: image.layers.reduce((total, layer) => total + layer.size, 0),
    };
    const committed = await this.commit([record], state);
    if (!committed) {
      throw new ConflictError('a layer this image is made on was removed while the image was being made', {
        hint: 'try again; the layer will be made anew',
      });
    }
    return committed[0] as ImageRecord;
  }

  /**
   * Removes dangling images (no name), or with `all` every image no container uses, then every
   * layer and blob no remaining image references (docker image prune [-a]).
   */
  async prune(options: { all?: boolean } = {}): Promise<PruneResult> {
    return this.recorded('image-rm', () => this.pruneRecorded(options));
  }

  private async pruneRecorded(options: { all?: boolean }): Promise<PruneResult> {
    await sweepStaleWorkDirectories(this.layout);
    const trash = await this.createWorkDirectory('trash');
    try {
      return await this.withExclusiveLock(async () => {
        const { records, damaged } = await readImageRecords(this.layout);
        // A damaged record is of no use: it goes, unless a container still runs on its layers.
        const doomedDamaged: DamagedImageRecord[] = [];
        for (const bad of damaged) if ((await this.imageUsers(bad.id)).length === 0) doomedDamaged.push(bad);
        for (const bad of doomedDamaged) await fsp.rm(bad.file, { force: true });
        const doomed: ImageRecord[] = [];
        for (const record of records) {
          // Dangling: no name and no digest a registry knows it by (docker keeps those too).
          if (!options.all && (record.names.length > 0 || (record.digests?.length ?? 0) > 0)) continue;
          if ((await this.imageUsers(record.id)).length > 0) continue;
          doomed.push(record);
        }
        for (const record of doomed) await fsp.rm(recordPath(this.layout, record.id), { force: true });
        if (doomed.length + doomedDamaged.length > 0) await syncDirectory(this.layout.images);
        const doomedIds = new Set(doomed.map((record) => record.id));
        const remaining = records.filter((record) => !doomedIds.has(record.id));
        // Measured before they go: freeUnreferenced only names what it removed.
        const referenced = referencedBy(remaining);
        const layerBytes = new Map<string, number>();
        for (const chainId of await listLayerChainIds(this.layout)) {
          if (referenced.layers.has(chainId)) continue;
          layerBytes.set(
            chainId,
            (await readLayerRecord(this.layout, chainId).catch(() => undefined))?.size ?? 0,
          );
        }
        const blobBytes = new Map<string, number>();
        for (const digest of await listBlobDigests(this.layout)) {
          if (referenced.blobs.has(digest)) continue;
          blobBytes.set(digest, (await fsp.stat(this.layout.blob(digest)).catch(() => undefined))?.size ?? 0);
        }
        const freed = await this.freeUnreferenced(remaining, trash);
        const reclaimedBytes =
          freed.layers.reduce((sum, chainId) => sum + (layerBytes.get(chainId) ?? 0), 0) +
          freed.blobs.reduce((sum, digest) => sum + (blobBytes.get(digest) ?? 0), 0);
        return {
          deleted: [
            ...doomed.map((record) => ({ id: record.id, names: record.names })),
            ...doomedDamaged.map((bad) => ({ id: bad.id, names: [] })),
          ],
          removedLayers: freed.layers,
          removedBlobs: freed.blobs,
          reclaimedBytes,
        };
      });
    } finally {
      await trash.dispose();
    }
  }

  /** Directory of the unpacked layer `chainId` (its `diff`), whether or not it exists. */
  layerDirectory(chainId: string): string {
    return layerDiffPath(this.layout, chainId);
  }
}

/** The damaged record an ID or unique ID prefix (4 hex digits or more) names, if any. */
function damagedMatching(
  reference: string,
  damaged: readonly DamagedImageRecord[],
): DamagedImageRecord | undefined {
  const match = /^(sha256:)?([0-9a-f]{4,64})$/.exec(reference);
  if (!match) return undefined;
  const matches = damaged.filter((bad) => digestHex(bad.id).startsWith(match[2]!));
  if (matches.length > 1) {
    throw new InvalidArgumentError(
      `image ID prefix "${reference}" is ambiguous: it matches ${matches.length} images`,
      {
        hint: `give more digits: ${matches.map((bad) => shortId(bad.id)).join(', ')}`,
      },
    );
  }
  return matches[0];
}
