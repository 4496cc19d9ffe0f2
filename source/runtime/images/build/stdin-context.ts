/**
 * `gantry build -`: the build context comes on stdin, as docker takes it. A tar (plain, gzip,
 * zstd, xz or bzip2) is the context; anything else is the Containerfile itself, with an empty
 * context (`docker build - < Dockerfile`). The stream is spooled into a private work directory
 * (removed after the build, or by the next command if this one is killed) and unpacked there by
 * the layer unpacker, which refuses entries that climb out or write through symlinks.
 */
import fs from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError } from '../../errors.js';
import { unpackLayer } from '../layer/unpack.js';
import type { ImageStore } from '../store.js';
import { readTar } from '../tar/reader.js';
import { spoolStream, type WorkDirectory } from '../work-directory.js';
import { archiveKind, openArchive } from './add-archive.js';

export interface StdinContext {
  /** The unpacked context (empty when stdin was a Containerfile). */
  directory: string;
  /** Set when stdin held a Containerfile rather than a tar. */
  containerfileText?: string;
  work: WorkDirectory;
}

export async function readStdinContext(
  store: ImageStore,
  input: NodeJS.ReadableStream,
): Promise<StdinContext> {
  const { work, file: spooled } = await spoolStream(
    (kind) => store.createWorkDirectory(kind),
    'context',
    input,
    'stdin',
  );
  try {
    const directory = path.join(work.path, 'context');
    fs.mkdirSync(directory, { mode: 0o755 });
    const label = 'the build context on stdin';
    const kind = await archiveKind(spooled, label);
    if (kind === undefined) {
      const text = fs.readFileSync(spooled, 'utf8');
      if (text.trim() === '') {
        throw new InvalidArgumentError('the build context on stdin is empty', {
          hint: 'pipe a tar of the context (tar -C DIR -c . | gantry build -) or a Containerfile',
        });
      }
      fs.rmSync(spooled);
      return { directory, containerfileText: text, work };
    }
    // No owners from a context tar: what COPY writes is owned by root (or --chown) anyway.
    await unpackLayer(readTar(openArchive(spooled, kind, label), { label }), directory, {
      label,
      preserveOwnership: false,
    });
    fs.rmSync(spooled);
    return { directory: fs.realpathSync(directory), work };
  } catch (error) {
    await work.dispose();
    throw error;
  }
}
