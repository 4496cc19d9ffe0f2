/**
 * `container prune`: every container that is not running (created, exited, dead), as docker's,
 * narrowed by `until=` (created before) and `label=`/`label!=` filters. What it frees is the
 * size of each one's writable layer, measured before it goes.
 */
import path from 'node:path';
import { InvalidArgumentError } from '../errors.js';
import { labelMatches } from '../filters.js';
import { volumeSize } from '../volumes/usage.js';
import type { Engine } from './engine.js';
import { parseSince } from './logs.js';
import type { ContainerRecord } from './record.js';

export interface ContainerPruneFilters {
  /** Created before this time. */
  until?: Date;
  /** label=KEY or label=KEY=VALUE: all must match. */
  labels: string[];
  /** label!=KEY or label!=KEY=VALUE: none may match. */
  notLabels: string[];
}

export interface ContainerPruneResult {
  deleted: string[];
  reclaimed: number;
}

/** docker's `--filter` of the prune commands: until=TIME, label=..., label!=... */
export function parsePruneFilters(filters: readonly string[], now = Date.now()): ContainerPruneFilters {
  const result: ContainerPruneFilters = { labels: [], notLabels: [] };
  for (const filter of filters) {
    const equals = filter.indexOf('=');
    const negated = equals > 0 && filter[equals - 1] === '!';
    const key = equals < 0 ? filter : filter.slice(0, negated ? equals - 1 : equals);
    const value = equals < 0 ? '' : filter.slice(equals + 1);
    if (value === '' || !['until', 'label'].includes(key) || (negated && key !== 'label')) {
      throw new InvalidArgumentError(
        `invalid filter ${JSON.stringify(filter)}: accepted are until=TIMESTAMP|DURATION, label=KEY[=VALUE] and label!=KEY[=VALUE]`,
      );
    }
    if (key === 'until') result.until = parseSince(value, now);
    else (negated ? result.notLabels : result.labels).push(value);
  }
  return result;
}

export function matchesPruneFilters(record: ContainerRecord, filters: ContainerPruneFilters): boolean {
  if (filters.until && Date.parse(record.Created) >= filters.until.getTime()) return false;
  const labels = record.Config.Labels ?? {};
  return (
    filters.labels.every((label) => labelMatches(labels, label)) &&
    !filters.notLabels.some((label) => labelMatches(labels, label))
  );
}

/** Size in bytes of a container's writable layer (walked without following its links). */
export function writableLayerSize(engine: Engine, record: ContainerRecord): number {
  return volumeSize(path.join(engine.containers.dir(record.Id), 'upper'));
}

export function isStopped(record: ContainerRecord): boolean {
  return !['running', 'paused', 'restarting'].includes(record.State.Status);
}

/** Removes every stopped container the filters match; one that fails is reported, not fatal. */
export async function pruneContainers(
  engine: Engine,
  filters: ContainerPruneFilters,
  onError: (error: unknown) => void,
): Promise<ContainerPruneResult> {
  const result: ContainerPruneResult = { deleted: [], reclaimed: 0 };
  const { records } = await engine.list({ all: true });
  for (const record of records) {
    if (!isStopped(record) || !matchesPruneFilters(record, filters)) continue;
    const size = writableLayerSize(engine, record);
    try {
      // Not forced: a container started meanwhile is refused by remove, never killed.
      await engine.remove(record.Id);
      result.deleted.push(record.Id);
      result.reclaimed += size;
    } catch (error) {
      onError(error);
    }
  }
  return result;
}
