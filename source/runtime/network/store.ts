/**
 * Network state on disk, under <root>/networks: one configuration file per network
 * (<name>.json) and one state file for every lease and published port (state.json). Files are
 * replaced atomically; every change happens under one flock (<root>/networks/lock), which dies
 * with its holder, so a gantry process killed at any point leaves either the old state or the new.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { ConflictError, CorruptStateError, hasCode, NotFoundError } from '../errors.js';
import { atomicWriteJson, FileLock } from '../fsutil.js';
import { PRIVATE_DIRECTORY_MODE, PRIVATE_FILE_MODE } from '../state-permissions.js';
import { emptyState, type NetworkConfig, type NetworkState } from './types.js';

export class NetworkStore {
  readonly directory: string;

  constructor(root: string) {
    this.directory = path.join(root, 'networks');
  }

  get stateFile(): string {
    return path.join(this.directory, 'state.json');
  }

  configFile(name: string): string {
    return path.join(this.directory, `${name}.json`);
  }

  /** Runs `action` holding the network lock (waits up to a minute for it). */
  async withLock<T>(action: () => Promise<T>): Promise<T> {
    await fsp.mkdir(this.directory, { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
    const lock = await FileLock.tryAcquire(path.join(this.directory, 'lock'), {
      wait: true,
      timeoutMs: 60_000,
    });
    if (!lock) {
      throw new ConflictError('the networks are busy: another gantry process holds their lock', {
        hint: `try again; if it persists, see which process holds ${path.join(this.directory, 'lock')} (fuser)`,
      });
    }
    try {
      return await action();
    } finally {
      lock.release();
    }
  }

  /** The state as last written (readable without the lock: it is replaced, never edited). */
  async readState(): Promise<NetworkState> {
    let text: string;
    try {
      text = await fsp.readFile(this.stateFile, 'utf8');
    } catch (error) {
      if (hasCode(error, 'ENOENT')) return emptyState();
      throw error;
    }
    try {
      const state = JSON.parse(text) as NetworkState;
      if (state.version !== 1 || typeof state.containers !== 'object') throw new Error('unknown layout');
      state.cursors ??= {};
      return state;
    } catch (error) {
      throw new CorruptStateError(
        `the network state ${this.stateFile} is damaged: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  }

  async writeState(state: NetworkState): Promise<void> {
    await atomicWriteJson(this.stateFile, state, PRIVATE_FILE_MODE);
  }

  async readConfig(name: string): Promise<NetworkConfig> {
    try {
      return JSON.parse(await fsp.readFile(this.configFile(name), 'utf8')) as NetworkConfig;
    } catch (error) {
      if (hasCode(error, 'ENOENT'))
        throw new NotFoundError(`no such network: ${name}`, { hint: 'see `gantry network ls`' });
      throw new CorruptStateError(
        `the configuration of network ${name} is damaged: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  }

  async listConfigs(): Promise<Map<string, NetworkConfig>> {
    const configs = new Map<string, NetworkConfig>();
    let names: string[] = [];
    try {
      names = await fsp.readdir(this.directory);
    } catch (error) {
      if (!hasCode(error, 'ENOENT')) throw error;
    }
    for (const file of names.filter((name) => name.endsWith('.json') && name !== 'state.json').sort()) {
      const config = await this.readConfig(file.slice(0, -5)).catch(() => undefined);
      if (config) configs.set(config.Name, config);
    }
    return configs;
  }

  async writeConfig(config: NetworkConfig): Promise<void> {
    await fsp.mkdir(this.directory, { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
    await atomicWriteJson(this.configFile(config.Name), config, PRIVATE_FILE_MODE);
  }

  async removeConfig(name: string): Promise<void> {
    await fsp.rm(this.configFile(name), { force: true });
  }
}
