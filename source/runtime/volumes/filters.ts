/**
 * docker's volume filters: `volume ls --filter dangling=|driver=|label=|name=` and
 * `volume prune --filter label=|label!=`. Values of one key are alternatives; keys must all hold.
 */
import { InvalidArgumentError } from '../errors.js';
import { groupFilters, labelMatches } from '../filters.js';
import type { VolumeRecord } from './store.js';

export type VolumeFilters = Map<string, string[]>;

export function parseVolumeFilters(values: readonly string[], accepted: readonly string[]): VolumeFilters {
  const filters = groupFilters(
    values,
    accepted,
    (text) =>
      new InvalidArgumentError(`invalid filter '${text}'`, {
        hint: `accepted: ${accepted.map((key) => `${key}=VALUE`).join(', ')}`,
      }),
  );
  for (const argument of filters.get('dangling') ?? []) {
    if (!['true', 'false', '1', '0'].includes(argument)) {
      throw new InvalidArgumentError(`invalid filter 'dangling=${argument}'`, {
        hint: 'dangling=true or dangling=false',
      });
    }
  }
  return filters;
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
