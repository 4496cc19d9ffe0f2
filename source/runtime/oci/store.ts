/**
 * What gantry-oci keeps per container (state.json under --root) and runc's rules for its status.
 * Every command reads this first, and `state`, `kill`, `start` and `delete` (what drivers call
 * most) little else: it imports nothing heavier than the filesystem and /proc.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { isAlive } from '../containers/process-identity.js';
import type { ProcessIdentity } from '../containers/record.js';
import { GantryError, InvalidArgumentError, NotFoundError } from '../errors.js';
import { readJsonIfExists } from '../fsutil.js';
import { OCI_VERSION, type OciSpec, type OciState } from '../spec/types.js';

export const DEFAULT_OCI_ROOT = '/run/gantry-oci';

export interface StoredState {
  id: string;
  bundle: string;
  created: string;
  init?: ProcessIdentity;
  monitor?: ProcessIdentity;
  cgroupParent: string;
  cgroupName: string;
  annotations: Record<string, string>;
  /** The session keyring the init joined and exec joins; none: the caller's (--no-new-keyring). */
  sessionKeyring?: string;
}

export interface OciRuntimeOptions {
  cgroupRoot: string;
  cgroupParent: string;
}

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.+-]{0,1023}$/;

/** The marker `pause` leaves while the container's cgroup is frozen (runc reads the freezer). */
export const PAUSED_MARKER = 'paused';

/** The state root and how to read a container's record in it. */
export class OciStore {
  constructor(
    readonly root: string,
    readonly options: OciRuntimeOptions,
  ) {}

  dir(id: string): string {
    return path.join(this.root, id);
  }

  validateId(id: string): void {
    if (!ID_PATTERN.test(id)) {
      throw new InvalidArgumentError(
        `invalid container id ${JSON.stringify(id)}: use letters, digits, "_", ".", "+", "-", starting with a letter or digit`,
      );
    }
  }

  /** The stored state of a container. */
  async load(id: string): Promise<StoredState> {
    this.validateId(id);
    const state = await readJsonIfExists<StoredState>(path.join(this.dir(id), 'state.json')).catch(
      (error: unknown) => {
        throw new GantryError(`the state of container ${id} is damaged: ${(error as Error).message}`);
      },
    );
    if (!state) throw new NotFoundError(`container ${id} does not exist`);
    return state;
  }

  status(state: StoredState): OciState['status'] {
    const dir = this.dir(state.id);
    if (!state.init) return 'creating';
    if (fs.existsSync(path.join(dir, 'exit.json')) || !isAlive(state.init)) return 'stopped';
    if (fs.existsSync(path.join(dir, 'exec.fifo'))) return 'created';
    return fs.existsSync(path.join(dir, PAUSED_MARKER)) ? 'paused' : 'running';
  }

  ociState(state: StoredState, status = this.status(state)): OciState {
    return {
      ociVersion: OCI_VERSION,
      id: state.id,
      status,
      ...(status !== 'stopped' && state.init ? { pid: state.init.pid } : { pid: 0 }),
      bundle: state.bundle,
      annotations: state.annotations,
    };
  }

  async state(id: string): Promise<OciState> {
    return this.ociState(await this.load(id));
  }

  async list(): Promise<OciState[]> {
    let ids: string[];
    try {
      ids = await fsp.readdir(this.root);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const states: OciState[] = [];
    for (const id of ids) {
      try {
        states.push(await this.state(id));
      } catch {
        // a container being deleted, or not one of ours
      }
    }
    return states;
  }

  /** The bundle's config.json as written (validated at create): for hooks after create. */
  async bundleSpec(state: StoredState): Promise<OciSpec | undefined> {
    try {
      return JSON.parse(await fsp.readFile(path.join(state.bundle, 'config.json'), 'utf8'));
    } catch {
      return undefined;
    }
  }
}
