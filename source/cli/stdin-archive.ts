/**
 * An image archive given as `-`: stdin is kept in a private temporary file while the archive is
 * imported (an archive is read out of order), and removed afterwards whatever happens. Shared by
 * `load` and `image import -`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { InvalidArgumentError } from '../runtime/errors.js';

export async function withInputArchive<T>(input: string, action: (file: string) => Promise<T>): Promise<T> {
  if (input !== '-') return action(input);
  if (process.stdin.isTTY)
    throw new InvalidArgumentError('requested an image archive from stdin, but stdin is a terminal', {
      hint: 'give the archive as a path, or redirect it to stdin (< image.tar)',
    });
  const spool = fs.mkdtempSync(path.join(os.tmpdir(), 'gantry-import-'));
  try {
    const file = path.join(spool, 'image.tar');
    await pipeline(process.stdin, fs.createWriteStream(file, { mode: 0o600 }));
    return await action(file);
  } finally {
    fs.rmSync(spool, { recursive: true, force: true });
  }
}
