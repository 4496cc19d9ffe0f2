/**
 * Exit codes outlive their containers for a while, as in podman's exit code cache: `wait` on an
 * --rm container that ends meanwhile still answers with its code, not 0.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { PRIVATE_DIRECTORY_MODE } from '../state-permissions.js';
import { ZERO_TIME, type ContainerRecord } from './record.js';

/** How long the exit code of a removed container is kept for `wait`. */
const EXIT_CODE_TTL_MS = 5 * 60 * 1000;

function exitCodeFile(root: string, id: string): string {
  return path.join(root, 'exit-codes', id);
}

export async function keepExitCode(root: string, record: ContainerRecord): Promise<void> {
  // Only --rm containers go without being asked to; `wait` on a removed one is an error.
  if (!record.HostConfig.AutoRemove || record.State.FinishedAt === ZERO_TIME) return;
  const directory = path.dirname(exitCodeFile(root, record.Id));
  try {
    await fsp.mkdir(directory, { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
    await fsp.writeFile(exitCodeFile(root, record.Id), `${record.State.ExitCode}\n`);
    // Old entries go at most once a minute, so a busy host does not list the cache every time.
    const now = Date.now();
    const marker = path.join(directory, '.pruned');
    const pruned = await fsp.stat(marker).catch(() => undefined);
    if (pruned && now - pruned.mtimeMs < 60_000) return;
    await fsp.writeFile(marker, '');
    for (const name of await fsp.readdir(directory)) {
      if (name === '.pruned') continue;
      const file = path.join(directory, name);
      const stats = await fsp.stat(file).catch(() => undefined);
      if (stats && now - stats.mtimeMs > EXIT_CODE_TTL_MS) await fsp.rm(file, { force: true });
    }
  } catch {
    // A cache: losing an entry only makes a late `wait` answer 0.
  }
}

export async function keptExitCode(root: string, id: string): Promise<number | undefined> {
  const text = await fsp.readFile(exitCodeFile(root, id), 'utf8').catch(() => undefined);
  const code = text === undefined ? NaN : Number.parseInt(text, 10);
  return Number.isInteger(code) ? code : undefined;
}
