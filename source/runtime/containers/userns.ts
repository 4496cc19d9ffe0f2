/**
 * A container's user namespace over its life: the mapping fixed at create (a range of the
 * `gantry` subordinate ids for --userns=auto and keep-id, the given one for --uidmap), the spec's
 * part of it, and the range given back when the container is removed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError } from '../errors.js';
import type { HelperPlan } from '../init/plan.js';
import type { OciSpec } from '../spec/types.js';
import { allocateRange, releaseRange } from '../userns/allocations.js';
import { acquireChownedLayers, chooseRootfsMapping, releaseChownedLayers } from '../userns/chowned-layers.js';
import { mappingsOf, prepareMappedContainer } from '../userns/container-root.js';
import {
  allocationSize,
  formatIdMapping,
  mappingFor,
  parseUserns,
  type UsernsRequest,
} from '../userns/mappings.js';
import type { EngineCore } from './core.js';
import type { ContainerRecord } from './record.js';

export interface UsernsOptions {
  /** --userns: host, auto[:size=N], keep-id. */
  userns?: string;
  uidmap?: string[];
  gidmap?: string[];
}

/** The record's part of the options (validated; no range is taken yet). */
export function usernsFields(
  options: UsernsOptions,
  privileged: boolean,
): Pick<ContainerRecord['HostConfig'], 'UsernsMode' | 'IDMappings'> {
  const request = parseUserns(options.userns, options.uidmap ?? [], options.gidmap ?? []);
  if (request.mode === 'host') return {};
  if (privileged) {
    throw new InvalidArgumentError(
      '--privileged cannot be combined with a user namespace (--userns, --uidmap)',
      {
        hint: 'a privileged container is the host’s root; leave out one or the other',
      },
    );
  }
  if (request.mode === 'private') {
    return {
      UsernsMode: 'private',
      IDMappings: {
        UidMap: request.uidMap.map(formatIdMapping),
        GidMap: request.gidMap.map(formatIdMapping),
      },
    };
  }
  return { UsernsMode: options.userns ?? '' };
}

function requestOf(record: ContainerRecord): UsernsRequest {
  return parseUserns(record.HostConfig.UsernsMode, [], []);
}

/** Takes the container's range (auto, keep-id) and records its mapping. Its directory exists. */
export async function assignIdMappings(core: EngineCore, record: ContainerRecord): Promise<void> {
  const mode = record.HostConfig.UsernsMode;
  if (mode === undefined || mode === '' || mode === 'private') return;
  const request = requestOf(record);
  const size = allocationSize(request);
  const held = await allocateRange(core.layout.root, record.Id, size, (id) =>
    fs.existsSync(core.containers.dir(id)),
  );
  record.HostConfig.IDMappings = {
    UidMap: mappingFor(request, 'uid', held.uid).map(formatIdMapping),
    GidMap: mappingFor(request, 'gid', held.gid).map(formatIdMapping),
  };
}

/** Gives the container's range back (removed, or its create failed), and its layer copies. */
export async function releaseIdMappings(core: EngineCore, id: string): Promise<void> {
  await releaseRange(core.layout.root, id);
  await releaseChownedLayers(core.layout.root, core.layout.containers, id);
}

/** The spec's user namespace: a new one with the record's mapping. */
export function applyUserNamespace(spec: OciSpec, record: ContainerRecord): OciSpec {
  const ids = record.HostConfig.IDMappings;
  if (!ids) return spec;
  const { uid, gid } = mappingsOf(ids);
  const linux = spec.linux ?? {};
  return {
    ...spec,
    linux: {
      ...linux,
      namespaces: [{ type: 'user' }, ...(linux.namespaces ?? [])],
      uidMappings: uid,
      gidMappings: gid,
    },
  };
}

/**
 * The host's side of a mapped container's start: the way to its directory opened to its root,
 * its writable layer given to it, and the plan's root made by the monitor over idmapped layers
 * (see native/idmap.c), or over chowned copies of them where their filesystem refuses idmapped
 * mounts, instead of by the container's init.
 */
export async function planMappedRoot(
  core: EngineCore,
  record: ContainerRecord,
  plan: HelperPlan,
): Promise<void> {
  const ids = record.HostConfig.IDMappings;
  if (!ids) return;
  const directory = core.containers.dir(record.Id);
  await prepareMappedContainer(core.layout, directory, ids);
  delete plan.rootOverlay;
  const lowers = [...record.LayerDirs].reverse();
  const mapping = await chooseRootfsMapping(lowers[0]);
  plan.rootLayers = {
    lowers:
      mapping === 'idmapped'
        ? lowers
        : await acquireChownedLayers(core.layout.root, core.layout.containers, record.Id, ids, lowers),
    upper: path.join(directory, 'upper'),
    work: path.join(directory, 'work'),
    idmap: mapping === 'idmapped',
  };
  ids.RootfsMapping = mapping;
  // A --device node is bound from its host path, which the spec does not carry.
  for (const device of plan.devices) {
    const mapped = record.HostConfig.Devices?.find((d) => d.PathInContainer === device.path);
    if (device.bindFrom !== undefined && mapped) device.bindFrom = mapped.PathOnHost;
  }
}
