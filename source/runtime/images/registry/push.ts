/**
 * `gantry push SOURCE [DESTINATION]`: the stored blobs exactly as they are (so the registry gets
 * the same manifest digest and a pull gives back the same image ID), layers first, then the
 * config, then the manifest. A blob the repository already has (HEAD) is skipped; one that
 * another repository of the same registry has (known from the names of local images) is mounted
 * across instead of uploaded.
 */
import fs from 'node:fs';
import { Readable } from 'node:stream';
import { InvalidArgumentError } from '../../errors.js';
import { openImageContent, type ContentBlob } from '../export/content.js';
import { recompressLayers, type RecompressOptions } from '../export/recompress.js';
import { MEDIA_TYPE } from '../media-types.js';
import { formatReference, normalizeReference, parseReference } from '../reference.js';
import type { ImageStore } from '../store.js';
import { openClient } from './pull.js';
import { mapLimit, type TransferOptions } from './transfer.js';

export interface PushedBlob {
  digest: string;
  size: number;
  kind: 'layer' | 'config';
  /** exists: the repository had it; mounted: linked from another repository. */
  action: 'exists' | 'mounted' | 'uploaded';
}

export interface PushResult {
  /** "registry/repository:tag" as pushed. */
  reference: string;
  manifestDigest: string;
  imageId: string;
  blobs: PushedBlob[];
}

/** Repositories of the same registry that, by local image names, hold each blob. */
async function mountSources(
  store: ImageStore,
  registry: string,
  repository: string,
): Promise<Map<string, string[]>> {
  const sources = new Map<string, string[]>();
  for (const record of await store.list()) {
    const repositories = record.names
      .map((name) => parseReference(name))
      .filter((parsed) => parsed.registry === registry && parsed.repository !== repository)
      .map((parsed) => parsed.repository);
    if (repositories.length === 0) continue;
    for (const digest of [record.configDigest, ...record.layers.map((layer) => layer.blobDigest)]) {
      sources.set(digest, [...new Set([...(sources.get(digest) ?? []), ...repositories])]);
    }
  }
  return sources;
}

export async function pushImage(
  store: ImageStore,
  source: string,
  destination: string | undefined,
  options: TransferOptions & {
    /** --compression-format (and -level): every layer not in that format is converted. */
    compression?: Omit<RecompressOptions, 'onlyUncompressed'>;
    /** --compression-level alone: the level of the plain layers push gzips anyway. */
    defaultLevel?: number;
  } = {},
): Promise<PushResult> {
  const target = normalizeReference(destination ?? source);
  if (target.digest !== undefined && target.tag === undefined) {
    throw new InvalidArgumentError(
      `cannot push to "${destination ?? source}": a push needs a tag, not a digest`,
      {
        hint: 'name the destination with a tag, e.g. localhost:5000/app:v1',
      },
    );
  }
  const tag = target.tag ?? 'latest';
  const where = `${target.registry}/${target.repository}:${tag}`;
  const emit = options.onEvent ?? (() => undefined);
  const stored = await openImageContent(store, source);
  let content = stored;
  try {
    // docker pushes gzip layers: an image stored with plain tar layers (a docker-archive import) is
    // compressed on the way; anything else goes as stored, its manifest and digest unchanged,
    // unless --compression-format asks for a conversion.
    // A manifest a registry already served (a pull) is pushed as it is, plain layers included:
    // its digest is what users pin.
    const fromRegistry = (stored.record.digests ?? []).some((entry) =>
      entry.endsWith(`@${stored.record.manifestDigest}`),
    );
    if (options.compression) content = await recompressLayers(stored, options.compression);
    else if (!fromRegistry)
      content = await recompressLayers(stored, {
        format: 'gzip',
        onlyUncompressed: true,
        ...(options.defaultLevel !== undefined ? { level: options.defaultLevel } : {}),
      });
    const client = await openClient(target, options);
    try {
      emit({
        type: 'resolved',
        reference: where,
        digest: content.manifest.digest,
        mediaType: content.manifest.mediaType,
      });
      const mounts = await mountSources(store, target.registry, target.repository);
      const blobs: Array<ContentBlob & { kind: 'layer' | 'config'; bytes?: Buffer }> = [
        ...new Map(
          content.layers.map((layer) => [layer.digest, { ...layer, kind: 'layer' as const }]),
        ).values(),
        {
          mediaType: MEDIA_TYPE.ociConfig,
          digest: content.config.digest,
          size: content.config.bytes.length,
          file: '',
          bytes: content.config.bytes,
          kind: 'config',
        },
      ];
      for (const blob of blobs) {
        emit({
          type: 'blob',
          kind: blob.kind,
          digest: blob.digest,
          phase: 'waiting',
          current: 0,
          total: blob.size,
        });
      }
      const pushed = await mapLimit(blobs, options.concurrency ?? 3, async (blob): Promise<PushedBlob> => {
        const result = (action: PushedBlob['action']): PushedBlob => {
          emit({
            type: 'blob',
            kind: blob.kind,
            digest: blob.digest,
            phase: action === 'uploaded' ? 'done' : action,
            current: blob.size,
            total: blob.size,
          });
          return { digest: blob.digest, size: blob.size, kind: blob.kind, action };
        };
        if (await client.blobExists(target.repository, blob)) return result('exists');
        for (const from of mounts.get(blob.digest) ?? []) {
          if (await client.mountBlob(target.repository, blob, from).catch(() => false))
            return result('mounted');
        }
        await client.uploadBlob(
          target.repository,
          blob,
          () =>
            blob.bytes
              ? Readable.from([blob.bytes], { objectMode: false })
              : fs.createReadStream(blob.file, { highWaterMark: 1 << 20 }),
          (progress) =>
            emit({
              type: 'blob',
              kind: blob.kind,
              digest: blob.digest,
              phase: progress.retrying ? 'retrying' : 'transferring',
              current: progress.current,
              total: progress.total,
              detail: progress.retrying?.reason,
            }),
        );
        return result('uploaded');
      });
      await client.putManifest(target.repository, tag, content.manifest);
      emit({ type: 'manifest', reference: where, digest: content.manifest.digest });
      // The registry knows the image by this digest now: RepoDigests lists it, as docker's does.
      const repository = formatReference({ ...target, tag: undefined, digest: undefined });
      await store.addRepoDigest(content.config.digest, `${repository}@${content.manifest.digest}`);
      return {
        reference: formatReference({ ...target, tag, digest: undefined }),
        manifestDigest: content.manifest.digest,
        imageId: content.config.digest,
        blobs: pushed,
      };
    } finally {
      client.close();
    }
  } finally {
    await stored.work.dispose();
  }
}
