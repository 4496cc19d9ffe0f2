/**
 * Detects what an import path holds from its content, never its name: an OCI layout directory,
 * an extracted docker archive, or a tar (optionally gzip-compressed) of either.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { hasCode, ImageFormatError, InvalidArgumentError, NotFoundError } from '../../errors.js';
import { createDecompressor, detectCompression, readHead } from '../layer/compression.js';
import { TarFileIndex } from '../tar/file-index.js';
import { BLOCK_SIZE, decodeRawHeader } from '../tar/header.js';
import type { ImageSource } from './candidate.js';
import { readDockerArchive } from './docker-archive.js';
import { readOciLayout } from './oci-layout.js';
import { archiveFiles, directoryFiles, readSourceFile, type SourceFiles } from './source-files.js';
import type { Platform } from './platform.js';

/** The input is readable but holds no image (docker's `import` takes it as a root filesystem). */
export class NotAnImageArchiveError extends ImageFormatError {}

function looksLikeTar(head: Buffer): boolean {
  if (head.length < BLOCK_SIZE) return false;
  try {
    decodeRawHeader(head.subarray(0, BLOCK_SIZE), 0);
    return true;
  } catch {
    return false;
  }
}

async function readFormats(
  files: SourceFiles,
  container: 'directory' | 'archive',
  platform?: Platform,
): Promise<ImageSource> {
  // containers/image's dir: transport (skopeo, podman) writes manifest.json too, but as one image
  // manifest with blobs named by bare digest and a version file saying what it is.
  const version = await readSourceFile(files, 'version', 4096).catch(() => undefined);
  if (version?.toString('utf8').startsWith('Directory Transport Version')) {
    throw new ImageFormatError(
      `cannot import ${files.label}: it is a containers/image "dir:" layout (skopeo/podman dir:), which gantry does not read`,
      {
        hint: `convert it to an OCI layout first (skopeo copy dir:${files.label} oci:DIRECTORY:TAG), then import that; import accepts an OCI layout directory, an oci-archive or a docker-archive (docker save) file`,
      },
    );
  }
  // Docker 25+ archives hold both; manifest.json carries the full tags, so it wins.
  if (await files.locate('manifest.json'))
    return { format: 'docker-archive', images: await readDockerArchive(files) };
  if (await files.locate('oci-layout')) {
    return {
      format: container === 'directory' ? 'oci-layout' : 'oci-archive',
      images: await readOciLayout(files, platform),
    };
  }
  throw new NotAnImageArchiveError(
    `${files.label}: not an image ${container}: it has neither oci-layout (OCI layout) nor manifest.json (docker archive) at its top level`,
  );
}

/**
 * Opens `input` and reads the documents of every image in it (verified). `workDirectory` is a
 * private temporary directory for a decompressed copy of a gzip'd archive.
 */
export async function openImageSource(
  input: string,
  workDirectory: string,
  platform?: Platform,
): Promise<ImageSource> {
  let stats;
  try {
    stats = await fsp.stat(input);
  } catch (error) {
    if (hasCode(error, 'ENOENT'))
      throw new NotFoundError(`cannot import ${input}: no such file or directory`);
    throw error;
  }
  if (stats.isDirectory()) return readFormats(directoryFiles(input), 'directory', platform);
  if (!stats.isFile())
    throw new InvalidArgumentError(`cannot import ${input}: not a regular file or directory`);

  let archive = input;
  let head = await readHead(input, 0, BLOCK_SIZE);
  const compression = detectCompression(head, input);
  const decompressor = createDecompressor(compression, input);
  if (decompressor) {
    // A compressed tar cannot be read in place; one decompressed copy makes it seekable.
    archive = path.join(workDirectory, 'archive.tar');
    try {
      await pipeline(createReadStream(input), decompressor, createWriteStream(archive, { flags: 'wx' }));
    } catch (error) {
      if (error instanceof ImageFormatError) throw error;
      throw new ImageFormatError(
        `${input}: corrupt or truncated ${compression} data (${(error as Error).message})`,
        { cause: error },
      );
    }
    head = await readHead(archive, 0, BLOCK_SIZE);
  }
  if (!looksLikeTar(head)) {
    throw new ImageFormatError(
      `cannot import ${input}: it is neither an OCI image layout directory nor an image archive (a tar file)`,
      {
        hint: 'import accepts an OCI layout directory, an oci-archive or a docker-archive (docker save) file',
      },
    );
  }
  const index = await TarFileIndex.open(archive, input);
  return readFormats(archiveFiles(index, input), 'archive', platform);
}
