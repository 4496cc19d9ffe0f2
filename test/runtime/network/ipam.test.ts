/** Address arithmetic, allocation, and the choice of a default subnet. */
import { describe, expect, it } from 'vitest';
import {
  formatIpv4,
  macForAddress,
  overlaps,
  parseIpv4,
  parseSubnet,
} from '../../../source/runtime/network/cidr.js';
import { allocateAddress } from '../../../source/runtime/network/ipam.js';
import { chooseSubnet, routePrefixes } from '../../../source/runtime/network/subnets.js';

const ip = (text: string) => parseIpv4(text)!;

describe('cidr', () => {
  it('parses subnets and refuses host bits, IPv6 and odd prefixes with what would do', () => {
    expect(parseSubnet('10.88.0.0/16')).toEqual({ address: ip('10.88.0.0'), prefixLength: 16 });
    expect(() => parseSubnet('10.88.0.1/16')).toThrow(/host bits set/);
    expect(() => parseSubnet('10.88.0.0/16', '--subnet')).not.toThrow();
    expect(() => parseSubnet('fd00::/64')).toThrow(/IPv6 subnets are not supported/);
    expect(() => parseSubnet('10.0.0.0/31')).toThrow(/prefix from 8 to 30/);
    expect(() => parseSubnet('10.0.0/8')).toThrow(/is not an IPv4 subnet/);
    expect(() => parseSubnet('300.0.0.0/8')).toThrow(/is not an IPv4 subnet/);
  });

  it('tells overlapping subnets apart and makes docker-style MACs', () => {
    expect(overlaps(parseSubnet('10.88.0.0/16'), parseSubnet('10.88.5.0/24'))).toBe(true);
    expect(overlaps(parseSubnet('10.88.0.0/16'), parseSubnet('10.89.0.0/16'))).toBe(false);
    expect(overlaps(parseSubnet('10.0.0.0/8'), parseSubnet('10.200.0.0/16'))).toBe(true);
    expect(macForAddress(ip('172.17.0.2'))).toBe('02:42:ac:11:00:02');
  });
});

describe('allocateAddress', () => {
  const subnet = parseSubnet('10.1.2.0/29'); // hosts .1 to .6, .1 the gateway

  it('hands out the next free address after the last, skipping the gateway, and wraps', () => {
    const gateway = ip('10.1.2.1');
    expect(formatIpv4(allocateAddress(subnet, { gateway, inUse: new Set() })!)).toBe('10.1.2.2');
    expect(formatIpv4(allocateAddress(subnet, { gateway, inUse: new Set(), after: ip('10.1.2.2') })!)).toBe(
      '10.1.2.3',
    );
    // After the last host it wraps to the first free one, never the network or broadcast address.
    expect(formatIpv4(allocateAddress(subnet, { gateway, inUse: new Set(), after: ip('10.1.2.6') })!)).toBe(
      '10.1.2.2',
    );
    const used = new Set([ip('10.1.2.2'), ip('10.1.2.3'), ip('10.1.2.4'), ip('10.1.2.5')]);
    expect(formatIpv4(allocateAddress(subnet, { gateway, inUse: used })!)).toBe('10.1.2.6');
    used.add(ip('10.1.2.6'));
    expect(allocateAddress(subnet, { gateway, inUse: used })).toBeUndefined();
  });
});

describe('default subnet', () => {
  it("takes the first /16 of podman's then docker's ranges that no route or network uses", () => {
    expect(chooseSubnet([])).toEqual(parseSubnet('10.88.0.0/16'));
    expect(chooseSubnet([parseSubnet('10.88.0.0/16'), parseSubnet('10.89.3.0/24')])).toEqual(
      parseSubnet('10.90.0.0/16'),
    );
    // A VPN's 10.0.0.0/8 rules out podman's range entirely; docker's comes next.
    expect(chooseSubnet([parseSubnet('10.0.0.0/8')])).toEqual(parseSubnet('172.17.0.0/16'));
    expect(chooseSubnet([parseSubnet('10.0.0.0/8'), parseSubnet('172.16.0.0/12')])).toBeUndefined();
  });

  it('reads the prefixes of `ip -j route show table all`, not default or broadcast routes', () => {
    const json = JSON.stringify([
      { type: 'unicast', dst: 'default', gateway: '192.168.1.1' },
      { type: 'unicast', dst: '192.168.1.0/24' },
      { type: 'local', dst: '192.168.1.20' },
      { type: 'broadcast', dst: '192.168.1.255' },
      { type: 'unicast', dst: '10.88.0.0/16' },
    ]);
    expect(routePrefixes(json)).toEqual([
      parseSubnet('192.168.1.0/24'),
      { address: ip('192.168.1.20'), prefixLength: 32 },
      parseSubnet('10.88.0.0/16'),
    ]);
    expect(routePrefixes('not json')).toEqual([]);
  });
});
