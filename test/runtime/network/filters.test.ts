/** `network ls` and `network prune` filters: docker's keys, how values combine, bad input. */
import { describe, expect, it } from 'vitest';
import { networkFilter, untilTime } from '../../../source/runtime/network/filters.js';
import type { NetworkConfig } from '../../../source/runtime/network/types.js';

function network(name: string, created: string, labels: Record<string, string> = {}): NetworkConfig {
  return {
    Name: name,
    Id: `${name[0]!.repeat(12)}${'0'.repeat(52)}`,
    Created: created,
    Driver: 'bridge',
    Bridge: 'gantry1',
    Subnet: '10.89.0.0/16',
    Gateway: '10.89.0.1',
    Internal: false,
    Labels: labels,
  };
}

const now = Date.parse('2026-12-06T12:00:00Z');
const subjects = [
  { config: network('bridge', '2026-12-01T00:00:00Z'), inUse: true },
  { config: network('apps', '2026-12-06T11:30:00Z', { team: 'web', tier: 'front' }), inUse: false },
  { config: network('backend', '2026-12-05T00:00:00Z', { team: 'db' }), inUse: true },
];
const names = (filters: string[], use: 'ls' | 'prune' = 'ls') => {
  const matches = networkFilter(filters, use, now);
  return subjects.filter((subject) => matches(subject)).map((subject) => subject.config.Name);
};

describe('network filters', () => {
  it("matches docker's ls keys: values of one key OR, keys AND", () => {
    expect(names([])).toEqual(['bridge', 'apps', 'backend']);
    expect(names(['name=ap'])).toEqual(['apps']);
    expect(names(['name=apps', 'name=backend'])).toEqual(['apps', 'backend']);
    expect(names(['label=team'])).toEqual(['apps', 'backend']);
    expect(names(['label=team=db'])).toEqual(['backend']);
    expect(names(['label=team', 'name=apps'])).toEqual(['apps']);
    expect(names(['type=builtin'])).toEqual(['bridge']);
    expect(names(['type=custom'])).toEqual(['apps', 'backend']);
    expect(names(['dangling=true'])).toEqual(['apps']);
    expect(names(['id=bbbb'])).toEqual(['bridge', 'backend']);
    expect(names(['driver=macvlan'])).toEqual([]);
  });

  it("matches prune's until and label!=", () => {
    expect(names(['until=1h'], 'prune')).toEqual(['bridge', 'backend']);
    expect(names(['until=2026-12-04T00:00:00Z'], 'prune')).toEqual(['bridge']);
    expect(names(['label!=team'], 'prune')).toEqual(['bridge']);
    expect(names(['label!=team=db', 'label!=tier'], 'prune')).toEqual(['bridge']);
    expect(names(['label!=team=db'], 'prune')).toEqual(['bridge', 'apps']);
    expect(untilTime('1h30m', now)).toBe(now - 90 * 60_000);
    expect(untilTime('1733400000', now)).toBe(1_733_400_000_000);
  });

  it('refuses unknown keys and values that mean nothing, saying what is accepted', () => {
    expect(() => names(['colour=red'])).toThrow(/invalid filter "colour=red": unknown key "colour"/);
    expect(() => names(['name'])).toThrow(/expected KEY=VALUE/);
    expect(() => names(['type=overlay'])).toThrow(/type is custom or builtin/);
    expect(() => names(['until=1h'])).toThrow(/unknown key "until"/);
    expect(() => names(['until=soon'], 'prune')).toThrow(/until is a duration/);
    try {
      names(['dangling=maybe']);
    } catch (error) {
      expect((error as { hint?: string }).hint).toContain('accepted by network ls: driver=VALUE');
    }
    expect(() => names(['dangling=maybe'])).toThrow(/dangling is true or false/);
  });
});
