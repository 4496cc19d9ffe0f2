/**
 * A container's changes against its image, read from its live writable layer: what
 * `gantry diff` prints, and the facts commit and the layer tree need about a container.
 */
import path from 'node:path';
import { readContainerSpecSync } from '../../containers/core.js';
import type { Engine } from '../../containers/engine.js';
import type { ContainerRecord } from '../../containers/record.js';
import { isDiskFull } from '../../errors.js';
import { mappingsOf } from '../../userns/container-root.js';
import { withLayerFrozen } from './frozen.js';
import { containerChanges, type ContainerChange, type UpperWalkOptions } from './upper-walk.js';

/** The container's writable layer (overlay upperdir). */
export function upperDirectory(engine: Engine, record: ContainerRecord): string {
  return path.join(engine.containers.dir(record.Id), 'upper');
}

/**
 * Where the runtime mounts things in the container (from the OCI spec written at start). An
 * empty stub at one of these paths that no image layer has was made to mount over.
 */
export function containerMountpoints(engine: Engine, record: ContainerRecord): string[] {
  // Never started: the runtime has made nothing yet.
  const spec = readContainerSpecSync(engine, record);
  if (!spec) return [];
  return (spec.mounts ?? []).map((mount) => path.posix.normalize(mount.destination));
}

/**
 * How the container's writable layer is read: its runtime's mount stubs skipped, and with a user
 * namespace its owners shifted back to the container's ids (a file its root made is uid 0).
 */
export function containerWalkOptions(engine: Engine, record: ContainerRecord): UpperWalkOptions {
  const ids = record.HostConfig.IDMappings;
  return {
    mountpoints: containerMountpoints(engine, record),
    ...(ids ? { idMap: mappingsOf(ids) } : {}),
  };
}

/**
 * `docker diff`: the changes of the container's filesystem, depth first, names sorted. A running
 * container is frozen while its layer is read (as commit does), unless `pause` is false.
 */
export async function diffContainer(
  engine: Engine,
  reference: string,
  options: { pause?: boolean } = {},
): Promise<ContainerChange[]> {
  const record = await engine.get(reference);
  const pause = options.pause !== false;
  const read = async (current: ContainerRecord) =>
    containerChanges(
      upperDirectory(engine, current),
      current.LayerDirs,
      containerWalkOptions(engine, current),
    );
  try {
    return await withLayerFrozen(engine, record, pause, read);
  } catch (error) {
    // Reading never needs room: on a full disk the pause cannot be recorded, so the layer is read
    // live, as --pause=false reads it (safely: the walk is by descriptors).
    if (!pause || !isDiskFull(error)) throw error;
    return withLayerFrozen(engine, record, false, read);
  }
}
