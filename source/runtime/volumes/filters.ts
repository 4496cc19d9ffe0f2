/**
 * docker's volume filters: `volume ls --filter dangling=|driver=|label=|name=` and
 * `volume prune --filter label=|label!=`. Values of one key are alternatives; keys must all hold.
 */
import { InvalidArgumentError } from '../errors.js';
import type { VolumeRecord } from './store.js';

export type VolumeFilters = Map<string, string[]>;

export function parseVolumeFilters(values: readonly string[], accepted: readonly string[]): VolumeFilters {
  const filters: VolumeFilters = new Map();
  for (const value of values) {
    const match = /^([a-z]+!?)=(.*)$/.exec(value);
    if (!match || !accepted.includes(match[1]!)) {
      throw new InvalidArgumentError(`invalid filter '${value}'`, {
        hint: `accepted: ${accepted.map((key) => `${key}=VALUE`).join(', ')}`,
      });
    }
    const [, key, argument] = match as unknown as [string, string, string];
    if (key === 'dangling' && !['true', 'false', '1', '0'].includes(argument)) {
      throw new InvalidArgumentError(`invalid filter 'dangling=${argument}'`, {
        hint: 'dangling=true or dangling=false',
      });
    }
    filters.set(key, [...(filters.get(key) ?? []), argument]);
  }
  return filters;
}

function labelMatches(labels: Record<string, string>, filter: string): boolean {
  const index = filter.indexOf('=');
  if (index < 0) return Object.hasOwn(labels, filter);
  return labels[filter.slice(0, index)] === filter.slice(index + 1);
}

export function matchesVolumeFilters(volume: VolumeRecord, inUse: boolean, filters: VolumeFilters): boolean {
  for (const [key, values] of filters) {
    const ok = (() => {
      switch (key) {
        case 'dangling':
          return values.some((value) => (value === 'true' || value === '1') === !inUse);
        case 'driver':
          return values.includes(volume.Driver);
        case 'name':
          return values.some((value) => volume.Name.includes(value));
        case 'label':
          return values.every((value) => labelMatches(volume.Labels, value));
        case 'label!':
          return values.every((value) => !labelMatches(volume.Labels, value));
        default:
          return true;
      }
    })();
    if (!ok) return false;
  }
  return true;
}
