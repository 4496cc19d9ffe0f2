/**
 * OCI image layouts (oci-layout + index.json + blobs/), from a directory or an oci-archive.
 * Every document is verified against the digest and size of the descriptor that names it.
 */
import { ImageFormatError, InvalidArgumentError, NotFoundError, UnsupportedError } from '../../errors.js';
import { digestHex } from '../digest.js';
import { parseImageName } from '../reference.js';
import type { CandidateLayer, ImageCandidate } from './candidate.js';
import {
  MAX_CONFIG_BYTES,
  MAX_MANIFEST_BYTES,
  parseJson,
  readVerifiedBlob,
  validateConfig,
  validateIndex,
  validateManifest,
  validateMediaTypeKnown,
  type Descriptor,
} from './documents.js';
import { formatPlatform, hostPlatform, platformScore, type Platform } from './platform.js';
import { readSourceFile, type SourceFiles } from './source-files.js';

const CONTAINERD_NAME = 'io.containerd.image.name';
const OCI_REF_NAME = 'org.opencontainers.image.ref.name';

/**
 * Names an index entry gives its image. containerd writes the full name in its own annotation;
 * the OCI annotation is often only a tag ("latest"), which names no repository, so a bare tag
 * leaves the image unnamed.
 */
export function namesFromAnnotations(annotations: Record<string, string>, what: string): string[] {
  const full = annotations[CONTAINERD_NAME];
  const reference = annotations[OCI_REF_NAME];
  const candidate = full ?? (reference !== undefined && /[:/]/.test(reference) ? reference : undefined);
  if (candidate === undefined) return [];
  try {
    return [parseImageName(candidate)];
  } catch (error) {
    if (!(error instanceof InvalidArgumentError)) throw error;
    throw new ImageFormatError(`${what}: the name annotation "${candidate}" is not a valid image name`, {
      cause: error,
    });
  }
}

async function locateOrFail(files: SourceFiles, digest: string, what: string) {
  const location = await files.locate(`blobs/sha256/${digestHex(digest)}`);
  if (!location)
    throw new ImageFormatError(`${files.label}: the blob ${digest} (${what}) is missing from blobs/sha256/`);
  return location;
}

async function readDocument(files: SourceFiles, descriptor: Descriptor, what: string, maxBytes: number) {
  const location = await locateOrFail(files, descriptor.digest, what);
  const bytes = await readVerifiedBlob(location, descriptor, maxBytes, `${what} ${descriptor.digest}`);
  return { bytes, document: parseJson(bytes, `${files.label}: ${what} ${descriptor.digest}`) };
}

/** Picks this host's manifest from a multi-platform index, or says which platforms there are. */
async function selectPlatform(
  files: SourceFiles,
  descriptor: Descriptor,
  what: string,
  host: Platform,
): Promise<Descriptor> {
  const { document } = await readDocument(files, descriptor, what, MAX_MANIFEST_BYTES);
  const index = validateIndex(document, `${files.label}: ${what} ${descriptor.digest}`, descriptor.mediaType);
  let best: Descriptor | undefined;
  let bestScore = 0;
  const available: string[] = [];
  for (const [position, entry] of index.manifests.entries()) {
    const kind = validateMediaTypeKnown(entry, `${files.label}: ${what} manifests[${position}]`);
    if (kind !== 'manifest') continue;
    const score = entry.platform ? platformScore(entry.platform, host) : index.manifests.length === 1 ? 1 : 0;
    if (entry.platform) available.push(formatPlatform(entry.platform));
    if (score > bestScore) {
      best = entry;
      bestScore = score;
    }
  }
  if (!best) {
    throw new NotFoundError(
      `${files.label}: no image for ${formatPlatform(host)} in the multi-platform index ${descriptor.digest}` +
        ` (available: ${available.length > 0 ? [...new Set(available)].join(', ') : 'none'})`,
    );
  }
  return best;
}

async function loadImage(
  files: SourceFiles,
  descriptor: Descriptor,
  names: string[],
  label: string,
): Promise<ImageCandidate> {
  const what = `${files.label}: manifest ${descriptor.digest}`;
  const { bytes, document } = await readDocument(files, descriptor, 'manifest', MAX_MANIFEST_BYTES);
  const manifest = validateManifest(document, what, descriptor.mediaType);
  const configRead = await readDocument(files, manifest.config, 'config', MAX_CONFIG_BYTES);
  const config = validateConfig(configRead.document, `${files.label}: config ${manifest.config.digest}`);
  if (config.os !== 'linux') {
    throw new UnsupportedError(
      `${files.label}: the image ${descriptor.digest} is for ${config.os}, not linux`,
    );
  }
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== manifest.layers.length) {
    throw new ImageFormatError(
      `${what}: it lists ${manifest.layers.length} layers but the config has ${diffIds.length} diff_ids`,
    );
  }
  const layers: CandidateLayer[] = [];
  for (const [index, layer] of manifest.layers.entries()) {
    const layerLabel = `layer ${index + 1} of ${manifest.layers.length} (${layer.digest})`;
    layers.push({
      location: await locateOrFail(files, layer.digest, layerLabel),
      digest: layer.digest,
      size: layer.size,
      mediaType: layer.mediaType,
      diffId: diffIds[index] as string,
      label: layerLabel,
    });
  }
  return {
    label,
    names,
    manifest: { bytes, digest: descriptor.digest, mediaType: descriptor.mediaType },
    config: { bytes: configRead.bytes, digest: manifest.config.digest, value: config },
    layers,
  };
}

/** The images of an OCI layout that this host can run, each with the names its index gives it. */
export async function readOciLayout(
  files: SourceFiles,
  host: Platform = hostPlatform(),
): Promise<ImageCandidate[]> {
  const layoutBytes = await readSourceFile(files, 'oci-layout', 64 * 1024);
  if (!layoutBytes)
    throw new ImageFormatError(`${files.label}: not an OCI image layout (no oci-layout file)`);
  const layout = parseJson(layoutBytes, `${files.label}: oci-layout`);
  if (typeof layout.imageLayoutVersion !== 'string' || !layout.imageLayoutVersion.startsWith('1.')) {
    throw new UnsupportedError(
      `${files.label}: unsupported OCI layout version ${JSON.stringify(layout.imageLayoutVersion)} (expected 1.x)`,
    );
  }
  const indexBytes = await readSourceFile(files, 'index.json', MAX_MANIFEST_BYTES);
  if (!indexBytes) throw new ImageFormatError(`${files.label}: the OCI layout has no index.json`);
  const index = validateIndex(
    parseJson(indexBytes, `${files.label}: index.json`),
    `${files.label}: index.json`,
  );

  const selected = new Map<string, { descriptor: Descriptor; names: Set<string>; label: string }>();
  const skipped: string[] = [];
  for (const [position, descriptor] of index.manifests.entries()) {
    const what = `${files.label}: index.json manifests[${position}]`;
    const kind = validateMediaTypeKnown(descriptor, what);
    const names = namesFromAnnotations(descriptor.annotations, what);
    let manifestDescriptor = descriptor;
    if (kind === 'index') {
      manifestDescriptor = await selectPlatform(files, descriptor, 'image index', host);
    } else if (descriptor.platform && platformScore(descriptor.platform, host) === 0) {
      skipped.push(formatPlatform(descriptor.platform));
      continue;
    }
    const existing = selected.get(manifestDescriptor.digest);
    if (existing) for (const name of names) existing.names.add(name);
    else
      selected.set(manifestDescriptor.digest, {
        descriptor: manifestDescriptor,
        names: new Set(names),
        label: what,
      });
  }
  if (selected.size === 0) {
    if (skipped.length > 0) {
      throw new NotFoundError(
        `${files.label}: no image for ${formatPlatform(host)} (available: ${[...new Set(skipped)].join(', ')})`,
      );
    }
    throw new ImageFormatError(`${files.label}: index.json lists no images`);
  }
  const images: ImageCandidate[] = [];
  for (const { descriptor, names, label } of selected.values()) {
    images.push(await loadImage(files, descriptor, [...names], label));
  }
  return images;
}
