/**
 * The slow half of an import, done outside the store lock: for each image, stream every layer
 * blob once into the work directory (copy, verify, unpack) unless the store already has it, and
 * stage the config and manifest. The store then commits the result in one short locked step.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { hasCode } from '../../errors.js';
import { exists } from '../../fsutil.js';
import type { StateLayout } from '../../paths.js';
import { chainIds, digestHex, sha256Digest } from '../digest.js';
import { detectCompression, readHead } from '../layer/compression.js';
import { ingestLayer } from '../layer/ingest.js';
import { MEDIA_TYPE } from '../media-types.js';
import { readLayerRecord } from '../records.js';
import type { ImageRecord, LayerRecord } from '../types.js';
import type { WorkDirectory } from '../work-directory.js';
import type { CandidateLayer, ImageCandidate } from './candidate.js';

/** What one import's work directory holds so far; kept across commit retries. */
export interface ImportState {
  layout: StateLayout;
  work: WorkDirectory;
  /** Blobs staged in the work directory, by digest. */
  blobs: Map<string, string>;
  /** Layers unpacked into the work directory (diff/ and layer.json), by ChainID. */
  layers: Map<string, { directory: string; record: LayerRecord }>;
  counter: number;
  /** Told when a layer blob starts being verified and unpacked, and when that is done (pull progress). */
  onLayer?: ((digest: string, phase: 'extracting' | 'complete') => void) | undefined;
}

async function blobInStore(digest: string, state: ImportState): Promise<boolean> {
  return state.blobs.has(digest) || exists(state.layout.blob(digest));
}

/** Writes a small blob (config, manifest) into the work directory unless the store has it. */
async function stageBlob(bytes: Buffer, digest: string, state: ImportState): Promise<void> {
  if (await blobInStore(digest, state)) return;
  const file = path.join(state.work.path, `blob-${digestHex(digest)}`);
  await fsp.writeFile(file, bytes, { mode: 0o644 });
  state.blobs.set(digest, file);
}

export async function prepareImage(candidate: ImageCandidate, state: ImportState): Promise<ImageRecord> {
  const diffIds = candidate.layers.map((layer) => layer.diffId);
  const chain = chainIds(diffIds);
  const layers: LayerRecord[] = [];
  for (const [index, layer] of candidate.layers.entries()) {
    layers.push(await prepareLayer(layer, chain[index] as string, chain[index - 1], state));
  }
  await stageBlob(candidate.config.bytes, candidate.config.digest, state);
  let manifest = candidate.manifest;
  if (!manifest) {
    // docker-archive has no manifest; write the OCI one that describes what was stored.
    const bytes = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPE.ociManifest,
        config: {
          mediaType: MEDIA_TYPE.ociConfig,
          digest: candidate.config.digest,
          size: candidate.config.bytes.length,
        },
        layers: layers.map((layer) => ({
          mediaType: layer.blobMediaType,
          digest: layer.blobDigest,
          size: layer.blobSize,
        })),
      }),
    );
    manifest = { bytes, digest: sha256Digest(bytes), mediaType: MEDIA_TYPE.ociManifest };
  }
  await stageBlob(manifest.bytes, manifest.digest, state);
  const created = candidate.config.value.created;
  return {
    id: candidate.config.digest,
    names: candidate.names,
    ...(candidate.digests && candidate.digests.length > 0 ? { digests: candidate.digests } : {}),
    manifestDigest: manifest.digest,
    configDigest: candidate.config.digest,
    layers,
    created:
      typeof created === 'string' && !Number.isNaN(Date.parse(created)) ? created : new Date().toISOString(),
    size: layers.reduce((total, layer) => total + layer.size, 0),
  };
}

/**
 * Makes sure the layer will be available at commit: reuses the stored copy when the same blob
 * already produced the same layer, else streams the blob once (copy, verify, unpack if needed).
 */
async function prepareLayer(
  layer: CandidateLayer,
  chainId: string,
  parent: string | undefined,
  state: ImportState,
): Promise<LayerRecord> {
  const compression = detectCompression(
    await readHead(layer.location.file, layer.location.offset, 8),
    layer.label,
  );
  const mediaType =
    layer.mediaType ??
    (compression === 'gzip'
      ? MEDIA_TYPE.ociLayerGzip
      : compression === 'zstd'
        ? MEDIA_TYPE.ociLayerZstd
        : MEDIA_TYPE.ociLayer);
  // An uncompressed layer's blob digest is its diff_id; that lets a docker-archive reuse too.
  const claimedDigest = layer.digest ?? (compression === 'none' ? layer.diffId : undefined);
  const unpacked = state.layers.get(chainId)?.record ?? (await readLayerRecord(state.layout, chainId));
  const haveLayer = unpacked !== undefined && unpacked.diffId === layer.diffId;
  const base = { diffId: layer.diffId, chainId, ...(parent === undefined ? {} : { parent }) };
  if (haveLayer && claimedDigest !== undefined && (await blobInStore(claimedDigest, state))) {
    return {
      ...base,
      blobDigest: claimedDigest,
      blobSize: layer.location.length,
      blobMediaType: mediaType,
      size: unpacked.size,
    };
  }

  state.counter += 1;
  const blobStored = claimedDigest !== undefined && (await blobInStore(claimedDigest, state));
  const blobFile = blobStored ? undefined : path.join(state.work.path, `layer-blob-${state.counter}`);
  // A download of our own is verified in place and linked, not copied (a second write of the layer).
  const adopt = blobFile !== undefined && layer.adoptable === true && layer.location.offset === 0;
  const layerDirectory = path.join(state.work.path, `layer-${state.counter}`);
  const unpackTo = haveLayer ? undefined : path.join(layerDirectory, 'diff');
  if (unpackTo) await fsp.mkdir(unpackTo, { recursive: true, mode: 0o755 });
  if (layer.digest !== undefined) state.onLayer?.(layer.digest, 'extracting');
  const result = await ingestLayer({
    source: layer.location,
    label: layer.label,
    expectedDigest: layer.digest,
    expectedSize: layer.size,
    expectedDiffId: layer.diffId,
    blobPath: adopt ? undefined : blobFile,
    unpackTo,
  });
  if (adopt && blobFile !== undefined) await linkOrCopy(layer.location.file, blobFile);
  if (blobFile !== undefined) {
    if (await blobInStore(result.digest, state)) await fsp.rm(blobFile);
    else state.blobs.set(result.digest, blobFile);
  }
  const record: LayerRecord = {
    ...base,
    blobDigest: result.digest,
    blobSize: result.size,
    blobMediaType: mediaType,
    size: haveLayer ? unpacked.size : result.contentBytes,
  };
  if (!haveLayer) {
    await fsp.writeFile(path.join(layerDirectory, 'layer.json'), `${JSON.stringify(record, null, 2)}\n`);
    state.layers.set(chainId, { directory: layerDirectory, record });
  }
  if (layer.digest !== undefined) state.onLayer?.(layer.digest, 'complete');
  return record;
}

async function linkOrCopy(source: string, target: string): Promise<void> {
  try {
    await fsp.link(source, target);
    await fsp.chmod(target, 0o644);
  } catch (error) {
    if (!hasCode(error, 'EXDEV') && !hasCode(error, 'EPERM')) throw error;
    await fsp.copyFile(source, target, fsp.constants.COPYFILE_FICLONE);
  }
}
