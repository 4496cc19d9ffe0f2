/**
 * `network connect` / `disconnect` of a container, and who uses a network (for `network rm` and
 * `network inspect`). A running container gets or loses the interface at once; a stopped one
 * only has its record changed and gets it at its next start. The container's lock is held.
 */
import { ConflictError, InvalidArgumentError } from '../errors.js';
import { checkStaticAddress } from '../network/endpoints.js';
import { DEFAULT_NETWORK } from '../network/types.js';
import type { EngineCore } from './core.js';
import { emptyEndpoint, networkKind } from './network-options.js';
import { recordNetworking } from './networking.js';
import type { ContainerRecord } from './record.js';

function isRunning(record: ContainerRecord): boolean {
  return record.State.Status === 'running' || record.State.Status === 'paused';
}

function checkConnectable(record: ContainerRecord): void {
  if (networkKind(record.HostConfig.NetworkMode) !== 'bridge') {
    throw new ConflictError(
      `container ${record.Name} uses --network ${record.HostConfig.NetworkMode.replace(/^(container:).*/, '$1…')}: it cannot be connected to or disconnected from networks`,
      { hint: 'only containers on bridge or user networks have interfaces gantry manages' },
    );
  }
}

export async function connectContainer(
  core: EngineCore,
  record: ContainerRecord,
  network: string,
  aliases: readonly string[],
  ip?: string,
): Promise<ContainerRecord> {
  checkConnectable(record);
  const manager = await core.network();
  const config = await manager.get(network);
  if (ip !== undefined) checkStaticAddress(config, ip);
  if (aliases.length > 0 && config.Name === DEFAULT_NETWORK) {
    throw new InvalidArgumentError('--alias is supported only for containers in user-defined networks', {
      hint: 'make a network (`gantry network create NAME`) and connect the container to it',
    });
  }
  if (record.NetworkSettings?.Networks[config.Name]) {
    throw new ConflictError(`container ${record.Name} is already connected to network ${config.Name}`);
  }
  const networks = { ...(record.NetworkSettings?.Networks ?? {}) };
  networks[config.Name] = { ...emptyEndpoint([...aliases], ip), NetworkID: config.Id };
  record.NetworkSettings = { Networks: networks, Ports: record.NetworkSettings?.Ports ?? {} };
  if (isRunning(record) && record.State.Pid > 0) {
    await manager.connect(
      record.Id,
      { network: config.Name, aliases: [...aliases], ...(ip !== undefined ? { address: ip } : {}) },
      record.State.Pid,
    );
    const entry = await manager.entry(record.Id);
    if (entry) recordNetworking(record, entry, await manager.store.listConfigs());
  }
  await core.containers.save(record);
  return record;
}

export async function disconnectContainer(
  core: EngineCore,
  record: ContainerRecord,
  network: string,
): Promise<ContainerRecord> {
  checkConnectable(record);
  const manager = await core.network();
  const name = record.NetworkSettings?.Networks[network] ? network : (await manager.get(network)).Name;
  if (!record.NetworkSettings?.Networks[name]) {
    throw new ConflictError(`container ${record.Name} is not connected to network ${name}`);
  }
  if (isRunning(record)) await manager.disconnect(record.Id, name);
  const networks = { ...record.NetworkSettings.Networks };
  delete networks[name];
  record.NetworkSettings = { ...record.NetworkSettings, Networks: networks };
  await core.containers.save(record);
  return record;
}

/** Containers whose configuration names `network`, running or not. */
export async function networkUsers(
  core: EngineCore,
  network: string,
): Promise<{ id: string; name: string; status: string }[]> {
  const { records } = await core.containers.list();
  return records
    .filter((record) => record.NetworkSettings?.Networks[network] !== undefined)
    .map((record) => ({ id: record.Id, name: record.Name, status: record.State.Status }));
}
