/**
 * Network configurations: the default `bridge` network (bridge gantry0) made on first use, user
 * networks made by `network create` with docker's --subnet, --gateway, --internal, --label. Every
 * value is checked before anything is written. Pure but for reading the host's routes.
 */
import { randomBytes } from 'node:crypto';
import { ConflictError, InvalidArgumentError } from '../errors.js';
import {
  broadcast,
  contains,
  firstHost,
  formatIpv4,
  formatSubnet,
  overlaps,
  parseIpv4,
  parseSubnet,
  type Ipv4Subnet,
} from './cidr.js';
import { chooseSubnet, describeCandidates, routePrefixes } from './subnets.js';
import { ipJson } from './tools.js';
import { DEFAULT_BRIDGE, DEFAULT_NETWORK, type NetworkConfig } from './types.js';

/** Names that are network modes, or files of the store, rather than networks. */
const RESERVED = new Set(['none', 'host', 'default', 'state', 'container', 'private']);

export function validateNetworkName(name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(name)) {
    throw new InvalidArgumentError(`invalid network name ${JSON.stringify(name)}`, {
      hint: 'use letters, digits, "_", "." and "-", starting with a letter or digit, at most 63 characters',
    });
  }
  if (RESERVED.has(name)) {
    throw new InvalidArgumentError(
      `${JSON.stringify(name)} is a network mode, not a name a network can have`,
      {
        hint: 'pick another name',
      },
    );
  }
  return name;
}

/** The host's IPv4 route prefixes, every table (a subnet must not shadow any of them). */
export async function hostRoutePrefixes(): Promise<Ipv4Subnet[]> {
  const routes = await ipJson<unknown[]>(['-4', 'route', 'show', 'table', 'all'], 'read the host routes');
  return routePrefixes(JSON.stringify(routes));
}

function takenSubnets(configs: ReadonlyMap<string, NetworkConfig>): { name: string; subnet: Ipv4Subnet }[] {
  return [...configs.values()].map((config) => ({ name: config.Name, subnet: parseSubnet(config.Subnet) }));
}

export function nextBridgeName(configs: ReadonlyMap<string, NetworkConfig>): string {
  const used = new Set([...configs.values()].map((config) => config.Bridge));
  for (let index = 1; ; index++) if (!used.has(`gantry${index}`)) return `gantry${index}`;
}

export interface CreateNetworkOptions {
  name: string;
  subnet?: string;
  gateway?: string;
  internal?: boolean;
  labels?: Record<string, string>;
}

/** A new network's configuration (nothing written): its subnet given, or the next free one. */
export async function newNetworkConfig(
  options: CreateNetworkOptions,
  configs: ReadonlyMap<string, NetworkConfig>,
  routes: () => Promise<Ipv4Subnet[]> = hostRoutePrefixes,
): Promise<NetworkConfig> {
  const isDefault = options.name === DEFAULT_NETWORK && !configs.has(DEFAULT_NETWORK);
  if (!isDefault) validateNetworkName(options.name);
  if (configs.has(options.name)) {
    throw new ConflictError(`network with name ${options.name} already exists`, {
      hint: 'pick another name, or remove that network first (`gantry network rm`)',
    });
  }
  if (options.gateway !== undefined && options.subnet === undefined) {
    throw new InvalidArgumentError('--gateway needs --subnet', { hint: 'give the subnet the gateway is in' });
  }
  const taken = takenSubnets(configs);
  let subnet: Ipv4Subnet;
  if (options.subnet !== undefined) {
    subnet = parseSubnet(options.subnet);
    const clash = taken.find((other) => overlaps(other.subnet, subnet));
    if (clash) {
      throw new ConflictError(
        `--subnet ${options.subnet} overlaps network ${clash.name} (${formatSubnet(clash.subnet)})`,
        {
          hint: 'pick a subnet no other gantry network uses',
        },
      );
    }
  } else {
    const free = chooseSubnet([...(await routes()), ...taken.map((other) => other.subnet)]);
    if (!free) {
      throw new ConflictError(
        `no free subnet among ${describeCandidates()}: the host's routes and other networks use them all`,
        {
          hint: 'give one with --subnet',
        },
      );
    }
    subnet = free;
  }
  let gateway = firstHost(subnet);
  if (options.gateway !== undefined) {
    const given = parseIpv4(options.gateway);
    if (
      given === undefined ||
      !contains(subnet, given) ||
      given === subnet.address ||
      given === broadcast(subnet)
    ) {
      throw new InvalidArgumentError(
        `--gateway ${options.gateway} is not a host address of ${formatSubnet(subnet)}`,
        {
          hint: `e.g. ${formatIpv4(firstHost(subnet))}`,
        },
      );
    }
    gateway = given;
  }
  return {
    Name: options.name,
    Id: randomBytes(32).toString('hex'),
    Created: new Date().toISOString(),
    Driver: 'bridge',
    Bridge: isDefault ? DEFAULT_BRIDGE : nextBridgeName(configs),
    Subnet: formatSubnet(subnet),
    Gateway: formatIpv4(gateway),
    Internal: options.internal ?? false,
    Labels: options.labels ?? {},
  };
}
