/**
 * Container records on disk: containers/<id>/state.json, written atomically, guarded by a
 * per-container flock; names reserved with names/<name> symlinks (symlink(2) is atomic, so two
 * processes creating the same name cannot both win).
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { ConflictError, CorruptStateError, hasCode, NotFoundError } from '../errors.js';
import { atomicWriteJson, FileLock } from '../fsutil.js';
import { PRIVATE_DIRECTORY_MODE, PRIVATE_FILE_MODE } from '../state-permissions.js';
import type { StateLayout } from '../paths.js';
import type { ContainerRecord } from './record.js';

export interface DamagedRecord {
  id: string;
  error: Error;
}

/** How old a name reservation without a container record must be to count as abandoned. */
const STALE_RESERVATION_MS = 30_000;

export class ContainerStore {
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
      text = await fsp.readFile(file, 'utf8');
    } catch (error) {
      if (hasCode(error, 'ENOENT')) throw new NotFoundError(`no such container: ${id}`);
      throw error;
    }
    try {
      const record = JSON.parse(text) as ContainerRecord;
      if (record.Id !== id || typeof record.State?.Status !== 'string') throw new Error('fields are missing');
      return record;
    } catch (error) {
      throw new CorruptStateError(
        `the state of container ${id.slice(0, 12)} is damaged (${file}): ${(error as Error).message}`,
        {
          cause: error,
          hint: `remove it with \`gantry rm -f ${id.slice(0, 12)}\``,
        },
      );
    }
  }

  /**
   * Every readable record; damaged ones are returned apart so a listing never crashes.
   * `incomplete` lists directories without a state file: a create in progress, or one killed.
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

  /** Removes a directory a create left without a state file, once it is clearly abandoned. */
  async sweepIncomplete(id: string, olderThanMs = 30_000): Promise<boolean> {
    try {
      const stat = await fsp.stat(this.dir(id));
      if (Date.now() - stat.mtimeMs < olderThanMs) return false;
      await fsp.access(this.file(id, 'state.json'));
      return false;
    } catch (error) {
      if (!hasCode(error, 'ENOENT')) throw error;
    }
    await this.removeDirectory(id);
    try {
      for (const name of await fsp.readdir(this.layout.names)) await this.releaseName(name, id);
    } catch (error) {
      if (!hasCode(error, 'ENOENT')) throw error;
    }
    return true;
  }

  async save(record: ContainerRecord): Promise<void> {
    // The record holds the container's environment: root's alone (see state-permissions.ts).
    await atomicWriteJson(this.file(record.Id, 'state.json'), record, PRIVATE_FILE_MODE);
  }

  lock(id: string, options: { wait?: boolean; timeoutMs?: number } = {}): Promise<FileLock | undefined> {
    return FileLock.tryAcquire(this.file(id, 'lock'), options);
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

  async reserveName(name: string, id: string): Promise<void> {
    await fsp.mkdir(this.layout.names, { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
    const link = path.join(this.layout.names, name);
    try {
      await fsp.symlink(`../containers/${id}`, link);
    } catch (error) {
      if (!hasCode(error, 'EEXIST')) throw error;
      const owner = path.basename(await fsp.readlink(link));
      // A reservation whose container never got a record is stale (a create killed halfway),
      // but only once it is older than any create takes: a younger one is a create under way
      // in another process, and taking its name would give two containers one name.
      try {
        await fsp.access(this.file(owner, 'state.json'));
      } catch {
        const reserved = await fsp.lstat(link).catch(() => undefined);
        if (!reserved || Date.now() - reserved.mtimeMs > STALE_RESERVATION_MS) {
          await fsp.rm(link, { force: true });
          return this.reserveName(name, id);
        }
        throw new ConflictError(
          `the container name "/${name}" is already in use by container "${owner}", which is being created`,
          {
            hint: `try again in a moment (a create that was killed holds the name for ${STALE_RESERVATION_MS / 1000} s)`,
          },
        );
      }
      throw new ConflictError(
        `the container name "/${name}" is already in use by container "${owner}"; remove (or rename) that container to reuse the name`,
      );
    }
  }

  async releaseName(name: string, id: string): Promise<void> {
    const link = path.join(this.layout.names, name);
    try {
      if (path.basename(await fsp.readlink(link)) === id) await fsp.rm(link, { force: true });
    } catch (error) {
      if (!hasCode(error, 'ENOENT')) throw error;
    }
  }

  async removeDirectory(id: string): Promise<void> {
    // Rename first so a half-finished removal never looks like a container.
    const dir = this.dir(id);
    const doomed = path.join(this.layout.tmp, `removing-${id}-${process.pid}`);
    await fsp.mkdir(this.layout.tmp, { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
    try {
      await fsp.rename(dir, doomed);
    } catch (error) {
      if (hasCode(error, 'ENOENT')) return;
      throw error;
    }
    await fsp.rm(doomed, { recursive: true, force: true });
  }
}
