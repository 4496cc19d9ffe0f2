/**
 * What the network layer stores: a network's configuration (one file per network) and the
 * leases of the containers attached (one state file for all networks, changed only under the
 * network lock). Field names of the configuration follow docker's `network inspect`.
 */
import type { PublishedPort } from './ports.js';

export const DEFAULT_NETWORK = 'bridge';
export const DEFAULT_BRIDGE = 'gantry0';

export interface NetworkConfig {
  Name: string;
  Id: string;
  Created: string;
  Driver: 'bridge';
  /** The bridge interface on the host ("gantry0" for the default network). */
  Bridge: string;
  Subnet: string;
  Gateway: string;
  /** No route out: no masquerade, no forwarding to or from other interfaces, no published ports. */
  Internal: boolean;
  Labels: Record<string, string>;
}

/** A container's interface on one network while it runs (or while its start is under way). */
export interface EndpointLease {
  network: string;
  address: string;
  prefixLength: number;
  gateway: string;
  mac: string;
  /** The container's side of the veth pair ("eth0", "eth1", ...). */
  interface: string;
  /** The host's side, a port of the network's bridge. */
  hostInterface: string;
  /** Names this container answers to on the network: its name, short id and --network-alias. */
  names: string[];
}

/** Everything the network layer holds for one container. */
export interface ContainerNetworking {
  /** The container's name (for messages: whose port, whose address). */
  name: string;
  /** The container's own /etc/hosts entries, to rewrite it when a peer comes or goes. */
  hosts: { file: string; hostname: string; extra: string[] };
  endpoints: EndpointLease[];
  ports: PublishedPort[];
  /** True once the veths exist and the rules are in place (false while a start reserves). */
  attached: boolean;
}

export interface NetworkState {
  version: 1;
  containers: Record<string, ContainerNetworking>;
  /** Per network, the address handed out last (allocation continues after it). */
  cursors: Record<string, string>;
  /**
   * The network namespace the kernel side lives in (inode of /proc/self/ns/net) while any
   * container is attached: a gantry process in another namespace must not act on its behalf.
   */
  netns?: { dev: number; ino: number };
  /** The firewall the rules were written with while any container is attached. */
  firewall?: 'nftables' | 'iptables';
}

export function emptyState(): NetworkState {
  return { version: 1, containers: {}, cursors: {} };
}
