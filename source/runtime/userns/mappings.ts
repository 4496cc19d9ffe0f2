/**
 * User namespace settings of a container: podman's `--userns` modes and `--uidmap`/`--gidmap`
 * ranges, parsed and checked before anything exists, and the mappings in the forms the record
 * (podman's inspect strings "CONTAINER:HOST:SIZE") and the OCI spec (objects) use.
 */
import { InvalidArgumentError } from '../errors.js';

export interface IdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

/** What a container's user namespace is, as asked for at create. */
export type UsernsRequest =
  | { mode: 'host' }
  /** Ranges of the `gantry` entry of /etc/subuid and /etc/subgid, none shared with another container. */
  | { mode: 'auto'; size: number }
  /** The caller's uid and gid map to themselves; the rest of 0..65535 comes from an `auto` range. */
  | { mode: 'keep-id'; uid: number; gid: number }
  /** --uidmap / --gidmap as given. */
  | { mode: 'private'; uidMap: IdMapping[]; gidMap: IdMapping[] };

/** The size of an `auto` range unless `auto:size=N` says otherwise: every 16-bit id. */
export const DEFAULT_AUTO_SIZE = 65536;
const MAX_ID = 2 ** 32 - 1;

/** "CONTAINER:HOST:SIZE" (podman's --uidmap and its inspect form). */
export function parseIdMapping(text: string, flag: string): IdMapping {
  const match = /^(\d+):(\d+):(\d+)$/.exec(text);
  const [containerID, hostID, size] = match ? match.slice(1).map(Number) : [];
  if (containerID === undefined || hostID === undefined || size === undefined) {
    throw new InvalidArgumentError(
      `${flag} ${JSON.stringify(text)}: expected CONTAINER:HOST:SIZE (three numbers)`,
      {
        hint: `e.g. ${flag} 0:100000:65536 maps the container's ids 0..65535 to the host's 100000..165535`,
      },
    );
  }
  if (size < 1 || containerID + size > MAX_ID || hostID + size > MAX_ID) {
    throw new InvalidArgumentError(
      `${flag} ${JSON.stringify(text)}: the size must be at least 1 and both ranges must end below ${MAX_ID}`,
    );
  }
  return { containerID, hostID, size };
}

export function formatIdMapping(mapping: IdMapping): string {
  return `${mapping.containerID}:${mapping.hostID}:${mapping.size}`;
}

function checkNoOverlap(mappings: readonly IdMapping[], flag: string): void {
  for (const key of ['containerID', 'hostID'] as const) {
    const sorted = [...mappings].sort((a, b) => a[key] - b[key]);
    for (let i = 1; i < sorted.length; i++) {
      const previous = sorted[i - 1]!;
      if (previous[key] + previous.size > sorted[i]![key]) {
        throw new InvalidArgumentError(
          `${flag}: ${formatIdMapping(previous)} and ${formatIdMapping(sorted[i]!)} overlap on the ${key === 'hostID' ? 'host' : 'container'} side`,
          { hint: 'each id may be mapped once' },
        );
      }
    }
  }
  if (mappings.length > 340)
    throw new InvalidArgumentError(`${flag}: at most 340 ranges (the kernel's limit)`);
}

/**
 * `--userns` (host, auto[:size=N], keep-id; "" is host) with `--uidmap`/`--gidmap`. A --uidmap
 * alone maps the gids the same way, as podman does.
 */
export function parseUserns(
  userns: string | undefined,
  uidmap: readonly string[],
  gidmap: readonly string[],
  caller: { uid: number; gid: number } = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 },
): UsernsRequest {
  if (uidmap.length > 0 || gidmap.length > 0) {
    if (userns !== undefined && userns !== '' && userns !== 'private') {
      throw new InvalidArgumentError(`--userns=${userns} cannot be combined with --uidmap/--gidmap`, {
        hint: '--uidmap/--gidmap give the mapping themselves; leave --userns out',
      });
    }
    const uidMap = uidmap.map((text) => parseIdMapping(text, '--uidmap'));
    const gidMap = gidmap.length > 0 ? gidmap.map((text) => parseIdMapping(text, '--gidmap')) : uidMap;
    if (uidMap.length === 0)
      throw new InvalidArgumentError('--gidmap needs a --uidmap too', {
        hint: 'give both, e.g. --uidmap 0:100000:65536',
      });
    checkNoOverlap(uidMap, '--uidmap');
    checkNoOverlap(gidMap, '--gidmap');
    return { mode: 'private', uidMap, gidMap };
  }
  if (userns === undefined || userns === '' || userns === 'host') return { mode: 'host' };
  if (userns === 'keep-id') return { mode: 'keep-id', uid: caller.uid, gid: caller.gid };
  const auto = /^auto(?::size=(\d+))?$/.exec(userns);
  if (auto) {
    const size = auto[1] === undefined ? DEFAULT_AUTO_SIZE : Number(auto[1]);
    if (size < 1 || size > 16 * DEFAULT_AUTO_SIZE)
      throw new InvalidArgumentError(
        `--userns=${userns}: the size must be between 1 and ${16 * DEFAULT_AUTO_SIZE}`,
      );
    return { mode: 'auto', size };
  }
  throw new InvalidArgumentError(`invalid --userns ${JSON.stringify(userns)}`, {
    hint: 'accepted: host, auto, auto:size=N, keep-id (or --uidmap/--gidmap)',
  });
}

/**
 * The mapping of a range the engine allocated: `auto` maps 0.. onto it; `keep-id` maps the
 * caller's id to itself and the container's other ids around it onto the range (so the range is
 * one id smaller than the container's id space).
 */
export function mappingFor(request: UsernsRequest, kind: 'uid' | 'gid', rangeStart: number): IdMapping[] {
  if (request.mode === 'auto') return [{ containerID: 0, hostID: rangeStart, size: request.size }];
  if (request.mode !== 'keep-id') return [];
  const own = kind === 'uid' ? request.uid : request.gid;
  const maps: IdMapping[] = [];
  if (own > 0) maps.push({ containerID: 0, hostID: rangeStart, size: Math.min(own, DEFAULT_AUTO_SIZE - 1) });
  maps.push({ containerID: own, hostID: own, size: 1 });
  const after = DEFAULT_AUTO_SIZE - 1 - Math.min(own, DEFAULT_AUTO_SIZE - 1);
  if (after > 0)
    maps.push({
      containerID: own + 1,
      hostID: rangeStart + Math.min(own, DEFAULT_AUTO_SIZE - 1),
      size: after,
    });
  return maps;
}

/** How many ids of the engine's range a request takes (none for host and --uidmap). */
export function allocationSize(request: UsernsRequest): number {
  if (request.mode === 'auto') return request.size;
  if (request.mode === 'keep-id') return DEFAULT_AUTO_SIZE - 1;
  return 0;
}

/** The host id the container's id `id` is, or undefined when it is not mapped. */
export function hostIdOf(mappings: readonly IdMapping[], id: number): number | undefined {
  const range = mappings.find((m) => id >= m.containerID && id < m.containerID + m.size);
  return range === undefined ? undefined : range.hostID + (id - range.containerID);
}

/** The container's id that host id `id` is, or undefined when it is not mapped. */
export function containerIdOf(mappings: readonly IdMapping[], id: number): number | undefined {
  const range = mappings.find((m) => id >= m.hostID && id < m.hostID + m.size);
  return range === undefined ? undefined : range.containerID + (id - range.hostID);
}
