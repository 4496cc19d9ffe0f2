/** The cgroup of a gantry-oci container, and what commands do to every process in it. */
import { setTimeout as sleep } from 'node:timers/promises';
import { createCgroupManager } from '../cgroups/index.js';
import type { CgroupManager } from '../cgroups/types.js';
import { signalCgroupProcesses } from '../containers/process-identity.js';
import type { OciStore, StoredState } from './store.js';

export function containerCgroup(
  store: OciStore,
  state: Pick<StoredState, 'cgroupParent' | 'cgroupName'>,
): CgroupManager {
  return createCgroupManager({
    cgroupRoot: store.options.cgroupRoot,
    parent: state.cgroupParent,
    name: state.cgroupName,
  });
}

/**
 * Removes the container's cgroup. Its parents go with it, once empty, only where gantry-oci made
 * them (under its own parent, for a relative or missing cgroupsPath): an absolute cgroupsPath's
 * parents are the caller's (the pod cgroup kubelet made and limits for CRI-O, podman's
 * --cgroup-parent), which runc never removes either.
 */
export async function removeCgroup(store: OciStore, state: Pick<StoredState, 'cgroupParent' | 'cgroupName'>) {
  const cgroup = containerCgroup(store, state);
  const trim = (p: string) => p.replace(/^\/+|\/+$/g, '');
  const ours = trim(store.options.cgroupParent);
  const parent = trim(state.cgroupParent);
  if (ours !== '' && (parent === ours || parent.startsWith(`${ours}/`))) {
    const { removeContainerCgroup } = await import('../cgroups/remove.js');
    await removeContainerCgroup(cgroup);
  } else {
    await cgroup.destroy();
  }
}

export function signalCgroup(store: OciStore, state: StoredState, signal: number): Promise<number> {
  return signalCgroupProcesses(containerCgroup(store, state), signal);
}

/** Kills whatever is left in the cgroup (a container without its own pid namespace) and waits. */
export async function emptyCgroup(store: OciStore, state: StoredState, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await signalCgroup(store, state, 9)) > 0 && Date.now() < deadline) await sleep(10);
}
