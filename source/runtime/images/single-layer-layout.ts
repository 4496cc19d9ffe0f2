/**
 * Writes a one-layer OCI image layout (config, manifest, index, oci-layout) around a layer blob
 * already in `blobs/sha256`: how gantry makes the images it builds itself (`image from-host`, the
 * pod pause image) before importing them like any other layout.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { digestHex, sha256Digest } from './digest.js';
import { MEDIA_TYPE } from './media-types.js';
import type { OciImageConfig } from './types.js';

export interface BlobDescriptor {
  digest: string;
  size: number;
}

/** Stores `content` as a blob of the layout; its descriptor. */
export async function writeLayoutBlob(layout: string, content: Buffer): Promise<BlobDescriptor> {
  const digest = sha256Digest(content);
  await fsp.writeFile(path.join(layout, 'blobs', 'sha256', digestHex(digest)), content);
  return { digest, size: content.length };
}

export async function writeSingleLayerLayout(
  layout: string,
  config: OciImageConfig,
  layer: BlobDescriptor,
): Promise<void> {
  const configBlob = await writeLayoutBlob(layout, Buffer.from(JSON.stringify(config)));
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE.ociManifest,
    config: { mediaType: MEDIA_TYPE.ociConfig, ...configBlob },
    layers: [{ mediaType: MEDIA_TYPE.ociLayer, ...layer }],
  };
  const manifestBlob = await writeLayoutBlob(layout, Buffer.from(JSON.stringify(manifest)));
  const index = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE.ociIndex,
    manifests: [{ mediaType: MEDIA_TYPE.ociManifest, ...manifestBlob }],
  };
  await fsp.writeFile(path.join(layout, 'index.json'), JSON.stringify(index));
  await fsp.writeFile(path.join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
}
