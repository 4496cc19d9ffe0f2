/**
 * Registry credentials, in the containers-auth.json(5) format that podman, buildah and skopeo
 * use (`{"auths": {"registry:port": {"auth": base64("user:password")}}}`), so one file serves all
 * of them.
 *
 * Where (the same rules as podman):
 * - `--authfile FILE`, else $REGISTRY_AUTH_FILE: the only file read and written;
 * - otherwise `<state root>/auth.json` (mode 0600), and as a read-only fallback
 *   ~/.docker/config.json (its plain "auth" entries; credential helpers are not run).
 */
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CorruptStateError, hasCode, InvalidArgumentError } from '../../errors.js';
import { atomicWriteFile } from '../../fsutil.js';
import { DEFAULT_REGISTRY } from '../reference.js';

export interface Credentials {
  username: string;
  password: string;
}

export interface AuthFileLocation {
  /** The file login writes and logout edits. */
  writable: string;
  /** Files read when looking credentials up, first match wins. */
  readable: string[];
}

interface AuthFileContent {
  auths?: Record<string, { auth?: string; username?: string; password?: string; [key: string]: unknown }>;
  [key: string]: unknown;
}

/** Keys Docker uses for Docker Hub in its config.json. */
const DOCKER_HUB_KEYS = ['https://index.docker.io/v1/', 'index.docker.io', 'registry-1.docker.io'];

export function authFileLocation(
  stateRoot: string,
  explicit?: string,
  env: NodeJS.ProcessEnv = process.env,
): AuthFileLocation {
  const chosen = explicit ?? (env.REGISTRY_AUTH_FILE || undefined);
  if (chosen !== undefined) return { writable: path.resolve(chosen), readable: [path.resolve(chosen)] };
  const own = path.join(stateRoot, 'auth.json');
  const home = env.HOME || os.homedir();
  const dockerConfig = path.join(env.DOCKER_CONFIG || path.join(home, '.docker'), 'config.json');
  return { writable: own, readable: [own, dockerConfig] };
}

/** "registry:port" as auth files key it: no scheme, no path; Docker Hub's aliases folded. */
export function normalizeServer(server: string): string {
  let value = server.trim();
  if (value === '') {
    throw new InvalidArgumentError('the registry server name is empty', {
      hint: 'give a registry host with an optional port, e.g. localhost:5000',
    });
  }
  value = value.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
  if (DOCKER_HUB_KEYS.some((key) => key.replace(/^https:\/\//, '').replace(/\/.*$/, '') === value)) {
    return DEFAULT_REGISTRY;
  }
  if (!/^[A-Za-z0-9.-]+(:[0-9]+)?$|^\[[0-9A-Fa-f:]+\](:[0-9]+)?$/.test(value)) {
    throw new InvalidArgumentError(`"${server}" is not a registry host[:port]`, {
      hint: 'give a registry host with an optional port, e.g. localhost:5000 or registry.example.com',
    });
  }
  return value.toLowerCase();
}

async function readAuthFile(file: string): Promise<AuthFileContent | undefined> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (error) {
    if (hasCode(error, 'ENOENT')) return undefined;
    throw error;
  }
  if (text.trim() === '') return {};
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
    return value as AuthFileContent;
  } catch (error) {
    throw new CorruptStateError(`the auth file ${file} is not valid JSON: ${(error as Error).message}`, {
      cause: error,
      hint: 'fix or remove the file, then log in again',
    });
  }
}

function decodeEntry(
  entry: NonNullable<AuthFileContent['auths']>[string],
  file: string,
  key: string,
): Credentials | undefined {
  if (typeof entry.auth === 'string' && entry.auth !== '') {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) {
      throw new CorruptStateError(
        `the auth file ${file}: the entry for ${key} is not base64("user:password")`,
        {
          hint: `log in again: gantry login ${key}`,
        },
      );
    }
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (typeof entry.username === 'string' && typeof entry.password === 'string') {
    return { username: entry.username, password: entry.password };
  }
  return undefined;
}

function findEntry(content: AuthFileContent, server: string): string | undefined {
  const auths = content.auths ?? {};
  for (const key of Object.keys(auths)) {
    let normalized: string;
    try {
      normalized = normalizeServer(key);
    } catch {
      continue;
    }
    if (normalized === server) return key;
  }
  return undefined;
}

/** Credentials stored for `server`, or undefined. */
export async function lookupCredentials(
  location: AuthFileLocation,
  server: string,
): Promise<Credentials | undefined> {
  const wanted = normalizeServer(server);
  for (const file of location.readable) {
    const content = await readAuthFile(file);
    if (!content) continue;
    const key = findEntry(content, wanted);
    if (key === undefined) continue;
    const credentials = decodeEntry(content.auths![key]!, file, key);
    if (credentials) return credentials;
  }
  return undefined;
}

/** Stores credentials for `server` in the writable file (created 0600; other entries kept). */
export async function storeCredentials(
  location: AuthFileLocation,
  server: string,
  credentials: Credentials,
): Promise<void> {
  const key = normalizeServer(server);
  const content = (await readAuthFile(location.writable)) ?? {};
  const auths = { ...content.auths };
  const existing = findEntry(content, key);
  if (existing !== undefined) delete auths[existing];
  auths[key] = { auth: Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64') };
  await fsp.mkdir(path.dirname(location.writable), { recursive: true, mode: 0o700 });
  await atomicWriteFile(location.writable, `${JSON.stringify({ ...content, auths }, null, 2)}\n`, 0o600);
}

/**
 * Removes the entry for `server` (every entry when `server` is undefined) from the writable file.
 * Returns the servers removed.
 */
export async function removeCredentials(
  location: AuthFileLocation,
  server: string | undefined,
): Promise<string[]> {
  const content = await readAuthFile(location.writable);
  if (!content?.auths) return [];
  const auths = { ...content.auths };
  let removed: string[];
  if (server === undefined) {
    removed = Object.keys(auths);
    for (const key of removed) delete auths[key];
  } else {
    const key = findEntry(content, normalizeServer(server));
    if (key === undefined) return [];
    delete auths[key];
    removed = [key];
  }
  await atomicWriteFile(location.writable, `${JSON.stringify({ ...content, auths }, null, 2)}\n`, 0o600);
  return removed;
}
