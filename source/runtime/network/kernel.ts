/**
 * Brings the kernel in line with a change of the network state (network lock held): bridges of
 * networks with containers exist and the others do not, veths of endpoints that went are deleted,
 * and the firewall holds exactly the rules of the state. The order keeps one promise at every
 * instant, so a kill -9 anywhere leaves nothing a later sweep cannot explain: every rule in the
 * kernel belongs to a container in the state file on disk.
 */
import { trace } from '../trace.js';
import { parseSubnet } from './cidr.js';
import { applyFirewall, firewallBackend, type FirewallBackend } from './firewall/index.js';
import { activeNetworks, firewallModel } from './firewall/model.js';
import { containersOnNetworks, networkedHosts, rewriteInPlace } from './hosts-file.js';
import { bridgeCommands, listLinks, uplinkMtu, writeSysctl, type LinkInfo } from './links.js';
import type { NetworkStore } from './store.js';
import { ipBatch } from './tools.js';
import type { ContainerNetworking, NetworkConfig, NetworkState } from './types.js';

function sameEntry(a: ContainerNetworking | undefined, b: ContainerNetworking | undefined): boolean {
  return (
    JSON.stringify(a?.endpoints) === JSON.stringify(b?.endpoints) &&
    JSON.stringify(a?.ports) === JSON.stringify(b?.ports)
  );
}

/** `prev` without the containers the change removes or alters: a subset of both states. */
function common(prev: NetworkState, next: NetworkState): NetworkState {
  const containers: NetworkState['containers'] = {};
  for (const [id, entry] of Object.entries(prev.containers))
    if (sameEntry(entry, next.containers[id])) containers[id] = entry;
  return { ...prev, containers };
}

function modelKey(state: NetworkState, configs: ReadonlyMap<string, NetworkConfig>): string {
  return JSON.stringify(firewallModel(state, configs));
}

export interface CommitOptions {
  /** Links as listed before the change (one `ip -j link show` serves the whole commit). */
  links?: Map<string, LinkInfo>;
}

/** Makes the bridges of active networks exist (with the uplink's MTU and route_localnet). */
export async function ensureBridges(
  state: NetworkState,
  configs: ReadonlyMap<string, NetworkConfig>,
  links: Map<string, LinkInfo>,
): Promise<void> {
  const commands: string[] = [];
  const made: string[] = [];
  const mtu = uplinkMtu(links);
  for (const name of activeNetworks(state)) {
    const config = configs.get(name);
    if (!config || links.has(config.Bridge)) continue;
    const subnet = parseSubnet(config.Subnet);
    commands.push(...bridgeCommands(config.Bridge, config.Gateway, subnet.prefixLength, mtu));
    made.push(config.Bridge);
  }
  if (commands.length === 0) return;
  await ipBatch(commands, 'create the network bridge');
  // Forwarding is what a bridge network is for (docker and podman turn it on as well); a
  // connection to 127.0.0.1:PORT may leave through the bridge once DNAT sent it there.
  writeSysctl('net/ipv4/ip_forward', '1');
  for (const bridge of made) {
    writeSysctl(`net/ipv4/conf/${bridge}/route_localnet`, '1');
    links.set(bridge, { name: bridge, mtu, kind: 'bridge' });
  }
  trace('network: bridges created');
}

/** Applies `next` (prev is what the kernel and the state file hold now) and writes it. */
export async function commit(
  store: NetworkStore,
  prev: NetworkState,
  next: NetworkState,
  configs: ReadonlyMap<string, NetworkConfig>,
  options: CommitOptions = {},
): Promise<void> {
  const anyAfter = Object.keys(next.containers).length > 0;
  const backend: FirewallBackend = prev.firewall ?? next.firewall ?? firewallBackend();
  if (anyAfter) next.firewall = backend;
  else delete next.firewall;
  const between = common(prev, next);
  let applied = modelKey(prev, configs);
  // Rules first go down to what both states share, so none outlives its container in the file.
  if (modelKey(between, configs) !== applied) {
    await applyFirewall(firewallModel(between, configs), backend);
    applied = modelKey(between, configs);
  }
  const links = options.links ?? (await listLinks());
  const gone: string[] = [];
  for (const [id, entry] of Object.entries(prev.containers)) {
    const kept = new Set((next.containers[id]?.endpoints ?? []).map((endpoint) => endpoint.hostInterface));
    for (const endpoint of entry.endpoints)
      if (!kept.has(endpoint.hostInterface) && links.has(endpoint.hostInterface))
        gone.push(endpoint.hostInterface);
  }
  if (gone.length > 0) {
    await ipBatch(
      gone.map((name) => `link del ${name}`),
      'remove container interfaces',
    );
    for (const name of gone) links.delete(name);
  }
  await store.writeState(next);
  trace('network: state written');
  await ensureBridges(next, configs, links);
  const active = activeNetworks(next);
  const idle = [...configs.values()].filter((config) => !active.has(config.Name) && links.has(config.Bridge));
  if (idle.length > 0) {
    await ipBatch(
      idle.map((config) => `link del ${config.Bridge}`),
      'remove an unused network bridge',
    );
    for (const config of idle) links.delete(config.Bridge);
  }
  if (modelKey(next, configs) !== applied) {
    await applyFirewall(firewallModel(next, configs), backend);
  }
  trace('network: kernel in line');
  refreshHostsFiles(prev, next);
}

/** Rewrites /etc/hosts of every container whose peers changed (and of those that changed). */
export function refreshHostsFiles(prev: NetworkState, next: NetworkState): void {
  const touched = new Set<string>();
  const changed = new Set<string>();
  for (const id of new Set([...Object.keys(prev.containers), ...Object.keys(next.containers)])) {
    if (sameEntry(prev.containers[id], next.containers[id])) continue;
    changed.add(id);
    for (const endpoint of [
      ...(prev.containers[id]?.endpoints ?? []),
      ...(next.containers[id]?.endpoints ?? []),
    ])
      touched.add(endpoint.network);
  }
  const rewrite = new Set([
    ...containersOnNetworks(next, touched),
    ...[...changed].filter((id) => next.containers[id]),
  ]);
  for (const id of rewrite) {
    const entry = next.containers[id];
    if (entry) rewriteInPlace(entry.hosts.file, networkedHosts(next, id));
  }
}
