/**
 * The firewall rules gantry wants, as data: computed from the network state alone (the policy
 * lives here, once), then rendered by the nftables or the iptables backend and applied whole, in
 * one transaction. Rules are never edited one by one, so there is no rule a crash could orphan:
 * the next change (or sweep) writes the set that matches the state.
 */
import { formatSubnet, parseSubnet } from '../cidr.js';
import type { PortProtocol } from '../ports.js';
import type { NetworkConfig, NetworkState } from '../types.js';

export interface BridgeRule {
  bridge: string;
  subnet: string;
  internal: boolean;
}

export interface DnatRule {
  /** The container the rule belongs to (its full id, carried as the rule's comment). */
  owner: string;
  protocol: PortProtocol;
  /** "" matches every local address. */
  hostIp: string;
  hostPort: number;
  address: string;
  containerPort: number;
}

export interface FirewallModel {
  bridges: BridgeRule[];
  dnat: DnatRule[];
}

/** Networks with at least one container on them; their bridges exist, the others do not. */
export function activeNetworks(state: NetworkState): Set<string> {
  const active = new Set<string>();
  for (const entry of Object.values(state.containers))
    for (const endpoint of entry.endpoints) active.add(endpoint.network);
  return active;
}

export function firewallModel(
  state: NetworkState,
  configs: ReadonlyMap<string, NetworkConfig>,
): FirewallModel {
  const bridges: BridgeRule[] = [];
  for (const name of [...activeNetworks(state)].sort()) {
    const config = configs.get(name);
    if (!config) continue;
    bridges.push({
      bridge: config.Bridge,
      subnet: formatSubnet(parseSubnet(config.Subnet)),
      internal: config.Internal,
    });
  }
  const dnat: DnatRule[] = [];
  for (const [owner, entry] of Object.entries(state.containers).sort(([a], [b]) => a.localeCompare(b))) {
    const target = entry.endpoints.find((endpoint) => !configs.get(endpoint.network)?.Internal);
    if (!target) continue;
    for (const port of entry.ports) {
      dnat.push({
        owner,
        protocol: port.protocol,
        hostIp: port.hostIp,
        hostPort: port.hostPort,
        address: target.address,
        containerPort: port.containerPort,
      });
    }
  }
  return { bridges, dnat };
}
