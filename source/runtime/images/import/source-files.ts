/**
 * Files of an import source, whether it is a directory or a tar archive read in place. Both
 * formats' readers go through this, so an OCI layout reads the same from a directory and from an
 * oci-archive, and a docker-archive the same packed or extracted.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { hasCode, ImageFormatError } from '../../errors.js';
import type { BlobLocation } from '../layer/ingest.js';
import { normalizeArchivePath, type TarFileIndex } from '../tar/file-index.js';
import { readLocation } from './documents.js';

export interface SourceFiles {
  /** The input as the user named it. */
  label: string;
  /** Where the regular file at `name` is (links inside the source followed), or undefined. */
  locate(name: string): Promise<BlobLocation | undefined>;
}

/** Reads a small file of the source; undefined when it does not exist. */
export async function readSourceFile(
  files: SourceFiles,
  name: string,
  maxBytes: number,
): Promise<Buffer | undefined> {
  const location = await files.locate(name);
  if (!location) return undefined;
  if (location.length > maxBytes) {
    throw new ImageFormatError(
      `${files.label}: ${name} is ${location.length} bytes, more than the ${maxBytes} allowed`,
    );
  }
  return readLocation(location);
}

export function directoryFiles(directory: string, label = directory): SourceFiles {
  const root = fs.realpathSync(directory);
  return {
    label,
    async locate(name) {
      const relative = normalizeArchivePath(name);
      if (relative === undefined || relative === '') return undefined;
      let real: string;
      try {
        real = await fsp.realpath(path.join(root, relative));
      } catch (error) {
        if (hasCode(error, 'ENOENT') || hasCode(error, 'ENOTDIR')) return undefined;
        throw error;
      }
      // A symlink in the source may point anywhere; only files inside it belong to the image.
      if (real !== root && !real.startsWith(`${root}/`)) {
        throw new ImageFormatError(`${label}: ${name} is a symlink that leads outside the image directory`);
      }
      const stats = await fsp.stat(real);
      if (!stats.isFile()) return undefined;
      return { file: real, offset: 0, length: stats.size };
    },
  };
}

export function archiveFiles(index: TarFileIndex, label: string): SourceFiles {
  return {
    label,
    async locate(name) {
      const entry = index.resolve(name);
      if (!entry || entry.header.type !== 'file') return undefined;
      return { file: index.file, offset: entry.dataOffset, length: entry.header.size };
    },
  };
}
