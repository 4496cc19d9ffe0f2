/**
 * The ipc and pid namespaces a container borrows from another (docker's `--ipc container:X` and
 * `--pid container:X`; a pod's containers borrow its infra container's): named at create, stored
 * by id, and joined at start through the other container's init while it runs.
 */
import { ConflictError, InvalidArgumentError, NotFoundError, UnsupportedError } from '../errors.js';
import type { EngineCore } from './core.js';
import { isAlive } from './process-identity.js';
import type { ContainerRecord, HostConfig } from './record.js';

const KINDS = [
  ['ipc', 'IpcMode'],
  ['pid', 'PidMode'],
] as const;

/** The modes of the create options, checked for their form (the container is checked later). */
export function sharedNamespaceModes(options: {
  ipc?: string;
  pid?: string;
}): Pick<HostConfig, 'IpcMode' | 'PidMode'> {
  const modes: Pick<HostConfig, 'IpcMode' | 'PidMode'> = {};
  for (const [kind, field] of KINDS) {
    const mode = options[kind];
    // docker's shareable: an ipc namespace of its own that others may join (any can be, here).
    if (mode === undefined || mode === '' || mode === 'private' || (kind === 'ipc' && mode === 'shareable'))
      continue;
    if (mode === 'host') {
      throw new UnsupportedError(`--${kind} host is not supported yet`, {
        hint: `the container gets a ${kind} namespace of its own (private), or another container's (container:NAME|ID)`,
      });
    }
    if (!/^container:.+/.test(mode)) {
      throw new InvalidArgumentError(`invalid --${kind} ${JSON.stringify(mode)}`, {
        hint: `accepted: private (the default)${kind === 'ipc' ? ', shareable' : ''} or container:NAME|ID`,
      });
    }
    modes[field] = mode;
  }
  return modes;
}

/** Stores the other container by id, as docker does, once it is known to exist. */
export async function resolveSharedNamespaces(core: EngineCore, record: ContainerRecord): Promise<void> {
  for (const [kind, field] of KINDS) {
    const mode = record.HostConfig[field];
    if (!mode) continue;
    const id = await core.containers.resolveId(mode.slice('container:'.length));
    if (id === record.Id) throw new ConflictError(`a container cannot join its own ${kind} namespace`);
    record.HostConfig[field] = `container:${id}`;
  }
}

/** The namespace files to join at start; the other container must be running. */
export async function sharedNamespacePaths(
  core: EngineCore,
  record: ContainerRecord,
): Promise<{ pidNamespacePath?: string; ipcNamespacePath?: string }> {
  const paths: { pidNamespacePath?: string; ipcNamespacePath?: string } = {};
  for (const [kind, field] of KINDS) {
    const mode = record.HostConfig[field];
    if (!mode) continue;
    const id = mode.slice('container:'.length);
    let owner: ContainerRecord;
    try {
      owner = await core.containers.load(id);
    } catch (error) {
      if (error instanceof NotFoundError)
        throw new NotFoundError(
          `cannot join the ${kind} namespace of container ${id.slice(0, 12)}: it was removed`,
          {
            cause: error,
          },
        );
      throw error;
    }
    if (
      (owner.State.Status !== 'running' && owner.State.Status !== 'paused') ||
      !isAlive(owner.InitProcess)
    ) {
      throw new ConflictError(
        `cannot join the ${kind} namespace of container ${owner.Name}: it is not running`,
        {
          hint: `start it first (\`gantry start ${owner.Name}\`)`,
        },
      );
    }
    const file = `/proc/${owner.InitProcess!.pid}/ns/${kind}`;
    if (kind === 'pid') paths.pidNamespacePath = file;
    else paths.ipcNamespacePath = file;
  }
  return paths;
}
