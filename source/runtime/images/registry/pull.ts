/**
 * `gantry pull`: manifest (index -> this platform's manifest), config, then the layer blobs the
 * store does not have, into the pull cache (resumable, verified), and finally the same
 * prepare-and-commit path as an import. Nothing reaches the store before everything is verified.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { hasCode, ImageFormatError, NotFoundError, UnsupportedError } from '../../errors.js';
import { digestHex } from '../digest.js';
import type { CandidateLayer, ImageCandidate } from '../import/candidate.js';
import {
  MAX_CONFIG_BYTES,
  parseJson,
  validateConfig,
  validateIndex,
  validateManifest,
  type Descriptor,
} from '../import/documents.js';
import { formatPlatform, hostPlatform, platformScore, type Platform } from '../import/platform.js';
import { isIndexMediaType, isManifestMediaType } from '../media-types.js';
import { formatReference, normalizeReference, type ImageReference } from '../reference.js';
import type { ImageStore } from '../store.js';
import type { ImageRecord } from '../types.js';
import { trace } from '../../trace.js';
import { lookupCredentials } from './auth-file.js';
import { RegistryClient, removeCachedBlob, type FetchedManifest } from './client.js';
import { mapLimit, pullCacheDirectory, type PullOptions, type TransferOptions } from './transfer.js';

export interface PulledLayer {
  digest: string;
  size: number;
  /** present: the store had the blob; cached: a complete download was left by an earlier pull. */
  source: 'present' | 'downloaded' | 'resumed' | 'cached';
}

export interface PullResult {
  record: ImageRecord;
  /** The name given to the image ("registry/repo:tag"), undefined for a pull by digest. */
  name: string | undefined;
  /** Digest of the manifest stored (this platform's manifest for a multi-platform image). */
  manifestDigest: string;
  /** Digest of the multi-platform index, when the reference named one. */
  indexDigest: string | undefined;
  layers: PulledLayer[];
}

/** A client for the reference's registry, with the credentials the options or auth file give. */
export async function openClient(
  reference: ImageReference,
  options: TransferOptions,
): Promise<RegistryClient> {
  const credentials =
    options.credentials ??
    (options.authFile ? await lookupCredentials(options.authFile, reference.registry) : undefined);
  return new RegistryClient({
    registry: reference.registry,
    tlsVerify: options.tlsVerify,
    credentials,
    retry: options.retry,
  });
}

function selectFromIndex(index: FetchedManifest, where: string, platform: Platform): Descriptor {
  const document = validateIndex(parseJson(index.bytes, where), where, index.mediaType);
  let best: Descriptor | undefined;
  let bestScore = 0;
  const available: string[] = [];
  for (const entry of document.manifests) {
    if (!isManifestMediaType(entry.mediaType)) continue;
    // Attestation manifests (buildkit) carry platform unknown/unknown; they never match.
    if (entry.platform) available.push(formatPlatform(entry.platform));
    const score = entry.platform
      ? platformScore(entry.platform, platform)
      : document.manifests.length === 1
        ? 1
        : 0;
    if (score > bestScore) {
      best = entry;
      bestScore = score;
    }
  }
  if (!best) {
    throw new NotFoundError(
      `${where}: no image for ${formatPlatform(platform)} (available: ${available.length > 0 ? [...new Set(available)].join(', ') : 'none'})`,
      { hint: 'choose one of the available platforms with --platform os/arch[/variant]' },
    );
  }
  return best;
}

export async function pullImage(
  store: ImageStore,
  input: string,
  options: PullOptions = {},
): Promise<PullResult> {
  const reference = normalizeReference(input);
  const where = `${reference.registry}/${reference.repository}${reference.digest ? `@${reference.digest}` : `:${reference.tag}`}`;
  const platform = options.platform ?? hostPlatform();
  const emit = options.onEvent ?? (() => undefined);
  const client = await openClient(reference, options);
  try {
    let manifest = await client.getManifest(
      reference.repository,
      reference.digest ?? (reference.tag as string),
    );
    let indexDigest: string | undefined;
    let platformName: string | undefined;
    if (isIndexMediaType(manifest.mediaType)) {
      indexDigest = manifest.digest;
      const chosen = selectFromIndex(manifest, where, platform);
      platformName = chosen.platform ? formatPlatform(chosen.platform) : undefined;
      manifest = await client.getManifest(reference.repository, chosen.digest);
      if (!isManifestMediaType(manifest.mediaType)) {
        throw new ImageFormatError(
          `${where}: the index entry ${chosen.digest} is not an image manifest (${manifest.mediaType})`,
        );
      }
    }
    emit({
      type: 'resolved',
      reference: where,
      digest: indexDigest ?? manifest.digest,
      mediaType: manifest.mediaType,
      platform: platformName,
    });

    const manifestWhere = `${reference.registry}/${reference.repository}@${manifest.digest}`;
    const document = validateManifest(
      parseJson(manifest.bytes, manifestWhere),
      manifestWhere,
      manifest.mediaType,
    );
    const configBytes = await client.getSmallBlob(reference.repository, document.config, MAX_CONFIG_BYTES);
    const config = validateConfig(
      parseJson(configBytes, `${manifestWhere} config`),
      `${manifestWhere} config`,
    );
    if (config.os !== 'linux') {
      throw new UnsupportedError(`${where} is an image for ${config.os}, not linux`);
    }
    if (
      indexDigest === undefined &&
      platformScore(config, platform) === 0 &&
      options.platform !== undefined
    ) {
      throw new NotFoundError(
        `${where} is an image for ${formatPlatform(config)}, not ${formatPlatform(platform)}`,
        { hint: 'it is a single-platform image; pull it without --platform to take it anyway' },
      );
    }
    const diffIds = config.rootfs.diff_ids;
    if (diffIds.length !== document.layers.length) {
      throw new ImageFormatError(
        `${manifestWhere}: it lists ${document.layers.length} layers but the config has ${diffIds.length} diff_ids`,
      );
    }

    const cache = pullCacheDirectory(store.layout);
    await fsp.mkdir(cache, { recursive: true, mode: 0o700 });
    // Recorded: should this process be killed, the next command sweeps its work directory.
    const entry = store.journalEntry('pull');
    const work = await store.createWorkDirectory('pull').catch((error: unknown) => {
      entry?.end();
      throw error;
    });
    trace('pull: work directory made');
    try {
      const controller = new AbortController();
      const signal = options.signal
        ? AbortSignal.any([options.signal, controller.signal])
        : controller.signal;
      const pulled: PulledLayer[] = [];
      const locations = new Map<string, string>();
      const transferring = new Set<string>();
      const unique = [...new Map(document.layers.map((layer) => [layer.digest, layer])).values()];
      for (const layer of unique) {
        emit({
          type: 'blob',
          kind: 'layer',
          digest: layer.digest,
          phase: 'waiting',
          current: 0,
          total: layer.size,
        });
      }
      await mapLimit(unique, options.concurrency ?? 3, async (layer) => {
        // A blob the store has is linked into the work directory, so a concurrent removal
        // cannot take it away before the commit.
        const linked = path.join(work.path, `present-${digestHex(layer.digest)}`);
        try {
          await fsp.link(store.layout.blob(layer.digest), linked);
          locations.set(layer.digest, linked);
          pulled.push({ digest: layer.digest, size: layer.size, source: 'present' });
          emit({
            type: 'blob',
            kind: 'layer',
            digest: layer.digest,
            phase: 'exists',
            current: layer.size,
            total: layer.size,
          });
          return;
        } catch (error) {
          if (!hasCode(error, 'ENOENT')) throw error;
        }
        const file = path.join(cache, digestHex(layer.digest));
        const downloaded = path.join(work.path, `pulled-${digestHex(layer.digest)}`);
        try {
          const result = await client.downloadBlob(reference.repository, layer, file, {
            linkTo: downloaded,
            signal,
            onProgress: (progress) => {
              // A point to kill a pull at with a download half-way (fault tests).
              if (
                progress.current > 0 &&
                progress.current < progress.total &&
                !transferring.has(layer.digest)
              ) {
                transferring.add(layer.digest);
                trace('pull: layer transferring');
              }
              emit({
                type: 'blob',
                kind: 'layer',
                digest: layer.digest,
                phase: progress.retrying ? 'retrying' : 'transferring',
                current: progress.current,
                total: progress.total,
                resumedFrom: progress.resumedFrom,
                detail: progress.retrying?.reason,
              });
            },
          });
          locations.set(layer.digest, downloaded);
          pulled.push({
            digest: layer.digest,
            size: layer.size,
            source: !result.fetched ? 'cached' : result.resumedFrom > 0 ? 'resumed' : 'downloaded',
          });
          emit({
            type: 'blob',
            kind: 'layer',
            digest: layer.digest,
            phase: 'done',
            current: layer.size,
            total: layer.size,
            resumedFrom: result.resumedFrom,
          });
        } catch (error) {
          controller.abort();
          emit({
            type: 'blob',
            kind: 'layer',
            digest: layer.digest,
            phase: 'failed',
            current: 0,
            total: layer.size,
            detail: (error as Error).message,
          });
          throw error;
        }
      });

      const layers: CandidateLayer[] = document.layers.map((layer, index) => {
        const file = locations.get(layer.digest) as string;
        return {
          location: { file, offset: 0, length: layer.size },
          digest: layer.digest,
          size: layer.size,
          mediaType: layer.mediaType,
          diffId: diffIds[index] as string,
          label: `layer ${index + 1} of ${document.layers.length} (${layer.digest}) of ${where}`,
          adoptable: true,
        };
      });
      const name =
        reference.tag !== undefined ? formatReference({ ...reference, digest: undefined }) : undefined;
      // What the registry knows it by: the manifest, and the index it was picked from.
      const repository = formatReference({ ...reference, tag: undefined, digest: undefined });
      const digests = [manifest.digest, ...(indexDigest ? [indexDigest] : [])].map(
        (digest) => `${repository}@${digest}`,
      );
      const candidate: ImageCandidate = {
        label: where,
        names: name === undefined ? [] : [name],
        digests,
        manifest: { bytes: manifest.bytes, digest: manifest.digest, mediaType: manifest.mediaType },
        config: { bytes: configBytes, digest: document.config.digest, value: config },
        layers,
      };
      trace('pull: layers downloaded');
      emit({ type: 'storing' });
      const sizes = new Map(unique.map((layer) => [layer.digest, layer.size]));
      const [record] = await store.importCandidates([candidate], work, where, undefined, (digest, phase) => {
        const size = sizes.get(digest) ?? 0;
        emit({ type: 'blob', kind: 'layer', digest, phase, current: size, total: size });
      });
      trace('pull: stored');
      // Stored now: the downloads have done their job.
      for (const layer of pulled) {
        if (layer.source !== 'present') await removeCachedBlob(path.join(cache, digestHex(layer.digest)));
      }
      const order = new Map(unique.map((layer, index) => [layer.digest, index]));
      pulled.sort((a, b) => (order.get(a.digest) ?? 0) - (order.get(b.digest) ?? 0));
      return {
        record: record as ImageRecord,
        name,
        manifestDigest: manifest.digest,
        indexDigest,
        layers: pulled,
      };
    } finally {
      await work.dispose();
      entry?.end();
    }
  } finally {
    client.close();
  }
}
