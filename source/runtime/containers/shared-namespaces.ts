/**
 * The ipc, pid and uts namespaces a container does not make for itself: docker's `--ipc
 * container:X` and `--pid container:X`, podman's `--uts container:X` (a pod's containers borrow
 * its infra container's), named at create, stored by id, and joined at start through the other
 * container's init while it runs; and `--pid host`, `--ipc host`, `--uts host`, where the
 * container stays in the host's.
 */
import { ConflictError, InvalidArgumentError, NotFoundError, UnsupportedError } from '../errors.js';
import type { EngineCore } from './core.js';
import { isAlive } from './process-identity.js';
import type { ContainerRecord, HostConfig } from './record.js';

const KINDS = [
  ['ipc', 'IpcMode'],
  ['pid', 'PidMode'],
  ['uts', 'UTSMode'],
] as const;

type NamespaceModes = Pick<HostConfig, 'IpcMode' | 'PidMode' | 'UTSMode'>;

/** The modes of the create options, checked for their form (the container is checked later). */
export function sharedNamespaceModes(options: {
  ipc?: string;
  pid?: string;
  uts?: string;
  hostname?: string;
  userns?: string;
  uidmap?: readonly string[];
}): NamespaceModes {
  const modes: NamespaceModes = {};
  const userns =
    (options.userns !== undefined && options.userns !== '' && options.userns !== 'host') ||
    (options.uidmap ?? []).length > 0;
  for (const [kind, field] of KINDS) {
    const mode = options[kind];
    // docker's shareable: an ipc namespace of its own that others may join (any can be, here).
    if (
      mode === undefined ||
      mode === '' ||
      (kind !== 'uts' && mode === 'private') ||
      (kind === 'ipc' && mode === 'shareable')
    )
      continue;
    if (mode !== 'host' && !/^container:.+/.test(mode)) {
      throw new InvalidArgumentError(`invalid --${kind} ${JSON.stringify(mode)}`, {
        hint:
          kind === 'uts'
            ? "accepted: host (the host's UTS namespace) or container:NAME|ID; without --uts the container has its own"
            : `accepted: private (the default)${kind === 'ipc' ? ', shareable' : ''}, host or container:NAME|ID`,
      });
    }
    // docker's rule (podman's for container: too): the name is the namespace's, not the container's.
    if (kind === 'uts' && options.hostname !== undefined)
      throw new InvalidArgumentError('conflicting options: hostname and the UTS mode', {
        hint:
          mode === 'host'
            ? "--uts host keeps the host's hostname; leave out --hostname or --uts host"
            : `--uts ${mode} has that container's hostname; leave out --hostname or --uts`,
      });
    // The host's /proc and mqueue belong to the host's user namespace: a container's user
    // namespace could not mount them.
    if (mode === 'host' && userns && kind !== 'uts')
      throw new UnsupportedError(`--${kind} host cannot be combined with a user namespace`, {
        hint: `leave out --userns/--uidmap, or give the container its own ${kind} namespace`,
      });
    modes[field] = mode;
  }
  return modes;
}

/** A mode that names another container (not private, not the host's). */
function joinedContainer(mode: string | undefined): string | undefined {
  return mode?.startsWith('container:') ? mode.slice('container:'.length) : undefined;
}

/**
 * Stores the other container by id, as docker does, once it is known to exist; a container in
 * another's uts namespace has that one's hostname (its /etc/hostname and inspect say it), as
 * podman's.
 */
export async function resolveSharedNamespaces(core: EngineCore, record: ContainerRecord): Promise<void> {
  for (const [kind, field] of KINDS) {
    const other = joinedContainer(record.HostConfig[field]);
    if (other === undefined) continue;
    const id = await core.containers.resolveId(other);
    if (id === record.Id) throw new ConflictError(`a container cannot join its own ${kind} namespace`);
    record.HostConfig[field] = `container:${id}`;
    if (kind === 'uts') record.Config.Hostname = (await core.containers.load(id)).Config.Hostname;
  }
}

export interface JoinedNamespacePaths {
  pidNamespacePath?: string;
  ipcNamespacePath?: string;
  utsNamespacePath?: string;
}

const PATH_FIELDS = {
  pid: 'pidNamespacePath',
  ipc: 'ipcNamespacePath',
  uts: 'utsNamespacePath',
} as const;

/** The namespace files to join at start; the other container must be running. */
export async function sharedNamespacePaths(
  core: EngineCore,
  record: ContainerRecord,
): Promise<JoinedNamespacePaths> {
  const paths: JoinedNamespacePaths = {};
  for (const [kind, field] of KINDS) {
    const id = joinedContainer(record.HostConfig[field]);
    if (id === undefined) continue;
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
    paths[PATH_FIELDS[kind]] = `/proc/${owner.InitProcess!.pid}/ns/${kind}`;
  }
  return paths;
}
