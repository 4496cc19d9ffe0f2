/**
 * `gantry image export REF PATH --format oci|oci-archive|docker-archive`.
 *
 * - oci: an OCI image layout directory (oci-layout, index.json, blobs/sha256/). The index entry
 *   carries `org.opencontainers.image.ref.name` = the tag, which is what `skopeo ... oci:DIR:TAG`
 *   and `umoci unpack --image DIR:TAG` look up, and containerd's `io.containerd.image.name` with
 *   the full name, so an import here gets the name back.
 * - oci-archive: the same layout in a tar file (what `skopeo copy ... oci-archive:F` reads).
 * - docker-archive (the default, as `docker save` and `podman save`): manifest.json, the config as
 *   <hex>.json and each layer as an uncompressed <diff_id hex>.tar, as skopeo writes it.
 *
 * Blobs are written exactly as stored, so manifest and config digests are the ones the image came
 * with (a zstd layer stays zstd in an OCI layout; docker-archive layers are decompressed and
 * checked against the config's diff_ids on the way). Output appears atomically: everything is
 * written under a temporary name next to PATH and renamed into place at the end.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import type { Writable } from 'node:stream';
import path from 'node:path';
import { hasCode, InvalidArgumentError, NotFoundError } from '../../errors.js';
import { digestHex } from '../digest.js';
import { hostPlatform } from '../import/platform.js';
import { MEDIA_TYPE } from '../media-types.js';
import { DEFAULT_REGISTRY, normalizeReference, parseReference } from '../reference.js';
import type { ImageStore } from '../store.js';
import { TarWriter } from '../tar/writer.js';
import { openImageContent, type ImageContent } from './content.js';
import { recompressLayers, uncompressedLayer } from './recompress.js';

export const EXPORT_FORMATS = ['oci', 'oci-archive', 'docker-archive'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
export const DEFAULT_EXPORT_FORMAT: ExportFormat = 'docker-archive';

export interface ExportResult {
  path: string;
  format: ExportFormat;
  /** ID of the exported image (differs from the stored one only when `rewritten`). */
  imageId: string;
  manifestDigest: string;
  /** The name written into the output, if the image has one. */
  name: string | undefined;
  rewritten: boolean;
}

const OCI_REF_NAME = 'org.opencontainers.image.ref.name';
const CONTAINERD_NAME = 'io.containerd.image.name';
const BLOB_MODE = 0o644;

export function parseExportFormat(value: string): ExportFormat {
  if ((EXPORT_FORMATS as readonly string[]).includes(value)) return value as ExportFormat;
  const aliases: Record<string, ExportFormat> = {
    'oci-dir': 'oci',
    docker: 'docker-archive',
    tar: 'docker-archive',
  };
  const alias = aliases[value];
  if (alias) return alias;
  throw new InvalidArgumentError(`unknown export format "${value}" (accepted: ${EXPORT_FORMATS.join(', ')})`);
}

/** The name to write: the one the user asked for, else the image's first. */
function exportName(reference: string, names: readonly string[]): string | undefined {
  try {
    const parsed = parseReference(reference);
    if (parsed.digest === undefined) {
      const normalized = normalizeReference(reference);
      const name = `${normalized.name}:${normalized.tag}`;
      if (names.includes(name)) return name;
    }
  } catch {
    // an image ID, not a name
  }
  return names[0];
}

/** "registry/repository:tag" with the registry spelled out, as containerd records it. */
function qualifiedName(name: string): string {
  const parsed = normalizeReference(name);
  return `${parsed.registry}/${parsed.repository}:${parsed.tag}`;
}

async function checkDestination(destination: string, format: ExportFormat): Promise<void> {
  const parent = path.dirname(destination);
  const parentStats = await fsp.stat(parent).catch(() => undefined);
  if (!parentStats?.isDirectory()) {
    throw new NotFoundError(`cannot export to ${destination}: the directory ${parent} does not exist`);
  }
  const stats = await fsp.lstat(destination).catch(() => undefined);
  if (!stats) return;
  if (format === 'oci') {
    const empty = stats.isDirectory() && (await fsp.readdir(destination)).length === 0;
    if (!empty) {
      throw new InvalidArgumentError(
        `cannot export to ${destination}: it exists and is not an empty directory`,
        {
          hint: '--format oci writes a new directory; give a path that does not exist yet (or an empty directory)',
        },
      );
    }
  } else if (stats.isDirectory()) {
    throw new InvalidArgumentError(
      `cannot export to ${destination}: it is a directory, --format ${format} writes a file`,
      {
        hint: 'give a file path, or use --format oci for an OCI layout directory',
      },
    );
  }
}

function ociIndex(content: ImageContent, name: string | undefined): Buffer {
  const platform = content.config.value;
  const annotations: Record<string, string> = {};
  if (name !== undefined) {
    annotations[OCI_REF_NAME] = normalizeReference(name).tag as string;
    annotations[CONTAINERD_NAME] = qualifiedName(name);
  }
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPE.ociIndex,
      manifests: [
        {
          mediaType: content.manifest.mediaType,
          digest: content.manifest.digest,
          size: content.manifest.bytes.length,
          ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
          platform: {
            architecture: platform.architecture ?? hostPlatform().architecture,
            os: platform.os ?? 'linux',
            ...(platform.variant ? { variant: platform.variant } : {}),
          },
        },
      ],
    }),
  );
}

const OCI_LAYOUT = Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' }));

/** Blobs of the layout: documents from memory, layers from their pinned files; each once. */
function layoutBlobs(
  content: ImageContent,
): Array<{ digest: string; bytes?: Buffer; file?: string; size: number }> {
  const blobs = new Map<string, { digest: string; bytes?: Buffer; file?: string; size: number }>();
  for (const layer of content.layers)
    blobs.set(layer.digest, { digest: layer.digest, file: layer.file, size: layer.size });
  blobs.set(content.config.digest, {
    digest: content.config.digest,
    bytes: content.config.bytes,
    size: content.config.bytes.length,
  });
  blobs.set(content.manifest.digest, {
    digest: content.manifest.digest,
    bytes: content.manifest.bytes,
    size: content.manifest.bytes.length,
  });
  return [...blobs.values()];
}

async function writeOciDirectory(
  content: ImageContent,
  target: string,
  name: string | undefined,
): Promise<void> {
  const blobs = path.join(target, 'blobs', 'sha256');
  await fsp.mkdir(blobs, { recursive: true, mode: 0o755 });
  for (const blob of layoutBlobs(content)) {
    const file = path.join(blobs, digestHex(blob.digest));
    // A copy, not a link: what the user does with the export must never touch the store.
    if (blob.file !== undefined) await fsp.copyFile(blob.file, file, fs.constants.COPYFILE_FICLONE);
    else await fsp.writeFile(file, blob.bytes!, { mode: BLOB_MODE });
  }
  await fsp.writeFile(path.join(target, 'index.json'), ociIndex(content, name));
  await fsp.writeFile(path.join(target, 'oci-layout'), OCI_LAYOUT);
}

async function addFile(writer: TarWriter, name: string, file: string, size: number): Promise<void> {
  await writer.add(
    { path: name, type: 'file', mode: BLOB_MODE, size },
    fs.createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Uint8Array>,
  );
}

async function writeOciArchive(
  content: ImageContent,
  writer: TarWriter,
  name: string | undefined,
): Promise<void> {
  await writer.add({ path: 'blobs', type: 'directory', mode: 0o755 });
  await writer.add({ path: 'blobs/sha256', type: 'directory', mode: 0o755 });
  for (const blob of layoutBlobs(content)) {
    const entry = `blobs/sha256/${digestHex(blob.digest)}`;
    if (blob.file !== undefined) await addFile(writer, entry, blob.file, blob.size);
    else await writer.add({ path: entry, type: 'file', mode: BLOB_MODE }, blob.bytes!);
  }
  await writer.add({ path: 'index.json', type: 'file', mode: BLOB_MODE }, ociIndex(content, name));
  await writer.add({ path: 'oci-layout', type: 'file', mode: BLOB_MODE }, OCI_LAYOUT);
}

export interface ExportOptions {
  compression?: ExportCompression;
}

function checkCompression(format: ExportFormat, options: ExportOptions): void {
  if (options.compression !== undefined && format === 'docker-archive') {
    throw new InvalidArgumentError('--compression-format applies to oci and oci-archive outputs', {
      hint: 'docker-archive layers are always written uncompressed, as docker save does',
    });
  }
}

/** What `--compression-format` accepts: `gzip` makes every layer of an OCI output gzip. */
export type ExportCompression = 'gzip';

export function parseExportCompression(value: string): ExportCompression {
  if (value === 'gzip') return value;
  throw new InvalidArgumentError(`invalid --compression-format ${JSON.stringify(value)}: accepted: gzip`, {
    hint: 'without the flag the layers are written as they are stored (gzip, zstd or plain)',
  });
}

async function writeDockerArchive(
  content: ImageContent,
  writer: TarWriter,
  name: string | undefined,
): Promise<void> {
  const configName = `${digestHex(content.config.digest)}.json`;
  await writer.add({ path: configName, type: 'file', mode: BLOB_MODE }, content.config.bytes);
  const layerNames: string[] = [];
  const written = new Set<string>();
  for (const [index, layer] of content.layers.entries()) {
    const entry = `${digestHex(layer.diffId)}.tar`;
    layerNames.push(entry);
    if (written.has(entry)) continue;
    written.add(entry);
    const tar = await uncompressedLayer(content, index);
    await addFile(writer, entry, tar.file, tar.size);
    if (tar.file !== layer.file) await fsp.rm(tar.file, { force: true });
  }
  const repoTags = name === undefined ? [] : [dockerTag(name)];
  const manifest = [{ Config: configName, RepoTags: repoTags, Layers: layerNames }];
  await writer.add(
    { path: 'manifest.json', type: 'file', mode: BLOB_MODE },
    Buffer.from(JSON.stringify(manifest)),
  );
}

/** Docker writes Docker Hub names in their short form ("busybox:latest"), others in full. */
function dockerTag(name: string): string {
  const parsed = normalizeReference(name);
  return parsed.registry === DEFAULT_REGISTRY
    ? `${parsed.name}:${parsed.tag}`
    : `${parsed.registry}/${parsed.repository}:${parsed.tag}`;
}

/**
 * Writes an archive format to a stream the caller owns (`gantry image export IMAGE -` writes
 * stdout, as `docker save` does). Nothing is staged: a reader that stops early gets a short
 * archive, which every tar reader reports as truncated.
 */
export async function exportImageToStream(
  store: ImageStore,
  reference: string,
  output: Writable,
  format: ExportFormat = DEFAULT_EXPORT_FORMAT,
  options: ExportOptions = {},
): Promise<Omit<ExportResult, 'path'> & { path: '-' }> {
  if (format === 'oci') {
    throw new InvalidArgumentError('--format oci writes a directory, which cannot go to stdout', {
      hint: 'use --format oci-archive or docker-archive for stdout, or give a directory path',
    });
  }
  checkCompression(format, options);
  let content = await openImageContent(store, reference);
  try {
    if (options.compression === 'gzip') content = await recompressLayers(content, { format: 'gzip' });
    const name = exportName(reference, content.record.names);
    const writer = new TarWriter(output);
    if (format === 'oci-archive') await writeOciArchive(content, writer, name);
    else await writeDockerArchive(content, writer, name);
    await writer.finish();
    return {
      path: '-',
      format,
      imageId: content.config.digest,
      manifestDigest: content.manifest.digest,
      name,
      rewritten: content.rewritten,
    };
  } finally {
    await content.work.dispose();
  }
}

export async function exportImage(
  store: ImageStore,
  reference: string,
  destination: string,
  format: ExportFormat = DEFAULT_EXPORT_FORMAT,
  options: ExportOptions = {},
): Promise<ExportResult> {
  const target = path.resolve(destination);
  checkCompression(format, options);
  await checkDestination(target, format);
  let content = await openImageContent(store, reference);
  const temporary = path.join(
    path.dirname(target),
    `.${path.basename(target)}.gantry-${randomBytes(6).toString('hex')}`,
  );
  try {
    if (options.compression === 'gzip') content = await recompressLayers(content, { format: 'gzip' });
    const name = exportName(reference, content.record.names);
    if (format === 'oci') {
      await writeOciDirectory(content, temporary, name);
    } else {
      const output = fs.createWriteStream(temporary, { flags: 'wx', mode: 0o644, highWaterMark: 1 << 20 });
      const writer = new TarWriter(output);
      try {
        if (format === 'oci-archive') await writeOciArchive(content, writer, name);
        else await writeDockerArchive(content, writer, name);
        await writer.finish();
      } catch (error) {
        output.destroy();
        throw error;
      }
      const handle = await fsp.open(temporary, 'r');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    }
    try {
      await fsp.rename(temporary, target);
    } catch (error) {
      if (hasCode(error, 'ENOTEMPTY') || hasCode(error, 'EEXIST') || hasCode(error, 'EISDIR')) {
        throw new InvalidArgumentError(`cannot export to ${target}: something was created there meanwhile`);
      }
      throw error;
    }
    return {
      path: target,
      format,
      imageId: content.config.digest,
      manifestDigest: content.manifest.digest,
      name,
      rewritten: content.rewritten,
    };
  } catch (error) {
    await fsp.rm(temporary, { recursive: true, force: true });
    throw error;
  } finally {
    await content.work.dispose();
  }
}
