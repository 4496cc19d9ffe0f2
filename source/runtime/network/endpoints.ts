/**
 * A container's endpoints and published ports as a start reserves them (network lock held):
 * an address on each of its networks, its interface names and MAC, and a host port for every
 * binding, with conflicts refused before anything is made.
 */
import { createHash } from 'node:crypto';
import { ConflictError, InvalidArgumentError } from '../errors.js';
import { broadcast, contains, formatIpv4, macForAddress, parseIpv4, parseSubnet } from './cidr.js';
import { chooseHostPort, clashes, conflictError, type HeldPort } from './host-ports.js';
import { allocateAddress } from './ipam.js';
import { splitPortKey, type PortBindings, type PublishedPort } from './ports.js';
import { DEFAULT_NETWORK, type EndpointLease, type NetworkConfig, type NetworkState } from './types.js';

export interface EndpointRequest {
  network: string;
  /** --network-alias values (user networks only). */
  aliases: string[];
  /** --ip: this address rather than the next free one (user networks only). */
  address?: string;
}

export interface ReserveRequest {
  id: string;
  name: string;
  hostname: string;
  /** The container's hosts file on the host (bind-mounted as its /etc/hosts). */
  hostsFile: string;
  extraHosts: string[];
  networks: EndpointRequest[];
  portBindings: PortBindings;
  publishAll: boolean;
  /** Config.ExposedPorts keys ("80/tcp"); -P publishes them. */
  exposedPorts: string[];
}

/** The host side of a container's veth on a network: 15 characters, the kernel's limit. */
export function hostInterfaceName(id: string, network: string): string {
  return `gtv${createHash('sha256').update(`${id}/${network}`).digest('hex').slice(0, 12)}`;
}

/** Addresses in use on a network, across every container in the state. */
function addressesInUse(state: NetworkState, network: string): Set<number> {
  const used = new Set<number>();
  for (const entry of Object.values(state.containers))
    for (const endpoint of entry.endpoints)
      if (endpoint.network === network) used.add(parseIpv4(endpoint.address)!);
  return used;
}

/**
 * Checks that `text` (--ip) is an address a container may have on `config`: a host address of
 * its subnet other than the gateway, on a user network (the default one hands out its own).
 */
export function checkStaticAddress(config: NetworkConfig, text: string): number {
  const subnet = parseSubnet(config.Subnet);
  const address = parseIpv4(text);
  if (config.Name === DEFAULT_NETWORK) {
    throw new InvalidArgumentError('--ip is supported only for containers on user-defined networks', {
      hint: 'make a network (`gantry network create --subnet CIDR NAME`) and use it',
    });
  }
  if (
    address === undefined ||
    !contains(subnet, address) ||
    address === subnet.address ||
    address === broadcast(subnet) ||
    address === parseIpv4(config.Gateway)
  ) {
    throw new InvalidArgumentError(
      `--ip ${text} is not an address a container can have on network ${config.Name} (${config.Subnet}, gateway ${config.Gateway})`,
      { hint: 'give a host address of the subnet other than the gateway' },
    );
  }
  return address;
}

/**
 * An endpoint on `config` for container `id`: the address asked for (--ip), else the next free
 * one (the cursor moves on).
 */
export function newEndpoint(
  state: NetworkState,
  config: NetworkConfig,
  request: { id: string; name: string; aliases: string[]; interface: string; address?: string },
): EndpointLease {
  const subnet = parseSubnet(config.Subnet);
  const gateway = parseIpv4(config.Gateway)!;
  let address: number | undefined;
  if (request.address !== undefined) {
    address = checkStaticAddress(config, request.address);
    const holder = Object.entries(state.containers).find(([, entry]) =>
      entry.endpoints.some(
        (endpoint) => endpoint.network === config.Name && endpoint.address === request.address,
      ),
    );
    if (holder) {
      throw new ConflictError(
        `address ${request.address} on network ${config.Name} is in use by container ${holder[1].name}`,
        { hint: 'give another --ip, or leave it out for the next free address' },
      );
    }
  } else {
    const cursor = state.cursors[config.Name];
    address = allocateAddress(subnet, {
      gateway,
      inUse: addressesInUse(state, config.Name),
      ...(cursor !== undefined ? { after: parseIpv4(cursor)! } : {}),
    });
    if (address === undefined) {
      throw new InvalidArgumentError(`network ${config.Name} (${config.Subnet}) has no free address left`, {
        hint: 'remove containers from it, or make a network with a larger --subnet',
      });
    }
    state.cursors[config.Name] = formatIpv4(address);
  }
  return {
    network: config.Name,
    address: formatIpv4(address),
    prefixLength: subnet.prefixLength,
    gateway: config.Gateway,
    mac: macForAddress(address),
    interface: request.interface,
    hostInterface: hostInterfaceName(request.id, config.Name),
    names: [...new Set([request.name, request.id.slice(0, 12), ...request.aliases])],
  };
}

/** Every port the request publishes, host ports chosen where none was given. */
export async function resolvePorts(
  state: NetworkState,
  request: Pick<ReserveRequest, 'id' | 'portBindings' | 'publishAll' | 'exposedPorts'>,
  ownerName: (id: string) => string,
): Promise<PublishedPort[]> {
  const held: HeldPort[] = [];
  for (const [owner, entry] of Object.entries(state.containers))
    if (owner !== request.id) for (const port of entry.ports) held.push({ ...port, owner });
  const wanted: {
    protocol: PublishedPort['protocol'];
    containerPort: number;
    hostIp: string;
    hostPort?: number;
  }[] = [];
  for (const [key, bindings] of Object.entries(request.portBindings)) {
    const parsed = splitPortKey(key);
    if (!parsed) continue;
    for (const binding of bindings) {
      wanted.push({
        protocol: parsed.protocol,
        containerPort: parsed.port,
        hostIp: binding.HostIp === '0.0.0.0' ? '' : binding.HostIp,
        ...(binding.HostPort !== '' ? { hostPort: Number(binding.HostPort) } : {}),
      });
    }
  }
  if (request.publishAll) {
    for (const key of request.exposedPorts) {
      const parsed = splitPortKey(key);
      if (parsed && !request.portBindings[key])
        wanted.push({ protocol: parsed.protocol, containerPort: parsed.port, hostIp: '' });
    }
  }
  const published: PublishedPort[] = [];
  const mine: HeldPort[] = [];
  // Explicit host ports first, so a chosen one never takes a port asked for by name.
  for (const item of wanted.filter((entry) => entry.hostPort !== undefined)) {
    const port: PublishedPort = {
      protocol: item.protocol,
      containerPort: item.containerPort,
      hostIp: item.hostIp,
      hostPort: item.hostPort!,
    };
    const clash = [...held, ...mine].find((other) => clashes(port, other));
    if (clash)
      throw conflictError(port, clash.owner === request.id ? 'itself (given twice)' : ownerName(clash.owner));
    published.push(port);
    mine.push({ ...port, owner: request.id });
  }
  for (const item of wanted.filter((entry) => entry.hostPort === undefined)) {
    const hostPort = await chooseHostPort({ protocol: item.protocol, hostIp: item.hostIp }, [
      ...held,
      ...mine,
    ]);
    const port: PublishedPort = {
      protocol: item.protocol,
      containerPort: item.containerPort,
      hostIp: item.hostIp,
      hostPort,
    };
    published.push(port);
    mine.push({ ...port, owner: request.id });
  }
  return published;
}
