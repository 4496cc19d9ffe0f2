/**
 * Named connections (`gantry connection add|ls|rm|default`): ssh addresses kept in the user's
 * config directory ($XDG_CONFIG_HOME/gantry/connections.json, else ~/.config/gantry/), mode 0600
 * as it may name a key. Changes are read-modify-write under a lock and written atomically, so two
 * commands at once lose neither's entry and a kill leaves the old file or the new one.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CorruptStateError, InvalidArgumentError, NotFoundError } from '../errors.js';
import { parseSshUrl, type SshTarget } from './ssh-url.js';

export interface ConnectionEntry {
  url: string;
  /** A private key for ssh -i (besides what the agent and the ssh config give). */
  identity?: string;
}

export interface ConnectionsFile {
  /** The connection commands use when given no --host (only those that work on a remote host). */
  default?: string;
  connections: Record<string, ConnectionEntry>;
}

export function connectionsPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || path.join(env.HOME || os.homedir(), '.config');
  return path.join(base, 'gantry', 'connections.json');
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function checkConnectionName(name: string): void {
  if (!NAME.test(name) || name === 'local')
    throw new InvalidArgumentError(`invalid connection name ${JSON.stringify(name)}`, {
      hint: 'letters, digits, "_", "." and "-", beginning with a letter or digit, at most 64 ("local" means this machine)',
    });
}

export function readConnections(file = connectionsPath()): ConnectionsFile {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { connections: {} };
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as ConnectionsFile;
    if (typeof parsed !== 'object' || parsed === null || typeof parsed.connections !== 'object')
      throw new Error('no "connections" object');
    return parsed;
  } catch (error) {
    throw new CorruptStateError(`${file} is damaged: ${(error as Error).message}`, {
      cause: error,
      hint: 'fix or remove the file, then add the connections again',
    });
  }
}

/** Changes the file under its lock: `change` gets the current contents and edits them. */
export async function changeConnections(
  change: (file: ConnectionsFile) => void,
  file = connectionsPath(),
): Promise<ConnectionsFile> {
  const { FileLock, atomicWriteFile } = await import('../fsutil.js');
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const lock = await FileLock.acquire(`${file}.lock`, { timeoutMs: 60_000 });
  try {
    const current = readConnections(file);
    change(current);
    await atomicWriteFile(file, `${JSON.stringify(current, null, 2)}\n`, 0o600);
    return current;
  } finally {
    lock.release();
  }
}

/** The ssh target a --host value names: an ssh:// address, or the name of a connection. */
export function resolveHost(value: string, file = connectionsPath()): SshTarget {
  if (value.includes('://')) return parseSshUrl(value);
  const connections = readConnections(file);
  const entry = connections.connections[value];
  if (!entry) {
    const names = Object.keys(connections.connections);
    throw new NotFoundError(`no such connection: ${value}`, {
      hint: names.length
        ? `the connections are ${names.join(', ')}; or give an address, ssh://[user@]host[:port][/path/to/gantry]`
        : 'add one with `gantry connection add NAME ssh://[user@]host[:port][/path/to/gantry]`, or give the address',
    });
  }
  const target = parseSshUrl(entry.url);
  return { ...target, ...(entry.identity ? { identity: entry.identity } : {}) };
}
