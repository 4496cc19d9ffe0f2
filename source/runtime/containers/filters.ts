/**
 * docker's `ps --filter KEY=VALUE`: values of one key are alternatives (labels must all hold),
 * different keys must all hold. name and id match as docker's do (a regular expression anywhere
 * in the name or id), ancestor by image name, id prefix or digest, before/since by another
 * container's creation.
 */
import { InvalidArgumentError } from '../errors.js';
import { labelMatches } from '../filters.js';
import type { ContainerRecord } from './record.js';

export const PS_FILTER_KEYS = [
  'ancestor',
  'before',
  'exited',
  'health',
  'id',
  'label',
  'name',
  'network',
  'since',
  'status',
  'volume',
] as const;

const STATUSES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];
const HEALTH = ['starting', 'healthy', 'unhealthy', 'none'];

export type PsFilters = Map<string, string[]>;

export function parsePsFilters(values: readonly string[]): PsFilters {
  const filters: PsFilters = new Map();
  for (const value of values) {
    const match = /^([a-z]+)=(.*)$/s.exec(value);
    const key = match?.[1];
    if (!match || !(PS_FILTER_KEYS as readonly string[]).includes(key!)) {
      throw new InvalidArgumentError(`invalid filter '${value}'`, {
        hint: `accepted: ${PS_FILTER_KEYS.map((name) => `${name}=VALUE`).join(', ')}`,
      });
    }
    const argument = match[2]!;
    if (key === 'status' && !STATUSES.includes(argument))
      throw new InvalidArgumentError(`invalid filter 'status=${argument}'`, {
        hint: `status is one of ${STATUSES.join(', ')}`,
      });
    if (key === 'health' && !HEALTH.includes(argument))
      throw new InvalidArgumentError(`invalid filter 'health=${argument}'`, {
        hint: `health is one of ${HEALTH.join(', ')}`,
      });
    if (key === 'exited' && !/^-?\d+$/.test(argument))
      throw new InvalidArgumentError(`invalid filter 'exited=${argument}': the exit code must be a number`);
    filters.set(key!, [...(filters.get(key!) ?? []), argument]);
  }
  return filters;
}

/** docker's Args.Match: the value as a regular expression anywhere in the text (or plain text). */
function matches(pattern: string, text: string): boolean {
  try {
    return new RegExp(pattern).test(text);
  } catch {
    return text.includes(pattern);
  }
}

/** docker's status words: a running container between restarts is "restarting". */
export function statusWord(record: ContainerRecord): string {
  if (record.State.Restarting) return 'restarting';
  return record.State.Status;
}

function healthOf(record: ContainerRecord): string {
  const health = (record.State as { Health?: { Status?: string } }).Health;
  return health?.Status ?? 'none';
}

/** "busybox" and "busybox:latest" name the same image; a digest or id prefix names one too. */
function ancestorMatches(record: ContainerRecord, reference: string): boolean {
  const withTag = (name: string) => (/:[^/]+$/.test(name) || name.includes('@') ? name : `${name}:latest`);
  if (withTag(record.ImageName) === withTag(reference)) return true;
  const id = record.Image.replace(/^sha256:/, '');
  const given = reference.replace(/^sha256:/, '');
  return /^[0-9a-f]{4,64}$/.test(given) && id.startsWith(given);
}

/**
 * The test for one container. `others` resolves before/since references (all containers, any
 * state); an unknown reference is an error, as docker's.
 */
export function psFilter(
  filters: PsFilters,
  others: readonly ContainerRecord[],
): (record: ContainerRecord) => boolean {
  const anchor = (reference: string): ContainerRecord => {
    const found =
      others.find((record) => record.Name === reference.replace(/^\//, '')) ??
      others.find((record) => record.Id === reference) ??
      others.find((record) => reference.length >= 3 && record.Id.startsWith(reference));
    if (!found) throw new InvalidArgumentError(`no such container: ${reference}`);
    return found;
  };
  const before = filters.get('before')?.map(anchor);
  const since = filters.get('since')?.map(anchor);
  return (record) => {
    for (const [key, values] of filters) {
      const ok = (() => {
        switch (key) {
          case 'name':
            return values.some((value) => matches(value, record.Name) || matches(value, `/${record.Name}`));
          case 'id':
            return values.some((value) => matches(value, record.Id));
          case 'label':
            return values.every((value) => labelMatches(record.Config.Labels ?? {}, value));
          case 'status':
            return values.includes(statusWord(record));
          case 'exited':
            return (
              record.State.Status === 'exited' &&
              values.some((value) => Number(value) === record.State.ExitCode)
            );
          case 'ancestor':
            return values.some((value) => ancestorMatches(record, value));
          case 'health':
            return values.includes(healthOf(record));
          case 'volume':
            return values.some((value) =>
              record.Mounts.some(
                (mount) => mount.Name === value || mount.Destination === value || mount.Source === value,
              ),
            );
          case 'network': {
            const networks = record.NetworkSettings ? Object.keys(record.NetworkSettings.Networks) : [];
            const mode = record.HostConfig.NetworkMode;
            return values.some(
              (value) =>
                networks.includes(value) ||
                mode === value ||
                Object.values(record.NetworkSettings?.Networks ?? {}).some(
                  (endpoint) => (endpoint as { NetworkID?: string }).NetworkID?.startsWith(value) === true,
                ),
            );
          }
          case 'before':
            return before!.every((other) => record.Created < other.Created);
          case 'since':
            return since!.every((other) => record.Created > other.Created);
          default:
            return true;
        }
      })();
      if (!ok) return false;
    }
    return true;
  };
}
