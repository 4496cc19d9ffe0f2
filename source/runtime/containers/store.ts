/**
 * Container records on disk: containers/<id>/state.json, written atomically, guarded by a
 * per-container flock; names reserved with names/<name> symlinks (symlink(2) is atomic, so two
 * processes creating the same name cannot both win).
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { ConflictError, CorruptStateError, hasCode, NotFoundError } from '../errors.js';
import { atomicWriteJson, describeReadError, exists, FileLock, readRegularFile } from '../fsutil.js';
import { PRIVATE_DIRECTORY_MODE, PRIVATE_FILE_MODE } from '../state-permissions.js';
import type { StateLayout } from '../paths.js';
import { trace } from '../trace.js';
import type { ContainerRecord } from './record.js';

export interface DamagedRecord {
  id: string;
  error: Error;
}

/**
 * Who holds a name: a container (in use), a create under way in a live process, or nobody any
 * more (a create that died before its container had a record).
 */
export type NameOwner = 'in-use' | 'creating' | 'stale';

/** The error for a container whose record cannot be read: names it, the file, and the way out. */
export function damagedRecordError(
  id: string,
  file: string,
  reason: string,
  cause: unknown,
): CorruptStateError {
  const short = id.slice(0, 12);
  return new CorruptStateError(`the state of container ${short} is damaged (${file}): ${reason}`, {
    cause,
    hint: `\`gantry rm -f ${short}\` ends whatever of it still runs and removes it; to keep it, move ${file} away and gantry rebuilds the record from the container's config.json`,
  });
}

export class ContainerStore {
  /**
   * What load() does for a directory without state.json (the engine rebuilds the record, or
   * says the container is being created); without it, such a container is not found.
   */
  onMissingRecord: ((id: string) => Promise<ContainerRecord>) | undefined;

  constructor(readonly layout: StateLayout) {}

  dir(id: string): string {
    return this.layout.container(id);
  }

  file(id: string, name: string): string {
    return path.join(this.layout.container(id), name);
  }

  async ids(): Promise<string[]> {
    try {
      return (await fsp.readdir(this.layout.containers)).filter((name) => /^[0-9a-f]{64}$/.test(name));
    } catch (error) {
      if (hasCode(error, 'ENOENT')) return [];
      throw error;
    }
  }

  async load(id: string): Promise<ContainerRecord> {
    const file = this.file(id, 'state.json');
    let text: string;
    try {
      text = await readRegularFile(file);
    } catch (error) {
      if (!hasCode(error, 'ENOENT')) throw damagedRecordError(id, file, describeReadError(error), error);
      // A directory without its record: a create under way, one that died, or a record lost.
      if (this.onMissingRecord && (await exists(this.dir(id)))) return this.onMissingRecord(id);
      throw new NotFoundError(`no such container: ${id}`);
    }
    try {
      const record = JSON.parse(text) as ContainerRecord;
      if (record.Id !== id || typeof record.State?.Status !== 'string') throw new Error('fields are missing');
      return record;
    } catch (error) {
      throw damagedRecordError(id, file, (error as Error).message, error);
    }
  }

  /**
   * Every readable record; damaged ones are returned apart so a listing never crashes.
   * `incomplete` lists directories without a state file that load() did not rebuild: creates
   * under way.
   */
  async list(): Promise<{ records: ContainerRecord[]; damaged: DamagedRecord[]; incomplete: string[] }> {
    const records: ContainerRecord[] = [];
    const damaged: DamagedRecord[] = [];
    const incomplete: string[] = [];
    for (const id of await this.ids()) {
      try {
        records.push(await this.load(id));
      } catch (error) {
        if (error instanceof NotFoundError) incomplete.push(id);
        else damaged.push({ id, error: error as Error });
      }
    }
    return { records, damaged, incomplete };
  }

  async save(record: ContainerRecord): Promise<void> {
    // The record holds the container's environment: root's alone (see state-permissions.ts).
    await atomicWriteJson(this.file(record.Id, 'state.json'), record, PRIVATE_FILE_MODE);
  }

  /**
   * The container's lock. It lives in the container's directory, so a container that is gone
   * (removed while this process waited) gives NotFoundError, never a directory made anew.
   */
  async lock(
    id: string,
    options: { wait?: boolean; timeoutMs?: number } = {},
  ): Promise<FileLock | undefined> {
    try {
      return await FileLock.tryAcquire(this.file(id, 'lock'), { ...options, makeDirectory: false });
    } catch (error) {
      if (hasCode(error, 'ENOENT') || hasCode(error, 'ENOTDIR'))
        throw new NotFoundError(`no such container: ${id}`);
      throw error;
    }
  }

  /** Finds a container by full id, name, or unique id prefix. */
  async resolveId(reference: string): Promise<string> {
    const name = reference.replace(/^\//, '');
    try {
      const target = await fsp.readlink(path.join(this.layout.names, name));
      return path.basename(target);
    } catch (error) {
      if (!hasCode(error, 'ENOENT') && !hasCode(error, 'EINVAL')) throw error;
    }
    if (/^[0-9a-f]+$/.test(reference)) {
      const matches = (await this.ids()).filter((id) => id.startsWith(reference));
      if (matches.length === 1) return matches[0]!;
      if (matches.length > 1) {
        throw new ConflictError(`multiple containers match the id prefix ${reference}; give more characters`);
      }
    }
    throw new NotFoundError(`no such container: ${reference}`, {
      hint: 'see `gantry ps -a` for the containers there are',
    });
  }

  /**
   * Reserves `name` for container `id`. A name that is taken is judged by `judgeOwner` (the
   * engine asks its journal whether the owner's create is under way, or died): a reservation
   * left by a dead process is taken over at once.
   */
  async reserveName(
    name: string,
    id: string,
    judgeOwner: (ownerId: string) => Promise<NameOwner> = (ownerId) => this.defaultNameOwner(ownerId),
  ): Promise<void> {
    await fsp.mkdir(this.layout.names, { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
    const link = path.join(this.layout.names, name);
    for (let attempt = 0; ; attempt += 1) {
      try {
        await fsp.symlink(`../containers/${id}`, link);
        return;
      } catch (error) {
        if (!hasCode(error, 'EEXIST')) throw error;
      }
      const owner = path.basename(await fsp.readlink(link).catch(() => ''));
      const verdict = owner ? await judgeOwner(owner) : 'stale';
      if (verdict === 'creating') {
        throw new ConflictError(
          `the container name "/${name}" is already in use by container "${owner}", which is being created`,
          { hint: 'wait for that create to finish, or choose another name' },
        );
      }
      if (verdict === 'in-use' || attempt >= 3) {
        throw new ConflictError(
          `the container name "/${name}" is already in use by container "${owner}"; remove (or rename) that container to reuse the name`,
        );
      }
      // Held by a create that died before the container had a record: free.
      await this.releaseName(name, owner);
    }
  }

  /** Without a journal to ask: a name is in use while its container's directory exists. */
  private async defaultNameOwner(ownerId: string): Promise<NameOwner> {
    return (await exists(this.dir(ownerId))) ? 'in-use' : 'stale';
  }

  async releaseName(name: string, id: string): Promise<void> {
    const link = path.join(this.layout.names, name);
    try {
      if (path.basename(await fsp.readlink(link)) === id) await fsp.rm(link, { force: true });
    } catch (error) {
      if (!hasCode(error, 'ENOENT')) throw error;
    }
  }

  /**
   * Removes the container's directory. Renamed out of containers/ first, so a half-finished
   * removal never looks like a container; the caller holds the container's lock, whose file
   * moves along, so sweepRemovedDirectories() can tell a removal under way from a dead one's.
   */
  async removeDirectory(id: string): Promise<void> {
    const dir = this.dir(id);
    const doomed = path.join(this.layout.tmp, `${REMOVING_PREFIX}${id}-${process.pid}`);
    await fsp.mkdir(this.layout.tmp, { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
    try {
      await fsp.rename(dir, doomed);
    } catch (error) {
      if (hasCode(error, 'ENOENT')) return;
      throw error;
    }
    trace('remove: directory renamed');
    await removeTree(doomed);
  }

  /**
   * Deletes what removals killed half-way left under tmp/ (the directory was renamed there, then
   * the process died): those whose lock no live process holds.
   */
  async sweepRemovedDirectories(onlyId?: string): Promise<number> {
    let names: string[];
    try {
      names = await fsp.readdir(this.layout.tmp);
    } catch (error) {
      if (hasCode(error, 'ENOENT') || hasCode(error, 'ENOTDIR')) return 0;
      throw error;
    }
    let removed = 0;
    for (const name of names) {
      if (!name.startsWith(onlyId === undefined ? REMOVING_PREFIX : `${REMOVING_PREFIX}${onlyId}-`)) continue;
      const directory = path.join(this.layout.tmp, name);
      let lock: FileLock | undefined;
      try {
        // Never O_CREAT here: the owner's rm may just have unlinked the lock, and a lock file
        // made anew in the directory it is deleting fails its rmdir with ENOTEMPTY.
        lock = await FileLock.tryAcquire(path.join(directory, 'lock'), { wait: false, create: false });
        if (!lock) continue;
      } catch (error) {
        // No lock file (a container removed before it was ever locked): its owner is named.
        if (!hasCode(error, 'ENOENT')) continue;
        const pid = Number(/-(\d+)$/.exec(name)?.[1]);
        if (pid && isPidAlive(pid)) continue;
      }
      try {
        await removeTree(directory);
        removed += 1;
      } finally {
        lock?.release();
      }
    }
    return removed;
  }
}

const REMOVING_PREFIX = 'removing-';

/**
 * rm -rf of a directory renamed out of containers/. A process that looked the container's path
 * up just before the rename (a monitor saving the exit, a parallel rm -f taking the lock) can
 * still put one file in it: rm then meets ENOTEMPTY, and another pass takes that file too.
 */
async function removeTree(directory: string): Promise<void> {
  await fsp.rm(directory, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 });
}

function isPidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return hasCode(error, 'EPERM');
  }
}
