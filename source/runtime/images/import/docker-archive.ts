/**
 * `docker save` archives: manifest.json lists, per image, the config file, its tags and its layer
 * tars. Older Docker writes layers as `<id>/layer.tar` (duplicates as symlinks), skopeo as
 * `<diff_id>.tar`, Docker 25+ as `blobs/sha256/<hex>` inside an embedded OCI layout. There is no
 * manifest with layer digests, so layers are verified against the config's diff_ids only.
 */
import { ImageFormatError, InvalidArgumentError, UnsupportedError } from '../../errors.js';
import { sha256Digest } from '../digest.js';
import { digestMismatch } from '../layer/ingest.js';
import { parseImageName } from '../reference.js';
import type { CandidateLayer, ImageCandidate } from './candidate.js';
import { MAX_CONFIG_BYTES, MAX_MANIFEST_BYTES, parseJson, validateConfig } from './documents.js';
import { readSourceFile, type SourceFiles } from './source-files.js';

const HEX_NAMED = /(?:^|\/)(?:blobs\/sha256\/)?([0-9a-f]{64})(?:\.json)?$/;
const BLOB_PATH = /^(?:\.\/)?blobs\/sha256\/([0-9a-f]{64})$/;

interface DockerManifestEntry {
  Config: string;
  RepoTags: string[];
  Layers: string[];
}

function parseManifestList(bytes: Buffer, what: string): DockerManifestEntry[] {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new ImageFormatError(`${what}: not valid JSON (${(error as Error).message})`, { cause: error });
  }
  if (!Array.isArray(value)) throw new ImageFormatError(`${what}: expected a JSON array of images`);
  return value.map((item: unknown, index) => {
    const entry = item as Partial<Record<keyof DockerManifestEntry, unknown>> | null;
    const where = `${what}[${index}]`;
    if (typeof entry !== 'object' || entry === null) throw new ImageFormatError(`${where}: not an object`);
    if (typeof entry.Config !== 'string') throw new ImageFormatError(`${where}: "Config" is not a string`);
    if (!Array.isArray(entry.Layers) || entry.Layers.some((layer) => typeof layer !== 'string')) {
      throw new ImageFormatError(`${where}: "Layers" is not an array of paths`);
    }
    const tags = entry.RepoTags ?? [];
    if (!Array.isArray(tags) || tags.some((tag) => typeof tag !== 'string')) {
      throw new ImageFormatError(`${where}: "RepoTags" is not an array of names`);
    }
    return { Config: entry.Config, RepoTags: tags as string[], Layers: entry.Layers as string[] };
  });
}

function parseTags(tags: string[], what: string): string[] {
  return tags.map((tag) => {
    try {
      return parseImageName(tag);
    } catch (error) {
      if (!(error instanceof InvalidArgumentError)) throw error;
      throw new ImageFormatError(`${what}: the tag "${tag}" is not a valid image name`, { cause: error });
    }
  });
}

export async function readDockerArchive(files: SourceFiles): Promise<ImageCandidate[]> {
  const manifestBytes = await readSourceFile(files, 'manifest.json', MAX_MANIFEST_BYTES);
  if (!manifestBytes) {
    if (await files.locate('repositories')) {
      throw new UnsupportedError(
        `${files.label}: a pre-1.10 docker archive (no manifest.json) is not supported`,
      );
    }
    throw new ImageFormatError(`${files.label}: not a docker archive (no manifest.json)`);
  }
  const entries = parseManifestList(manifestBytes, `${files.label}: manifest.json`);
  if (entries.length === 0) throw new ImageFormatError(`${files.label}: manifest.json lists no images`);

  const images: ImageCandidate[] = [];
  for (const [position, entry] of entries.entries()) {
    const what = `${files.label}: manifest.json[${position}]`;
    const configBytes = await readSourceFile(files, entry.Config, MAX_CONFIG_BYTES);
    if (!configBytes)
      throw new ImageFormatError(`${what}: the config file "${entry.Config}" is missing from the archive`);
    const configDigest = sha256Digest(configBytes);
    // Config files are named after their digest (the image ID); a different one means damage.
    const named = HEX_NAMED.exec(entry.Config);
    if (named && `sha256:${named[1]}` !== configDigest) {
      throw digestMismatch(`the config "${entry.Config}"`, `sha256:${named[1]}`, configDigest);
    }
    const config = validateConfig(parseJson(configBytes, `${what} config`), `${what} config`);
    if (config.os !== 'linux')
      throw new UnsupportedError(`${what}: the image is for ${config.os}, not linux`);
    const diffIds = config.rootfs.diff_ids;
    if (diffIds.length !== entry.Layers.length) {
      throw new ImageFormatError(
        `${what}: it lists ${entry.Layers.length} layers but the config has ${diffIds.length} diff_ids`,
      );
    }
    const layers: CandidateLayer[] = [];
    for (const [index, layerPath] of entry.Layers.entries()) {
      const label = `layer ${index + 1} of ${entry.Layers.length} ("${layerPath}")`;
      const location = await files.locate(layerPath);
      if (!location) throw new ImageFormatError(`${what}: ${label} is missing from the archive`);
      const blob = BLOB_PATH.exec(layerPath);
      layers.push({
        location,
        digest: blob ? `sha256:${blob[1]}` : undefined,
        size: undefined,
        mediaType: undefined,
        diffId: diffIds[index] as string,
        label,
      });
    }
    images.push({
      label: what,
      names: parseTags(entry.RepoTags, what),
      manifest: undefined,
      config: { bytes: configBytes, digest: configDigest, value: config },
      layers,
    });
  }
  return images;
}
