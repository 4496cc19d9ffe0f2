/**
 * Named and anonymous volumes on disk: volumes/NAME/_data is the content a container mounts,
 * volumes/NAME/volume.json what docker's `volume inspect` shows. A volume appears and goes by one
 * rename of its whole directory (made complete in a staging directory first; renamed away before
 * it is deleted), so a kill -9 at any point leaves either the volume or nothing, plus a staging
 * directory of a dead process that the next command sweeps.
 *
 * Volumes are refcounted by the containers that use them: the users of a volume are the container
 * records that mount it (volumes/usage.ts), read under the volumes lock, never a counter that a
 * killed process could leave wrong. A create of a container holds the lock shared from making its
 * volumes until its record is saved; `volume rm` and `prune` hold it exclusively.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { ConflictError, CorruptStateError, hasCode, InvalidArgumentError, NotFoundError } from '../errors.js';
import { atomicWriteJson, FileLock } from '../fsutil.js';
import type { StateLayout } from '../paths.js';
import { PRIVATE_DIRECTORY_MODE, PRIVATE_FILE_MODE } from '../state-permissions.js';
import { generateVolumeName, isVolumeName, validateVolumeName } from './names.js';

/** What `volume inspect` shows (docker's field names), as stored. */
export interface VolumeRecord {
  Name: string;
  Driver: 'local';
  CreatedAt: string;
  Labels: Record<string, string>;
  Options: Record<string, string>;
}

export interface CreateVolumeOptions {
  /** Undefined: a random 64-hex name, as docker gives. */
  name?: string;
  driver?: string;
  labels?: Record<string, string>;
  /** `-o` driver options; the local driver here takes none (see create()). */
  options?: Record<string, string>;
}

const RECORD_FILE = 'volume.json';
const DATA_DIRECTORY = '_data';
const STAGING_PREFIX = '.staging-';
const REMOVING_PREFIX = '.removing-';

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return hasCode(error, 'EPERM');
  }
}

export class VolumeStore {
  constructor(readonly layout: StateLayout) {}

  get directory(): string {
    return path.join(this.layout.root, 'volumes');
  }

  volumeDirectory(name: string): string {
    return path.join(this.directory, name);
  }

  /** The host directory a container mounts (docker's Mountpoint). */
  dataPath(name: string): string {
    return path.join(this.directory, name, DATA_DIRECTORY);
  }

  /** Shared: a container create making or naming volumes. Exclusive: rm and prune. */
  lock(options: { shared?: boolean } = {}): Promise<FileLock> {
    return FileLock.acquire(path.join(this.layout.locks, 'volumes.lock'), {
      ...options,
      timeoutMs: 120_000,
    });
  }

  async withLock<T>(action: () => Promise<T>, options: { shared?: boolean } = {}): Promise<T> {
    const lock = await this.lock(options);
    try {
      return await action();
    } finally {
      lock.release();
    }
  }

  /**
   * Makes a volume, or returns the one of that name (docker's `volume create` is idempotent).
   * `created` says which. Callers hold the lock (shared is enough: the rename decides).
   */
  async create(options: CreateVolumeOptions = {}): Promise<{ volume: VolumeRecord; created: boolean }> {
    const driver = options.driver ?? 'local';
    if (driver !== 'local') {
      throw new InvalidArgumentError(`volume driver ${JSON.stringify(driver)} is not supported`, {
        hint: 'gantry has the local driver only (volumes under <root>/volumes)',
      });
    }
    const driverOptions = options.options ?? {};
    if (Object.keys(driverOptions).length > 0) {
      throw new InvalidArgumentError(
        `volume driver options are not supported: ${Object.keys(driverOptions).join(', ')}`,
        { hint: 'the local driver here keeps a plain directory; use --mount type=tmpfs for a tmpfs' },
      );
    }
    const name = options.name === undefined ? generateVolumeName() : validateVolumeName(options.name);
    const existing = await this.find(name);
    if (existing) return { volume: existing, created: false };
    const volume: VolumeRecord = {
      Name: name,
      Driver: 'local',
      CreatedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      Labels: { ...(options.labels ?? {}) },
      Options: {},
    };
    await fsp.mkdir(this.directory, { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
    const staging = path.join(
      this.directory,
      `${STAGING_PREFIX}${process.pid}-${Math.random().toString(16).slice(2, 10)}`,
    );
    await fsp.mkdir(staging, { mode: PRIVATE_DIRECTORY_MODE });
    try {
      // 0755 root:root, as docker makes _data; a pre-fill copies the image directory's owner and mode.
      await fsp.mkdir(path.join(staging, DATA_DIRECTORY), { mode: 0o755 });
      await atomicWriteJson(path.join(staging, RECORD_FILE), volume, PRIVATE_FILE_MODE);
      await fsp.rename(staging, this.volumeDirectory(name));
    } catch (error) {
      await fsp.rm(staging, { recursive: true, force: true });
      if (hasCode(error, 'EEXIST') || hasCode(error, 'ENOTEMPTY')) {
        const winner = await this.find(name);
        if (winner) return { volume: winner, created: false };
      }
      throw error;
    }
    return { volume, created: true };
  }

  /** The volume, or undefined when there is none of that name. */
  async find(name: string): Promise<VolumeRecord | undefined> {
    if (!isVolumeName(name)) return undefined;
    const file = path.join(this.volumeDirectory(name), RECORD_FILE);
    let text: string;
    try {
      text = await fsp.readFile(file, 'utf8');
    } catch (error) {
      if (hasCode(error, 'ENOENT') || hasCode(error, 'ENOTDIR')) return undefined;
      throw error;
    }
    try {
      const volume = JSON.parse(text) as VolumeRecord;
      if (volume.Name !== name) throw new Error(`it names ${JSON.stringify(volume.Name)}`);
      return volume;
    } catch (error) {
      throw new CorruptStateError(
        `the record of volume ${name} is damaged (${file}): ${(error as Error).message}`,
        {
          cause: error,
          hint: `remove it with \`gantry volume rm ${name}\``,
        },
      );
    }
  }

  async get(name: string): Promise<VolumeRecord> {
    const volume = await this.find(name);
    if (!volume) {
      throw new NotFoundError(`get ${name}: no such volume`, {
        hint: 'see `gantry volume ls` for the volumes there are',
      });
    }
    return volume;
  }

  /** Every volume, by name; a damaged record is listed with what its directory says. */
  async list(): Promise<VolumeRecord[]> {
    await this.sweep();
    let names: string[];
    try {
      names = await fsp.readdir(this.directory);
    } catch (error) {
      if (hasCode(error, 'ENOENT')) return [];
      throw error;
    }
    const volumes: VolumeRecord[] = [];
    for (const name of names.filter(isVolumeName).sort()) {
      try {
        const volume = await this.find(name);
        if (volume) volumes.push(volume);
      } catch {
        volumes.push({ Name: name, Driver: 'local', CreatedAt: '', Labels: {}, Options: {} });
      }
    }
    return volumes;
  }

  /**
   * Removes a volume and its content (the caller holds the lock exclusively and has checked that
   * no container uses it). Renamed away first: a half-deleted volume never looks like one.
   */
  async remove(name: string): Promise<void> {
    if (!isVolumeName(name) || !fs.existsSync(this.volumeDirectory(name))) {
      throw new NotFoundError(`get ${name}: no such volume`);
    }
    const doomed = path.join(
      this.directory,
      `${REMOVING_PREFIX}${process.pid}-${Math.random().toString(16).slice(2, 10)}`,
    );
    try {
      await fsp.rename(this.volumeDirectory(name), doomed);
    } catch (error) {
      if (hasCode(error, 'ENOENT')) throw new NotFoundError(`get ${name}: no such volume`);
      throw error;
    }
    await fsp.rm(doomed, { recursive: true, force: true });
  }

  /** Staging and removal directories of processes that died half-way. */
  async sweep(): Promise<void> {
    let names: string[];
    try {
      names = await fsp.readdir(this.directory);
    } catch (error) {
      if (hasCode(error, 'ENOENT')) return;
      throw error;
    }
    for (const name of names) {
      const match = new RegExp(`^(?:${STAGING_PREFIX}|${REMOVING_PREFIX})(\\d+)-`).exec(name);
      if (!match || processAlive(Number(match[1]))) continue;
      await fsp.rm(path.join(this.directory, name), { recursive: true, force: true }).catch(() => undefined);
    }
  }
}

/** docker's refusal of `volume rm` for a volume containers use. */
export function volumeInUseError(
  name: string,
  users: readonly { id: string; name: string }[],
): ConflictError {
  return new ConflictError(
    `remove ${name}: volume is in use - [${users.map((user) => `${user.id} (${user.name})`).join(', ')}]`,
    { hint: 'remove those containers first (`gantry rm`), then the volume' },
  );
}
