/**
 * Rows of several hosts in one table: a container (or an image) is keyed by its id on its host.
 * This machine's keep their bare id (one host is the TUI as it always was); another host's are
 * `ID@HOST`, HOST being the name the TUI shows for it (a connection's name, or its address).
 * Container ids are hex and image ids `sha256:` and hex, so the first "@" always ends the id.
 */

export const LOCAL_HOST = 'local';

export function containerKey(host: string, id: string): string {
  return host === LOCAL_HOST ? id : `${id}@${host}`;
}

export function splitKey(key: string): { host: string; id: string } {
  const at = key.indexOf('@');
  return at < 0 ? { host: LOCAL_HOST, id: key } : { host: key.slice(at + 1), id: key.slice(0, at) };
}

/** The container's id on its own host (what `gantry --host H inspect` prints). */
export function realId(key: string): string {
  return splitKey(key).id;
}

export function hostOf(key: string): string {
  return splitKey(key).host;
}

/** How a host is doing, as the header and the HOST column say it. */
export interface HostStatus {
  name: string;
  state: 'connecting' | 'up' | 'unreachable';
  /** Why it is unreachable (ssh's words). */
  error?: string;
  /** When the next attempt to reconnect is made (ms since epoch). */
  retryAt?: number;
  /** How long the back-off waits before that attempt. */
  retryInMs?: number;
}
