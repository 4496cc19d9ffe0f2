/**
 * Validation of the JSON documents of an image (descriptors, indexes, manifests, configs).
 * Everything read from an input is checked here, field by field, before the store uses it.
 */
import fsp from 'node:fs/promises';
import { ImageFormatError } from '../../errors.js';
import { sha256Digest, validateDigest } from '../digest.js';
import type { BlobLocation } from '../layer/ingest.js';
import { digestMismatch } from '../layer/ingest.js';
import {
  isConfigMediaType,
  isIndexMediaType,
  isLayerMediaType,
  isManifestMediaType,
} from '../media-types.js';
import type { OciImageConfig } from '../types.js';
import type { Platform } from './platform.js';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations: Record<string, string>;
  platform: Platform | undefined;
}

export interface IndexDocument {
  manifests: Descriptor[];
}

export interface ManifestDocument {
  config: Descriptor;
  layers: Descriptor[];
}

/** Manifests and indexes are small; a larger one is damage or abuse. */
export const MAX_MANIFEST_BYTES = 4 << 20;
export const MAX_CONFIG_BYTES = 16 << 20;

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(what: string, reason: string): ImageFormatError {
  return new ImageFormatError(`${what}: ${reason}`);
}

export function parseJson(bytes: Buffer, what: string): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new ImageFormatError(`${what}: not valid JSON (${(error as Error).message})`, { cause: error });
  }
  if (!isObject(value)) throw fail(what, 'expected a JSON object');
  return value;
}

function stringMap(value: unknown, what: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isObject(value) || Object.values(value).some((item) => typeof item !== 'string')) {
    throw fail(what, 'expected an object of strings');
  }
  return value as Record<string, string>;
}

export function validateDescriptor(value: unknown, what: string): Descriptor {
  if (!isObject(value)) throw fail(what, 'the descriptor is not an object');
  const { mediaType, digest, size, platform } = value;
  if (typeof mediaType !== 'string' || mediaType === '') throw fail(what, 'the descriptor has no mediaType');
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw fail(what, `the descriptor size ${JSON.stringify(size)} is not a non-negative integer`);
  }
  let parsedPlatform: Platform | undefined;
  if (platform !== undefined && platform !== null) {
    if (!isObject(platform) || typeof platform.os !== 'string' || typeof platform.architecture !== 'string') {
      throw fail(what, 'the descriptor platform needs "os" and "architecture" strings');
    }
    parsedPlatform = {
      os: platform.os,
      architecture: platform.architecture,
      variant: typeof platform.variant === 'string' ? platform.variant : undefined,
    };
  }
  return {
    mediaType,
    digest: validateDigest(digest, what),
    size,
    annotations: stringMap(value.annotations, `${what} annotations`),
    platform: parsedPlatform,
  };
}

/** Both shapes at once would let two tools read two different images from one document. */
function refuseAmbiguous(document: JsonObject, what: string): void {
  if ('manifests' in document && ('layers' in document || 'config' in document)) {
    throw fail(
      what,
      'the document is both an image index ("manifests") and an image manifest ("config"/"layers")',
    );
  }
}

function checkDeclaredMediaType(document: JsonObject, expected: string | undefined, what: string): void {
  const declared = document.mediaType;
  if (declared === undefined) return;
  if (typeof declared !== 'string') throw fail(what, 'mediaType is not a string');
  if (expected !== undefined && declared !== expected) {
    throw fail(what, `the document says its media type is ${declared}, its descriptor says ${expected}`);
  }
}

export function validateIndex(
  document: JsonObject,
  what: string,
  descriptorMediaType?: string,
): IndexDocument {
  refuseAmbiguous(document, what);
  checkDeclaredMediaType(document, descriptorMediaType, what);
  if (document.schemaVersion !== 2)
    throw fail(what, `unsupported schemaVersion ${JSON.stringify(document.schemaVersion)} (expected 2)`);
  if (!Array.isArray(document.manifests)) throw fail(what, 'missing the "manifests" array');
  return {
    manifests: document.manifests.map((item, index) =>
      validateDescriptor(item, `${what} manifests[${index}]`),
    ),
  };
}

export function validateManifest(
  document: JsonObject,
  what: string,
  descriptorMediaType?: string,
): ManifestDocument {
  refuseAmbiguous(document, what);
  checkDeclaredMediaType(document, descriptorMediaType, what);
  if (document.schemaVersion !== 2)
    throw fail(what, `unsupported schemaVersion ${JSON.stringify(document.schemaVersion)} (expected 2)`);
  const config = validateDescriptor(document.config, `${what} config`);
  if (!isConfigMediaType(config.mediaType)) {
    throw fail(what, `not a container image: the config media type is ${config.mediaType}`);
  }
  if (!Array.isArray(document.layers)) throw fail(what, 'missing the "layers" array');
  const layers = document.layers.map((item, index) => {
    const layer = validateDescriptor(item, `${what} layers[${index}]`);
    if (!isLayerMediaType(layer.mediaType)) {
      throw fail(`${what} layers[${index}]`, `unknown layer media type ${layer.mediaType}`);
    }
    return layer;
  });
  return { config, layers };
}

export function validateConfig(document: JsonObject, what: string): OciImageConfig {
  if (typeof document.architecture !== 'string' || typeof document.os !== 'string') {
    throw fail(what, 'the config needs "architecture" and "os" strings');
  }
  const rootfs = document.rootfs;
  if (!isObject(rootfs) || rootfs.type !== 'layers' || !Array.isArray(rootfs.diff_ids)) {
    throw fail(what, 'the config needs rootfs {"type": "layers", "diff_ids": [...]}');
  }
  rootfs.diff_ids.forEach((diffId, index) => validateDigest(diffId, `${what} rootfs.diff_ids[${index}]`));
  if (document.config !== undefined && document.config !== null && !isObject(document.config)) {
    throw fail(what, '"config" is not an object');
  }
  return document as unknown as OciImageConfig;
}

export function validateMediaTypeKnown(descriptor: Descriptor, what: string): 'index' | 'manifest' {
  if (isIndexMediaType(descriptor.mediaType)) return 'index';
  if (isManifestMediaType(descriptor.mediaType)) return 'manifest';
  throw fail(what, `unknown media type ${descriptor.mediaType} (expected an image manifest or index)`);
}

export async function readLocation(location: BlobLocation): Promise<Buffer> {
  const handle = await fsp.open(location.file, 'r');
  try {
    const data = Buffer.alloc(location.length);
    const { bytesRead } = await handle.read(data, 0, location.length, location.offset);
    if (bytesRead < location.length) throw new ImageFormatError(`truncated blob in ${location.file}`);
    return data;
  } finally {
    await handle.close();
  }
}

/** Reads a small blob named by a descriptor, checking size and digest. */
export async function readVerifiedBlob(
  location: BlobLocation,
  descriptor: { digest: string; size: number | undefined },
  maxBytes: number,
  what: string,
): Promise<Buffer> {
  if (descriptor.size !== undefined && descriptor.size !== location.length) {
    throw new ImageFormatError(
      `size mismatch for ${what}: expected ${descriptor.size} bytes, got ${location.length}`,
    );
  }
  if (location.length > maxBytes)
    throw fail(what, `${location.length} bytes is more than the ${maxBytes} allowed`);
  const data = await readLocation(location);
  const actual = sha256Digest(data);
  if (actual !== descriptor.digest) throw digestMismatch(what, descriptor.digest, actual);
  return data;
}
