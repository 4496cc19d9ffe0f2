/**
 * Which subnet a network gets when none is given: the first /16 of podman's usual range
 * (10.88.0.0/16 upward) and then docker's (172.17.0.0/16 upward) that overlaps neither a route of
 * the host (any routing table, so a VPN's or a policy route's prefixes count) nor another gantry
 * network. Pure but for reading the routes.
 */
import { formatSubnet, overlaps, parseIpv4, type Ipv4Subnet } from './cidr.js';

export const SUBNET_CANDIDATES: readonly Ipv4Subnet[] = [
  ...Array.from({ length: 12 }, (_, index) => ({
    address: ((10 << 24) | ((88 + index) << 16)) >>> 0,
    prefixLength: 16,
  })),
  ...Array.from({ length: 15 }, (_, index) => ({
    address: ((172 << 24) | ((17 + index) << 16)) >>> 0,
    prefixLength: 16,
  })),
];

export function chooseSubnet(taken: readonly Ipv4Subnet[]): Ipv4Subnet | undefined {
  return SUBNET_CANDIDATES.find((candidate) => !taken.some((used) => overlaps(candidate, used)));
}

export function describeCandidates(): string {
  const first = SUBNET_CANDIDATES[0]!;
  const last = SUBNET_CANDIDATES.at(-1)!;
  return `${formatSubnet(first)} … ${formatSubnet(last)}`;
}

/**
 * The prefixes of `ip -j -4 route show table all`: every route but the default ones (which
 * would overlap everything) and multicast/broadcast entries of the local table.
 */
export function routePrefixes(json: string): Ipv4Subnet[] {
  let routes: { dst?: string; type?: string }[];
  try {
    routes = JSON.parse(json) as { dst?: string; type?: string }[];
  } catch {
    return [];
  }
  const prefixes: Ipv4Subnet[] = [];
  for (const route of Array.isArray(routes) ? routes : []) {
    if (!route.dst || route.dst === 'default' || route.type === 'broadcast' || route.type === 'multicast')
      continue;
    const [addressText, lengthText] = route.dst.split('/');
    const address = parseIpv4(addressText ?? '');
    if (address === undefined) continue;
    const prefixLength = lengthText === undefined ? 32 : Number(lengthText);
    if (!(prefixLength >= 1 && prefixLength <= 32)) continue;
    prefixes.push({ address, prefixLength });
  }
  return prefixes;
}
