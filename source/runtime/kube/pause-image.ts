/**
 * The image of a pod's infra container: one layer holding the static gantry-pause binary, named
 * after the binary's digest (`localhost/gantry-pause:<12 hex>`), built on first use with no
 * network, as podman builds its pause image. A new build of the binary gets a new image; the
 * layer is reproducible (fixed times, root-owned), so two builds of one binary are one image.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { packageRoot } from '../containers/core.js';
import { NotFoundError, UnsupportedError } from '../errors.js';
import { digestFileRange, digestHex } from '../images/digest.js';
import { hostPlatform } from '../images/import/platform.js';
import type { ImageStore } from '../images/store.js';
import { writeSingleLayerLayout } from '../images/single-layer-layout.js';
import { TarWriter } from '../images/tar/writer.js';
import type { OciImageConfig } from '../images/types.js';
import { trace } from '../trace.js';

const FIXED_TIME = '1970-01-01T00:00:00Z';
export const PAUSE_COMMAND = ['/pause'];

export function pauseBinary(): string {
  return path.join(packageRoot(), 'dist', 'bin', 'gantry-pause');
}

/** The pause image's name, building the image when the store does not have it yet. */
export async function ensurePauseImage(store: ImageStore): Promise<string> {
  const binary = pauseBinary();
  let content: Buffer;
  try {
    content = await fsp.readFile(binary);
  } catch (error) {
    throw new UnsupportedError(`the pod pause binary ${binary} is missing`, {
      hint: 'build gantry again (`npm run build`); it is compiled with the native helper',
      cause: error,
    });
  }
  const name = `localhost/gantry-pause:${crypto.createHash('sha256').update(content).digest('hex').slice(0, 12)}`;
  try {
    await store.resolve(name);
    return name;
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
  }
  // Recorded as an import: a build killed half-way leaves a work directory (and perhaps blobs) that
  // the next command's recovery collects.
  await store.recorded('import', () => buildPauseImage(store, name, content));
  return name;
}

async function buildPauseImage(store: ImageStore, name: string, content: Buffer): Promise<void> {
  const work = await store.createWorkDirectory('build');
  try {
    const layout = path.join(work.path, 'oci');
    await fsp.mkdir(path.join(layout, 'blobs', 'sha256'), { recursive: true });
    const layerFile = path.join(work.path, 'layer.tar');
    const output = fs.createWriteStream(layerFile, { flags: 'wx' });
    const writer = new TarWriter(output);
    await writer.add({ path: 'pause', type: 'file', mode: 0o755, uid: 0, gid: 0, mtime: 0 }, content);
    await writer.finish();
    const layer = await digestFileRange(layerFile);
    await fsp.rename(layerFile, path.join(layout, 'blobs', 'sha256', digestHex(layer.digest)));
    const platform = hostPlatform();
    const config: OciImageConfig = {
      created: FIXED_TIME,
      architecture: platform.architecture,
      ...(platform.variant ? { variant: platform.variant } : {}),
      os: 'linux',
      config: { Cmd: PAUSE_COMMAND, StopSignal: 'SIGTERM' },
      rootfs: { type: 'layers', diff_ids: [layer.digest] },
      history: [{ created: FIXED_TIME, created_by: 'gantry kube play: the pod pause process' }],
    };
    await writeSingleLayerLayout(layout, config, layer);
    trace('kube play: pause image layout written');
    await store.import(layout, { name, created: new Date().toISOString() });
  } finally {
    await work.dispose();
  }
}
