/**
 * The engine's side of networking: what a container's record asks of the network layer at start
 * (networks, aliases, ports, /etc/hosts inputs), the namespace and /etc files a
 * `--network container:X` container borrows, and the record's NetworkSettings kept in step with
 * what the network layer handed out.
 */
import path from 'node:path';
import { ConflictError, NotFoundError } from '../errors.js';
import { checkStaticAddress, type ReserveRequest } from '../network/endpoints.js';
import { networkSettingsPorts } from '../network/ports.js';
import type { ContainerNetworking, NetworkConfig } from '../network/types.js';
import type { EngineCore } from './core.js';
import type { EtcFiles } from './etc-files.js';
import { emptyEndpoint, networkKind } from './network-options.js';
import { isAlive } from './process-identity.js';
import type { Resources } from '../cgroups/types.js';
import type { ContainerRecord } from './record.js';

export function reserveRequest(core: EngineCore, record: ContainerRecord): ReserveRequest {
  const networks = Object.entries(
    record.NetworkSettings?.Networks ?? { [record.HostConfig.NetworkMode]: emptyEndpoint() },
  );
  return {
    id: record.Id,
    name: record.Name,
    hostname: record.Config.Hostname || record.Id.slice(0, 12),
    hostsFile: path.join(core.containers.dir(record.Id), 'hosts'),
    extraHosts: record.HostConfig.ExtraHosts ?? [],
    networks: networks.map(([network, settings]) => ({
      network,
      aliases: settings.Aliases ?? [],
      ...(settings.IPAMConfig ? { address: settings.IPAMConfig.IPv4Address } : {}),
    })),
    portBindings: record.HostConfig.PortBindings ?? {},
    publishAll: record.HostConfig.PublishAllPorts ?? false,
    exposedPorts: Object.keys(record.Config.ExposedPorts ?? {}),
  };
}

/** What `--network container:ID` borrows from that container while it runs. */
export async function sharedNetwork(
  core: EngineCore,
  record: ContainerRecord,
): Promise<{ namespacePath: string; etcFiles: EtcFiles; hostname: string }> {
  const id = record.HostConfig.NetworkMode.slice('container:'.length);
  let owner: ContainerRecord;
  try {
    owner = await core.containers.load(id);
  } catch (error) {
    if (error instanceof NotFoundError)
      throw new NotFoundError(`cannot join the network of container ${id.slice(0, 12)}: it was removed`, {
        cause: error,
      });
    throw error;
  }
  if ((owner.State.Status !== 'running' && owner.State.Status !== 'paused') || !isAlive(owner.InitProcess)) {
    throw new ConflictError(`cannot join the network of container ${owner.Name}: it is not running`, {
      hint: `start it first (\`gantry start ${owner.Name}\`)`,
    });
  }
  const directory = core.containers.dir(owner.Id);
  return {
    namespacePath: `/proc/${owner.InitProcess!.pid}/ns/net`,
    etcFiles: {
      hostname: path.join(directory, 'hostname'),
      hosts: path.join(directory, 'hosts'),
      resolvConf: path.join(directory, 'resolv.conf'),
    },
    hostname: owner.Config.Hostname,
  };
}

/** Copies the addresses and ports the network layer handed out into the record. */
export function recordNetworking(
  record: ContainerRecord,
  entry: ContainerNetworking,
  configs: ReadonlyMap<string, NetworkConfig>,
): void {
  const networks = { ...(record.NetworkSettings?.Networks ?? {}) };
  for (const endpoint of entry.endpoints) {
    networks[endpoint.network] = {
      Aliases: networks[endpoint.network]?.Aliases ?? [],
      ...(networks[endpoint.network]?.IPAMConfig
        ? { IPAMConfig: networks[endpoint.network]!.IPAMConfig! }
        : {}),
      NetworkID: configs.get(endpoint.network)?.Id ?? '',
      EndpointID: endpoint.hostInterface,
      Gateway: endpoint.gateway,
      IPAddress: endpoint.address,
      IPPrefixLen: endpoint.prefixLength,
      MacAddress: endpoint.mac,
    };
  }
  record.NetworkSettings = {
    Networks: networks,
    Ports: networkSettingsPorts(entry.ports, Object.keys(record.Config.ExposedPorts ?? {})),
  };
}

/** A stopped container keeps its networks (and aliases) but no address or port. */
export function clearNetworking(record: ContainerRecord): void {
  if (!record.NetworkSettings) return;
  const networks: typeof record.NetworkSettings.Networks = {};
  for (const [name, settings] of Object.entries(record.NetworkSettings.Networks))
    networks[name] = {
      ...emptyEndpoint(settings.Aliases ?? [], settings.IPAMConfig?.IPv4Address),
      NetworkID: settings.NetworkID,
    };
  record.NetworkSettings = { Networks: networks, Ports: {} };
}

/**
 * Checks at create what the mode names: the container of `container:NAME` (stored by id, as
 * docker does) and the network of a user network (its id noted).
 */
export async function resolveNetworkReferences(core: EngineCore, record: ContainerRecord): Promise<void> {
  const mode = record.HostConfig.NetworkMode;
  const kind = networkKind(mode);
  if (kind === 'container') {
    const reference = mode.slice('container:'.length);
    const id = await core.containers.resolveId(reference);
    if (id === record.Id) throw new ConflictError('a container cannot join its own network namespace');
    const owner = await core.containers.load(id);
    record.HostConfig.NetworkMode = `container:${id}`;
    record.Config.Hostname = owner.Config.Hostname;
    return;
  }
  if (kind !== 'bridge') return;
  const manager = await core.network();
  for (const [name, settings] of Object.entries(record.NetworkSettings?.Networks ?? {})) {
    const config = await manager.get(name);
    settings.NetworkID = config.Id;
    if (settings.IPAMConfig) checkStaticAddress(config, settings.IPAMConfig.IPv4Address);
  }
}

/**
 * Whether the network layer may drop a container's entry: gone, or neither running nor being
 * started by another gantry process (which holds its lock). Never waits for a lock.
 */
export async function networkActivity(core: EngineCore, id: string): Promise<'active' | 'stale'> {
  let record: ContainerRecord;
  try {
    record = await core.containers.load(id);
  } catch (error) {
    return error instanceof NotFoundError ? 'stale' : 'active';
  }
  if (record.State.Status === 'running' || record.State.Status === 'paused') return 'active';
  const lock = await core.containers.lock(id, { wait: false });
  if (!lock) return 'active';
  lock.release();
  return 'stale';
}

/**
 * The limits the container's cgroup gets: a bridge container's --net-prio names its own
 * interfaces, which net_prio.ifpriomap (init_net's interfaces only) cannot take; its rule in the
 * container's namespace applies them instead (applyEgressClass).
 */
export function cgroupResources(record: ContainerRecord): Resources {
  const resources = record.HostConfig.Resources;
  if (networkKind(record.HostConfig.NetworkMode) !== 'bridge' || !resources.netPrioIfpriomap)
    return resources;
  const { netPrioIfpriomap: _ownInterfaces, ...rest } = resources;
  return rest;
}

/**
 * Makes a net_cls class id classify, and --net-prio prioritise, the container's egress on its own
 * interfaces (see network/egress-class.ts); only bridge containers have interfaces of their own.
 */
export async function applyEgressClass(record: ContainerRecord, pid: number): Promise<void> {
  if (networkKind(record.HostConfig.NetworkMode) !== 'bridge') return;
  const resources = record.HostConfig.Resources;
  const marks = {
    classid: (resources.netClsClassid ?? 0) !== 0,
    priorities: resources.netPrioIfpriomap ?? {},
  };
  if (!marks.classid && Object.keys(marks.priorities).length === 0) return;
  const { canClassifyEgress, classifyEgress } = await import('../network/egress-class.js');
  if (canClassifyEgress()) await classifyEgress(pid, marks);
}

/** Gives up what the network layer holds for a container (nothing for none/host/container:). */
export async function releaseNetworking(core: EngineCore, record: ContainerRecord): Promise<void> {
  if (networkKind(record.HostConfig.NetworkMode) !== 'bridge') return;
  await (await core.network()).release(record.Id);
  clearNetworking(record);
}
