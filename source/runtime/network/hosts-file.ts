/**
 * Name resolution between containers: every container on a user network finds its peers, by
 * container name, short id and --network-alias, in its own /etc/hosts, which the network layer
 * keeps current as containers come and go (see README.md for why /etc/hosts rather than a DNS
 * responder). The file is bind-mounted into the container, so it is rewritten in place: a new
 * file renamed over it would leave the mount on the old one.
 */
import fs from 'node:fs';
import { hasCode, InvalidArgumentError } from '../errors.js';
import { parseIpv4 } from './cidr.js';
import { DEFAULT_NETWORK, type ContainerNetworking, type NetworkState } from './types.js';

const STANDARD_LINES = [
  '127.0.0.1\tlocalhost',
  '::1\tlocalhost ip6-localhost ip6-loopback',
  'fe00::0\tip6-localnet',
  'ff00::0\tip6-mcastprefix',
  'ff02::1\tip6-allnodes',
  'ff02::2\tip6-allrouters',
];

/**
 * `--add-host NAME:IP` (docker also takes NAME=IP) as a hosts line; "host-gateway" stands for
 * the gateway of the container's first network, as docker's does for the host.
 */
export function parseExtraHost(text: string): { name: string; address: string } {
  const separator = /^[^:=]+[=:]/.exec(text);
  const name = separator ? separator[0].slice(0, -1) : '';
  const address = separator ? text.slice(separator[0].length) : '';
  if (!/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(name) || address === '') {
    throw new InvalidArgumentError(`--add-host ${JSON.stringify(text)}: expected NAME:IP`, {
      hint: 'e.g. --add-host db.local:10.0.0.5 or --add-host gw:host-gateway',
    });
  }
  if (address !== 'host-gateway' && parseIpv4(address) === undefined && !/^[0-9a-fA-F:]+$/.test(address)) {
    throw new InvalidArgumentError(`--add-host ${text}: ${JSON.stringify(address)} is not an IP address`, {
      hint: 'give an IPv4 or IPv6 address, or host-gateway',
    });
  }
  return { name, address };
}

/** The lines --add-host gives, "host-gateway" resolved (dropped when there is no gateway). */
export function extraHostLines(extra: readonly string[], gateway: string | undefined): string[] {
  const lines: string[] = [];
  for (const text of extra) {
    const { name, address } = parseExtraHost(text);
    const resolved = address === 'host-gateway' ? gateway : address;
    if (resolved) lines.push(`${resolved}\t${name}`);
  }
  return lines;
}

/** A host name as docker lists it: a fully qualified one also by its first label. */
function hostNames(hostname: string): string {
  const dot = hostname.indexOf('.');
  return dot > 0 ? `${hostname} ${hostname.slice(0, dot)}` : hostname;
}

/** /etc/hosts of a container without an address of its own (none, or a bridge-less start). */
export function isolatedHosts(hostname: string, extra: readonly string[]): string {
  return [
    ...STANDARD_LINES,
    ...extraHostLines(extra, undefined),
    `127.0.1.1\t${hostNames(hostname)}`,
    '',
  ].join('\n');
}

/**
 * /etc/hosts of a networked container: the standard lines, --add-host, its own address with its
 * host name, then its peers on every user network it shares with them (docker resolves no names
 * on the default bridge, and neither does gantry).
 */
export function networkedHosts(state: NetworkState, id: string): string {
  const own = state.containers[id];
  if (!own) return '';
  const first = own.endpoints[0];
  const lines = [...STANDARD_LINES, ...extraHostLines(own.hosts.extra, first?.gateway)];
  if (first) lines.push(`${first.address}\t${hostNames(own.hosts.hostname)}`);
  const seen = new Set<string>();
  for (const endpoint of own.endpoints) {
    if (endpoint.network === DEFAULT_NETWORK) continue;
    for (const [peerId, peer] of Object.entries(state.containers)) {
      if (peerId === id) continue;
      for (const theirs of peer.endpoints) {
        if (theirs.network !== endpoint.network || seen.has(theirs.address)) continue;
        seen.add(theirs.address);
        lines.push(`${theirs.address}\t${theirs.names.join(' ')}`);
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

/** The containers whose /etc/hosts lists a peer on one of `networks` (user networks only). */
export function containersOnNetworks(state: NetworkState, networks: ReadonlySet<string>): string[] {
  return Object.entries(state.containers)
    .filter(([, entry]: [string, ContainerNetworking]) =>
      entry.endpoints.some(
        (endpoint) => endpoint.network !== DEFAULT_NETWORK && networks.has(endpoint.network),
      ),
    )
    .map(([id]) => id);
}

/**
 * Rewrites a container's hosts file in place (write, then cut to length). Never follows a
 * symlink; a container whose directory is gone has nothing to update.
 */
export function rewriteInPlace(file: string, text: string): void {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_NOFOLLOW);
  } catch (error) {
    if (hasCode(error, 'ENOENT') || hasCode(error, 'ELOOP')) return;
    throw error;
  }
  try {
    const data = Buffer.from(text);
    fs.writeSync(fd, data, 0, data.length, 0);
    fs.ftruncateSync(fd, data.length);
  } finally {
    fs.closeSync(fd);
  }
}
