#!/usr/bin/env node
// Packs a root filesystem directory into a one-layer OCI image layout (gzip layer), tagged TAG:
//   node bench/images/make-layout.mjs ROOTFS LAYOUT TAG
// The layer is GNU tar's output (numeric owners, xattrs), as a Debian base image would have it.
import { Buffer } from 'node:buffer';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';

const [rootfs, layout, tag] = process.argv.slice(2);
if (!rootfs || !layout || !tag) {
  console.error('usage: make-layout.mjs ROOTFS LAYOUT TAG');
  process.exit(2);
}
const blobs = path.join(layout, 'blobs', 'sha256');
fs.mkdirSync(blobs, { recursive: true });
const temporary = path.join(layout, 'layer.tmp');
const diffHash = createHash('sha256');
const blobHash = createHash('sha256');
let blobSize = 0;
const tar = spawn(
  'tar',
  ['--numeric-owner', '--xattrs', '--xattrs-include=*', '--sort=name', '-C', rootfs, '-cf', '-', '.'],
  {
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
await pipeline(
  tar.stdout,
  async function* (chunks) {
    for await (const chunk of chunks) {
      diffHash.update(chunk);
      yield chunk;
    }
  },
  zlib.createGzip({ level: 6 }),
  async function* (chunks) {
    for await (const chunk of chunks) {
      blobHash.update(chunk);
      blobSize += chunk.length;
      yield chunk;
    }
  },
  fs.createWriteStream(temporary),
);
const layerDigest = `sha256:${blobHash.digest('hex')}`;
fs.renameSync(temporary, path.join(blobs, layerDigest.slice(7)));
const write = (value) => {
  const bytes = Buffer.from(JSON.stringify(value));
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  fs.writeFileSync(path.join(blobs, digest.slice(7)), bytes);
  return { digest, size: bytes.length };
};
const config = write({
  created: '2025-05-20T00:00:00Z',
  architecture: process.arch === 'x64' ? 'amd64' : process.arch,
  os: 'linux',
  config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['/bin/bash'] },
  rootfs: { type: 'layers', diff_ids: [`sha256:${diffHash.digest('hex')}`] },
  history: [{ created: '2025-05-20T00:00:00Z', created_by: 'debootstrap --variant=minbase bookworm' }],
});
const manifest = write({
  schemaVersion: 2,
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
  layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layerDigest, size: blobSize }],
});
fs.writeFileSync(path.join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
fs.writeFileSync(
  path.join(layout, 'index.json'),
  JSON.stringify({
    schemaVersion: 2,
    manifests: [
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        ...manifest,
        annotations: { 'org.opencontainers.image.ref.name': tag },
      },
    ],
  }),
);
console.log(`${layout}: layer ${blobSize} bytes compressed (${layerDigest})`);
