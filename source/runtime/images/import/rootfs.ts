/**
 * docker's `import`: a filesystem tarball (plain, gzip or zstd; what `export` writes) becomes a
 * one-layer image whose config holds only what `--change` sets, as docker import makes it. The
 * tar is rewritten entry by entry (paths cleaned, ".." refused) into a staged layer and stored
 * with the image in one step: a failed import leaves nothing.
 */
import { createReadStream } from 'node:fs';
import fsp from 'node:fs/promises';
import { parseChange } from '../build/containerfile.js';
import { applyMetadata, newStageState } from '../build/metadata.js';
import { COMMIT_CHANGES } from '../commit/commit.js';
import { stageLayer } from '../commit/stage-layer.js';
import { hasCode, ImageFormatError, InvalidArgumentError, NotFoundError } from '../../errors.js';
import { createDecompressor, detectCompression, readHead } from '../layer/compression.js';
import { parseImageName } from '../reference.js';
import type { ImageStore } from '../store.js';
import { readTar } from '../tar/reader.js';
import type { OciImageConfig, ImageRecord } from '../types.js';
import { hostPlatform } from './platform.js';

export interface RootfsImportOptions {
  /** REPOSITORY[:TAG]; without one the image is dangling. */
  reference?: string;
  /** Containerfile instructions for the config (CMD, ENV, ...). */
  changes?: string[];
  /** The history comment (default "Imported from SOURCE", as docker's). */
  message?: string;
  /** How the source is named in the history and in messages ("-" for stdin). */
  label?: string;
}

/** A path inside the image: relative, "/"-separated, never climbing out. */
function cleanPath(name: string): string {
  const parts = name.split('/').filter((part) => part !== '' && part !== '.');
  if (parts.includes('..')) {
    throw new ImageFormatError(`refusing the archive entry ${JSON.stringify(name)}: it climbs out with ".."`);
  }
  return parts.join('/');
}

/** Parses `--change` instructions (a bad one is refused before anything is read). */
export function parseChanges(changes: readonly string[]): ReturnType<typeof parseChange>[] {
  return changes.map((text) => parseChange(text, COMMIT_CHANGES));
}

/** Imports the tarball in `file` as a new image. */
export async function importRootfs(
  store: ImageStore,
  file: string,
  options: RootfsImportOptions = {},
): Promise<ImageRecord> {
  const label = options.label ?? file;
  // Everything the user gave is checked before anything is read or written.
  const name = options.reference === undefined ? undefined : parseImageName(options.reference);
  const changes = parseChanges(options.changes ?? []);
  const state = newStageState({});
  const context = { escape: '\\', buildArgs: new Map<string, string>(), usedBuildArgs: new Set<string>() };
  for (const change of changes) applyMetadata(change, state, context);
  try {
    const stats = await fsp.stat(file);
    if (!stats.isFile()) throw new InvalidArgumentError(`cannot import ${label}: not a regular file`);
  } catch (error) {
    if (hasCode(error, 'ENOENT')) throw new NotFoundError(`cannot import ${label}: no such file`);
    throw error;
  }
  const compression = detectCompression(await readHead(file, 0, 512), label);

  const work = await store.createWorkDirectory('import');
  try {
    const staged = await stageLayer(
      work,
      undefined,
      async (writer) => {
        const raw = createReadStream(file, { highWaterMark: 1 << 20 });
        const decompressor = createDecompressor(compression, label);
        const input = decompressor ? raw.pipe(decompressor) : raw;
        raw.on('error', (error) => decompressor?.destroy(error));
        let entries = 0;
        for await (const entry of readTar(input, { label })) {
          const header = entry.header;
          const path = cleanPath(header.path);
          if (path === '') continue; // the archive's "./": the image's root is made by the unpacker
          entries += 1;
          const base = {
            path,
            type: header.type,
            mode: header.mode,
            uid: header.uid,
            gid: header.gid,
            mtime: header.mtime,
            ...(header.xattrs.size > 0 ? { xattrs: header.xattrs } : {}),
          };
          if (header.type === 'file') await writer.add({ ...base, size: header.size }, entry.body());
          else if (header.type === 'hardlink')
            await writer.add({ ...base, linkPath: cleanPath(header.linkPath) });
          else if (header.type === 'symlink') await writer.add({ ...base, linkPath: header.linkPath });
          else if (header.type === 'char' || header.type === 'block')
            await writer.add({ ...base, devMajor: header.devMajor, devMinor: header.devMinor });
          else await writer.add(base);
        }
        if (entries === 0)
          throw new ImageFormatError(`${label}: the archive holds no files`, {
            hint: 'give a tar of a root filesystem, such as `gantry export` writes',
          });
      },
      { label },
    );
    const created = new Date().toISOString();
    const platform = hostPlatform();
    const config: OciImageConfig = {
      created,
      architecture: platform.architecture,
      os: platform.os,
      ...(platform.variant ? { variant: platform.variant } : {}),
      config: state.config,
      rootfs: { type: 'layers', diff_ids: [staged.record.diffId] },
      history: [{ created, comment: options.message ?? `Imported from ${label}` }],
    };
    return await store.addImage(work, {
      config,
      layers: [staged.record],
      staged: new Map([[staged.record.chainId, staged]]),
      names: name === undefined ? [] : [name],
    });
  } finally {
    await work.dispose();
  }
}
