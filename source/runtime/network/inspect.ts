/** docker-shaped `network inspect` output, plus which firewall writes the network's rules. */
import type { FirewallBackend } from './firewall/index.js';
import type { NetworkConfig, NetworkState } from './types.js';

export function inspectNetwork(
  config: NetworkConfig,
  state: NetworkState,
  firewall: FirewallBackend | string,
): Record<string, unknown> {
  const containers: Record<string, unknown> = {};
  for (const [id, entry] of Object.entries(state.containers)) {
    for (const endpoint of entry.endpoints) {
      if (endpoint.network !== config.Name) continue;
      containers[id] = {
        Name: entry.name,
        EndpointID: endpoint.hostInterface,
        MacAddress: endpoint.mac,
        IPv4Address: `${endpoint.address}/${endpoint.prefixLength}`,
        IPv6Address: '',
      };
    }
  }
  return {
    Name: config.Name,
    Id: config.Id,
    Created: config.Created,
    Scope: 'local',
    Driver: config.Driver,
    EnableIPv6: false,
    IPAM: { Driver: 'default', Options: {}, Config: [{ Subnet: config.Subnet, Gateway: config.Gateway }] },
    Internal: config.Internal,
    Attachable: false,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: containers,
    Options: {
      'com.docker.network.bridge.name': config.Bridge,
      'com.docker.network.bridge.enable_ip_masquerade': String(!config.Internal),
    },
    Labels: config.Labels,
    /** gantry's: the tool the NAT rules (masquerade, published ports) are written with. */
    Firewall: firewall,
  };
}
