/**
 * The network layer's one entry point for the engine and the CLI. A container start goes
 * reserve (addresses and host ports written to the state, bridges and rules in place) -> the
 * helper starts the container, holding its published ports -> attach (veths made, the container's
 * side configured while its process waits at the exec fifo); its end goes release. Every step runs
 * under the network lock and leaves the state file and the kernel consistent (kernel.ts), and
 * entries of containers that are no longer running are swept by the next step that looks.
 */
import { ConflictError, InvalidArgumentError, NotFoundError } from '../errors.js';
import { trace } from '../trace.js';
import { newEndpoint, resolvePorts, type EndpointRequest, type ReserveRequest } from './endpoints.js';
import { firewallBackend, type FirewallBackend } from './firewall/index.js';
import { networkedHosts, rewriteInPlace } from './hosts-file.js';
import { commit, ensureBridges } from './kernel.js';
import { containerInterfaceCommands, listLinks, uplinkMtu, vethCommands } from './links.js';
import { currentNetns, netnsAlive, sameNetns } from './netns.js';
import { newNetworkConfig, type CreateNetworkOptions } from './networks.js';
import { NetworkStore } from './store.js';
import { ipBatch, ipBatchIn } from './tools.js';
import {
  DEFAULT_NETWORK,
  type ContainerNetworking,
  type EndpointLease,
  type NetworkConfig,
  type NetworkState,
} from './types.js';

/** Whether a container still needs its network entry: "stale" once it is not running or starting. */
export type ActivityProbe = (id: string) => Promise<'active' | 'stale'>;

export interface NetworkUsers {
  /** Containers whose configuration names a network (running or not), by network. */
  (network: string): Promise<{ id: string; name: string; status: string }[]>;
}

class ForeignNamespaceError extends ConflictError {}

export class NetworkManager {
  readonly store: NetworkStore;

  constructor(
    root: string,
    private readonly probe: ActivityProbe,
  ) {
    this.store = new NetworkStore(root);
  }

  // ---------------------------------------------------------------- under the lock

  /** The state and every configuration, the default network made if `needDefault`. */
  private async begin(
    needDefault: boolean,
  ): Promise<{ state: NetworkState; configs: Map<string, NetworkConfig> }> {
    let state = await this.store.readState();
    const configs = await this.store.listConfigs();
    if (needDefault && !configs.has(DEFAULT_NETWORK)) {
      const config = await newNetworkConfig({ name: DEFAULT_NETWORK }, configs);
      await this.store.writeConfig(config);
      configs.set(config.Name, config);
    }
    const here = currentNetns();
    if (Object.keys(state.containers).length > 0 && state.netns && !sameNetns(state.netns, here)) {
      if (netnsAlive(state.netns)) {
        throw new ForeignNamespaceError(
          `the networks of ${this.store.directory} are in use in another network namespace (net:[${state.netns.ino}])`,
          { hint: 'run gantry in that network namespace, or give this one its own --root' },
        );
      }
      // That namespace is gone, and its bridges, veths and rules went with it.
      state = { ...state, containers: {} };
      delete state.netns;
      delete state.firewall;
      await this.store.writeState(state);
    }
    return { state, configs };
  }

  private stamp(next: NetworkState): NetworkState {
    if (Object.keys(next.containers).length > 0) next.netns = currentNetns();
    else delete next.netns;
    return next;
  }

  private async staleIds(state: NetworkState, except?: string): Promise<string[]> {
    const stale: string[] = [];
    for (const id of Object.keys(state.containers))
      if (id !== except && (await this.probe(id)) === 'stale') stale.push(id);
    return stale;
  }

  private static without(state: NetworkState, ids: readonly string[]): NetworkState {
    const containers = { ...state.containers };
    for (const id of ids) delete containers[id];
    return { ...state, containers, cursors: { ...state.cursors } };
  }

  // ---------------------------------------------------------------- containers

  /**
   * Takes addresses and host ports for a container about to start, and makes its networks'
   * bridges and rules. Any entry a killed earlier start of the same container left is replaced.
   */
  async reserve(request: ReserveRequest): Promise<{ entry: ContainerNetworking; hosts: string }> {
    return this.store.withLock(async () => {
      const { state: prev, configs } = await this.begin(
        request.networks.some((n) => n.network === DEFAULT_NETWORK),
      );
      const stale = await this.staleIds(prev, request.id);
      const next = NetworkManager.without(prev, [...stale, request.id]);
      const endpoints: EndpointLease[] = [];
      for (const [index, wanted] of request.networks.entries()) {
        const config = configs.get(wanted.network);
        if (!config)
          throw new NotFoundError(`network ${wanted.network} not found`, { hint: 'see `gantry network ls`' });
        endpoints.push(
          newEndpoint(next, config, {
            id: request.id,
            name: request.name,
            aliases: wanted.aliases,
            ...(wanted.address !== undefined ? { address: wanted.address } : {}),
            interface: `eth${index}`,
          }),
        );
      }
      const names = (id: string) => prev.containers[id]?.name ?? id.slice(0, 12);
      const ports = await resolvePorts(next, request, names);
      if (ports.length > 0 && !endpoints.some((endpoint) => !configs.get(endpoint.network)?.Internal)) {
        throw new InvalidArgumentError(
          'published ports need a network with a route out; every network of this container is --internal',
          {
            hint: 'attach it to a network that is not internal, or leave out -p/-P',
          },
        );
      }
      const entry: ContainerNetworking = {
        name: request.name,
        hosts: { file: request.hostsFile, hostname: request.hostname, extra: request.extraHosts },
        endpoints,
        ports,
        attached: false,
      };
      next.containers[request.id] = entry;
      await commit(this.store, prev, this.stamp(next), configs);
      trace('network: reserved');
      return { entry, hosts: networkedHosts(next, request.id) };
    });
  }

  /** Makes the container's veths and configures its side (its process waits at the exec fifo). */
  async attach(id: string, pid: number): Promise<ContainerNetworking> {
    return this.store.withLock(async () => {
      const { state, configs } = await this.begin(false);
      const entry = state.containers[id];
      if (!entry)
        throw new ConflictError(`container ${id.slice(0, 12)} has no network reservation (it was swept)`);
      const links = await listLinks();
      await ensureBridges(state, configs, links);
      await this.plug(entry.endpoints, pid, configs, links);
      state.containers[id] = { ...entry, attached: true };
      await this.store.writeState(state);
      // Peers that came while the container was being set up are in the state now.
      rewriteInPlace(entry.hosts.file, networkedHosts(state, id));
      trace('network: attached');
      return state.containers[id]!;
    });
  }

  private async plug(
    endpoints: readonly EndpointLease[],
    pid: number,
    configs: ReadonlyMap<string, NetworkConfig>,
    links: Awaited<ReturnType<typeof listLinks>>,
    options: { defaultRoute?: boolean } = {},
  ): Promise<void> {
    const host: string[] = [];
    const inside: string[] = [];
    let routed = options.defaultRoute === false;
    for (const endpoint of endpoints) {
      const config = configs.get(endpoint.network)!;
      const mtu = links.get(config.Bridge)?.mtu ?? uplinkMtu(links);
      // A veth a killed start left under this name would make the add fail: it goes first.
      if (links.has(endpoint.hostInterface)) host.push(`link del ${endpoint.hostInterface}`);
      host.push(...vethCommands({ ...endpoint, bridge: config.Bridge, mtu, pid }));
      const gateway = !routed && !config.Internal ? endpoint.gateway : undefined;
      if (gateway) routed = true;
      inside.push(
        ...containerInterfaceCommands({
          interface: endpoint.interface,
          address: endpoint.address,
          prefixLength: endpoint.prefixLength,
          ...(gateway ? { gateway } : {}),
        }),
      );
    }
    await ipBatch(host, 'create the container interface');
    await ipBatchIn(pid, inside, "configure the container's interface");
  }

  /** Gives up a container's addresses, ports, veths and rules. Never fails for a missing entry. */
  async release(id: string): Promise<void> {
    if (!(await this.store.readState()).containers[id]) return;
    await this.store.withLock(async () => {
      let begun;
      try {
        begun = await this.begin(false);
      } catch (error) {
        // Another namespace holds the kernel side: its own sweep releases this entry later.
        if (error instanceof ForeignNamespaceError) return;
        throw error;
      }
      const { state: prev, configs } = begun;
      if (!prev.containers[id]) return;
      await commit(this.store, prev, this.stamp(NetworkManager.without(prev, [id])), configs);
      trace('network: released');
    });
  }

  /** Releases the entries of containers that no longer run (their gantry process was killed). */
  async sweep(): Promise<string[]> {
    const peek = await this.store.readState();
    if (Object.keys(peek.containers).length === 0) return [];
    if ((await this.staleIds(peek)).length === 0) return [];
    return this.store.withLock(async () => {
      const { state: prev, configs } = await this.begin(false);
      const stale = await this.staleIds(prev);
      if (stale.length > 0)
        await commit(this.store, prev, this.stamp(NetworkManager.without(prev, stale)), configs);
      return stale;
    });
  }

  /** The entry of a container as last written (no lock: the file is replaced, never edited). */
  async entry(id: string): Promise<ContainerNetworking | undefined> {
    return (await this.store.readState()).containers[id];
  }

  /** Connects a running container to one more network (`network connect`). */
  async connect(id: string, request: EndpointRequest, pid: number): Promise<EndpointLease> {
    return this.store.withLock(async () => {
      const { state: prev, configs } = await this.begin(request.network === DEFAULT_NETWORK);
      const current = prev.containers[id];
      if (!current)
        throw new ConflictError(`container ${id.slice(0, 12)} has no network stack gantry manages`);
      if (current.endpoints.some((endpoint) => endpoint.network === request.network))
        throw new ConflictError(
          `container ${current.name} is already connected to network ${request.network}`,
        );
      const config = configs.get(request.network);
      if (!config)
        throw new NotFoundError(`network ${request.network} not found`, { hint: 'see `gantry network ls`' });
      const next = NetworkManager.without(prev, []);
      const used = new Set(current.endpoints.map((endpoint) => endpoint.interface));
      let index = 0;
      while (used.has(`eth${index}`)) index++;
      const endpoint = newEndpoint(next, config, {
        id,
        name: current.name,
        aliases: request.aliases,
        ...(request.address !== undefined ? { address: request.address } : {}),
        interface: `eth${index}`,
      });
      next.containers[id] = { ...current, endpoints: [...current.endpoints, endpoint] };
      await commit(this.store, prev, this.stamp(next), configs);
      const links = await listLinks();
      try {
        const routed = current.endpoints.some((other) => !configs.get(other.network)?.Internal);
        await this.plug([endpoint], pid, configs, links, { defaultRoute: !routed });
      } catch (error) {
        const back = { ...next, containers: { ...next.containers, [id]: current } };
        await commit(this.store, next, this.stamp(back), configs).catch(() => undefined);
        throw error;
      }
      return endpoint;
    });
  }

  /** Disconnects a running container from a network (its veth goes, its peers forget it). */
  async disconnect(id: string, network: string): Promise<void> {
    await this.store.withLock(async () => {
      const { state: prev, configs } = await this.begin(false);
      const current = prev.containers[id];
      if (!current || !current.endpoints.some((endpoint) => endpoint.network === network)) return;
      const next = NetworkManager.without(prev, []);
      next.containers[id] = {
        ...current,
        endpoints: current.endpoints.filter((endpoint) => endpoint.network !== network),
      };
      if (next.containers[id]!.endpoints.length === 0) delete next.containers[id];
      await commit(this.store, prev, this.stamp(next), configs);
    });
  }

  // ---------------------------------------------------------------- networks

  firewall(): FirewallBackend {
    return firewallBackend();
  }

  async create(options: CreateNetworkOptions): Promise<NetworkConfig> {
    return this.store.withLock(async () => {
      const { configs } = await this.begin(true);
      const config = await newNetworkConfig(options, configs);
      await this.store.writeConfig(config);
      return config;
    });
  }

  /** Every network, the default one made if it is not there yet. */
  async list(): Promise<NetworkConfig[]> {
    const configs = await this.store.listConfigs();
    if (configs.has(DEFAULT_NETWORK)) return [...configs.values()];
    return this.store.withLock(async () => [...(await this.begin(true)).configs.values()]);
  }

  async get(name: string): Promise<NetworkConfig> {
    if (name === DEFAULT_NETWORK) {
      const all = await this.list();
      return all.find((config) => config.Name === DEFAULT_NETWORK)!;
    }
    const configs = await this.store.listConfigs();
    const found =
      configs.get(name) ??
      [...configs.values()].find((config) => name.length >= 3 && config.Id.startsWith(name));
    if (!found) throw new NotFoundError(`network ${name} not found`, { hint: 'see `gantry network ls`' });
    return found;
  }

  /**
   * Removes a user network nobody uses: `users` names the containers whose configuration has
   * it (running or not); they are named in the refusal.
   */
  async remove(name: string, users: NetworkUsers): Promise<NetworkConfig> {
    const config = await this.get(name);
    if (config.Name === DEFAULT_NETWORK)
      throw new ConflictError('bridge is a pre-defined network and cannot be removed');
    return this.store.withLock(async () => {
      const { state } = await this.begin(false);
      const using = await users(config.Name);
      const attached = Object.entries(state.containers)
        .filter(([, entry]) => entry.endpoints.some((endpoint) => endpoint.network === config.Name))
        .map(([id, entry]) => ({ id, name: entry.name, status: 'running' }));
      const all = [...using, ...attached.filter((a) => !using.some((u) => u.id === a.id))];
      if (all.length > 0) {
        throw new ConflictError(
          `network ${config.Name} is in use by ${all.length === 1 ? 'container' : 'containers'} ${all
            .map((user) => `${user.name} (${user.status})`)
            .join(', ')}`,
          { hint: 'remove those containers, or disconnect them (`gantry network disconnect`), first' },
        );
      }
      await this.store.removeConfig(config.Name);
      return config;
    });
  }
}
