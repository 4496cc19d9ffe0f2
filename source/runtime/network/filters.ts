/**
 * docker's `--filter` for `network ls` (driver, id, label, name, scope, type, dangling) and
 * `network prune` (label, label!=, until): values of one key match if any matches (label!= if
 * none of the labels is there), keys must all match. An unknown key or a value that means nothing is refused with what is accepted.
 */
import { InvalidArgumentError } from '../errors.js';
import { groupFilters, labelMatches } from '../filters.js';
import { DEFAULT_NETWORK, type NetworkConfig } from './types.js';

export type NetworkFilterUse = 'ls' | 'prune';

const KEYS: Record<NetworkFilterUse, readonly string[]> = {
  ls: ['driver', 'id', 'label', 'name', 'scope', 'type', 'dangling'],
  prune: ['label', 'label!', 'until'],
};

/** A network and whether any container (running or not) names it. */
export interface FilterSubject {
  config: NetworkConfig;
  inUse: boolean;
}

type Test = (subject: FilterSubject) => boolean;

function invalid(text: string, why: string, use: NetworkFilterUse): InvalidArgumentError {
  return new InvalidArgumentError(`invalid filter ${JSON.stringify(text)}: ${why}`, {
    hint: `accepted by network ${use}: ${KEYS[use].map((key) => `${key}=VALUE`).join(', ')}`,
  });
}

function labelTest(value: string): Test {
  return ({ config }) => labelMatches(config.Labels, value);
}

/** `until`: a Go-style duration before now (90m, 24h, 1h30m) or a timestamp (RFC 3339, Unix). */
export function untilTime(value: string, now: number = Date.now()): number | undefined {
  const duration = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(value);
  if (duration && value !== '') {
    const [, hours = '0', minutes = '0', seconds = '0'] = duration;
    return now - ((Number(hours) * 60 + Number(minutes)) * 60 + Number(seconds)) * 1000;
  }
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const parsed = Date.parse(value);
  return Number.isNaN(parsed) ? undefined : parsed;
}

function keyTest(key: string, value: string, text: string, use: NetworkFilterUse, now: number): Test {
  switch (key) {
    case 'driver':
      return ({ config }) => config.Driver === value;
    case 'id':
      return ({ config }) => config.Id.startsWith(value);
    case 'name':
      return ({ config }) => config.Name.includes(value);
    case 'scope':
      return () => value === 'local';
    case 'label':
      return labelTest(value);
    case 'label!': {
      const test = labelTest(value);
      return (subject) => !test(subject);
    }
    case 'type':
      if (value !== 'custom' && value !== 'builtin') throw invalid(text, 'type is custom or builtin', use);
      return ({ config }) => (config.Name === DEFAULT_NETWORK) === (value === 'builtin');
    case 'dangling':
      if (!['true', 'false', '1', '0'].includes(value)) throw invalid(text, 'dangling is true or false', use);
      return ({ inUse }) => inUse !== (value === 'true' || value === '1');
    case 'until': {
      const time = untilTime(value, now);
      if (time === undefined)
        throw invalid(text, 'until is a duration (24h, 90m) or a timestamp (2026-12-01T00:00:00Z)', use);
      return ({ config }) => Date.parse(config.Created) < time;
    }
  }
  throw invalid(text, `unknown key ${JSON.stringify(key)}`, use);
}

/** A predicate for `--filter` values; an empty list matches every network. */
export function networkFilter(
  filters: readonly string[],
  use: NetworkFilterUse,
  now: number = Date.now(),
): (subject: FilterSubject) => boolean {
  const byKey = new Map<string, Test[]>();
  const grouped = groupFilters(filters, KEYS[use], (text, key) =>
    invalid(text, key ? `unknown key ${JSON.stringify(key)}` : 'expected KEY=VALUE', use),
  );
  for (const [key, values] of grouped) {
    byKey.set(
      key,
      values.map((value) => keyTest(key, value, `${key}=${value}`, use, now)),
    );
  }
  // label!= excludes a network that has any of the labels; other keys take any of their values.
  return (subject) =>
    [...byKey.entries()].every(([key, tests]) =>
      key === 'label!' ? tests.every((test) => test(subject)) : tests.some((test) => test(subject)),
    );
}
