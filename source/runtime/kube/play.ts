/**
 * `kube play` and `kube down`, and the pod operations they share with `gantry pod`: a pod is an
 * infra container running gantry-pause, holding the network, ipc and uts namespaces (and the pid
 * one with shareProcessNamespace) that the pod's containers join, as podman's kube play shares
 * them; with hostPID, hostIPC (and hostNetwork, which brings the host's uts namespace) it and
 * they stay in the host's. Membership is in the containers' labels
 * (labels.ts). A play is all or nothing: one that fails removes what it made before it reports the
 * failure, and one that is killed (kill -9, at any point) has a journal entry per pod
 * (../journal.ts) by which the next gantry command of any kind removes every container carrying
 * that pod's id, so no half pod survives a crash. (podman leaves a killed play's pod as far as it
 * got; a half pod whose missing members never start is worse than none, and playing it again is
 * one command.)
 */
import type { Engine } from '../containers/engine.js';
import type { ContainerRecord } from '../containers/record.js';
import { generateId } from '../containers/names.js';
import { ConflictError, InvalidArgumentError, NotFoundError } from '../errors.js';
import type { JournalEntry } from '../journal.js';
import { trace } from '../trace.js';
import { findPod, podsOf, type PodMembers } from './collect.js';
import {
  INFRA_LABEL,
  KUBE_CONTAINER_LABEL,
  KUBE_INDEX_LABEL,
  KUBE_PORTS_LABEL,
  POD_ID_LABEL,
  POD_NAME_LABEL,
  SHARE_PID_LABEL,
} from './labels.js';
import fs from 'node:fs';
import { HOST_PATH_KINDS, type HostPathCheck, type PodPlan } from './manifest.js';
import { ensurePauseImage, PAUSE_COMMAND } from './pause-image.js';

export interface PlayedPod {
  id: string;
  name: string;
  infra: string;
  containers: string[];
}

export interface PlayOptions {
  /** --network for the infra container (default: the engine's default network). */
  network?: string;
  /** Create only (podman's --start=false). */
  start?: boolean;
}

/** Every pod, by id, from the containers' labels. */
export async function listPods(engine: Engine): Promise<PodMembers[]> {
  const { records } = await engine.list({ all: true });
  return [...podsOf(records).values()];
}

export async function getPod(engine: Engine, reference: string): Promise<PodMembers> {
  const { records } = await engine.list({ all: true });
  const pod = findPod(podsOf(records), reference);
  if (!pod)
    throw new NotFoundError(`no such pod: ${reference}`, { hint: 'list the pods with `gantry pod ls`' });
  return pod;
}

async function createPod(
  engine: Engine,
  plan: PodPlan,
  options: PlayOptions,
  made: string[],
  entries: JournalEntry[],
): Promise<PlayedPod> {
  const id = generateId();
  const podLabels = { [POD_ID_LABEL]: id, [POD_NAME_LABEL]: plan.name };
  const pauseImage = await ensurePauseImage(engine.images);
  // Before the first container that carries the pod's id exists: from here on a kill leaves an
  // entry that names what to remove.
  entries.push(engine.journal.begin('play', id));
  trace(`kube play: ${plan.name} recorded`);
  // The infra container's name is reserved first: a second play of the same pod stops here.
  const infra = await engine.create({
    image: pauseImage,
    name: `${plan.name}-infra`,
    entrypointArgs: PAUSE_COMMAND,
    command: [],
    ...(plan.hostname !== undefined ? { hostname: plan.hostname } : {}),
    labels: {
      ...podLabels,
      [INFRA_LABEL]: 'true',
      ...(plan.shareProcessNamespace ? { [SHARE_PID_LABEL]: 'true' } : {}),
    },
    // spec.hostNetwork wins over --network, as in podman.
    ...(plan.hostNetwork
      ? { network: 'host' }
      : options.network !== undefined
        ? { network: options.network }
        : {}),
    // It is the record of the pod's namespaces (what generate reads back), so it is in the
    // host's too.
    ...(plan.hostPID ? { pid: 'host' } : {}),
    ...(plan.hostIPC ? { ipc: 'host' } : {}),
    // podman's: a pod in the host's network is in the host's uts namespace, with its name.
    ...(plan.hostNetwork ? { uts: 'host' } : {}),
    ...(plan.publish.length > 0 ? { publish: plan.publish } : {}),
    restart: 'no',
  });
  made.push(infra.Id);
  trace(`kube play: ${plan.name} infra created`);
  const containers: string[] = [];
  for (const [index, member] of plan.members.entries()) {
    const record = await engine.create({
      ...member.options,
      name: `${plan.name}-${member.name}`,
      labels: {
        ...member.options.labels,
        ...podLabels,
        [KUBE_CONTAINER_LABEL]: member.name,
        [KUBE_INDEX_LABEL]: String(index),
        ...(member.portKeys.length > 0 ? { [KUBE_PORTS_LABEL]: member.portKeys.join(',') } : {}),
      },
      network: `container:${infra.Id}`,
      // The host's namespaces directly, as podman does, rather than through the infra
      // container's: --ipc host also binds the host's /dev/shm, which joining would not.
      ipc: plan.hostIPC ? 'host' : `container:${infra.Id}`,
      // The pod's name is its uts namespace's, as in podman (and Kubernetes).
      uts: plan.hostNetwork ? 'host' : `container:${infra.Id}`,
      ...(plan.hostPID
        ? { pid: 'host' }
        : plan.shareProcessNamespace
          ? { pid: `container:${infra.Id}` }
          : {}),
    });
    made.push(record.Id);
    containers.push(record.Id);
    trace(`kube play: ${plan.name} container ${member.name} created`);
  }
  return { id, name: plan.name, infra: infra.Id, containers };
}

/** hostPath.type asks for a path that exists, of a kind: checked (following links, as the kubelet does). */
function checkHostPath({ where, path, kind }: HostPathCheck): void {
  const stats = fs.statSync(path, { throwIfNoEntry: false });
  const is = {
    Directory: () => stats?.isDirectory(),
    File: () => stats?.isFile(),
    Socket: () => stats?.isSocket(),
    CharDevice: () => stats?.isCharacterDevice(),
    BlockDevice: () => stats?.isBlockDevice(),
  }[kind];
  if (!is())
    throw new InvalidArgumentError(
      `${where}.path: ${path} ${stats ? 'is not' : 'does not exist; type asks for'} ${HOST_PATH_KINDS[kind]} (type ${kind})`,
      { hint: `make it first, or give type DirectoryOrCreate (or none) to have a directory made` },
    );
}

/** Runs the plans' pods; on any failure removes everything this play made, then throws. */
export async function playPods(
  engine: Engine,
  plans: readonly PodPlan[],
  options: PlayOptions = {},
): Promise<PlayedPod[]> {
  for (const plan of plans) for (const member of plan.members) member.hostPaths.forEach(checkHostPath);
  const existing = await listPods(engine);
  for (const plan of plans) {
    if (existing.some((pod) => pod.name === plan.name)) {
      throw new ConflictError(`pod ${plan.name} exists already`, {
        hint: `remove it first (\`gantry kube down FILE\` or \`gantry pod rm -f ${plan.name}\`)`,
      });
    }
  }
  const made: string[] = [];
  const played: PlayedPod[] = [];
  const entries: JournalEntry[] = [];
  try {
    for (const plan of plans) played.push(await createPod(engine, plan, options, made, entries));
    if (options.start !== false) for (const pod of played) await startPod(engine, pod);
    trace('kube play: done');
    return played;
  } catch (error) {
    // Members before the infra container whose namespaces they hold.
    for (const id of made.reverse())
      await engine.remove(id, { force: true, volumes: true }).catch(() => undefined);
    throw error;
  } finally {
    // On failure too: what the removals above could not remove the user sees in `ps -a`; an
    // entry left behind would make the next command remove it behind the user's back.
    for (const entry of entries) entry.end();
  }
}

async function startPod(engine: Engine, pod: PlayedPod): Promise<void> {
  await engine.start(pod.infra);
  trace(`kube play: ${pod.name} infra started`);
  for (const [index, id] of pod.containers.entries()) {
    await engine.start(id);
    trace(`kube play: ${pod.name} container ${index + 1} started`);
  }
}

/**
 * Undoes a play that was killed (its journal entry, named by the pod id, was abandoned): every
 * container of that pod, its members before the infra container whose namespaces they hold.
 */
export async function undoPlay(engine: Engine, podId: string): Promise<void> {
  const { records } = await engine.list({ all: true });
  const pod = podsOf(records).get(podId);
  if (pod) await removePod(engine, pod, { force: true });
}

function isUp(record: ContainerRecord): boolean {
  return record.State.Status === 'running' || record.State.Status === 'paused';
}

/** `pod start`: the infra container first (the others join its namespaces). */
export async function startExistingPod(engine: Engine, pod: PodMembers): Promise<void> {
  if (!pod.infra)
    throw new NotFoundError(`pod ${pod.name} has no infra container`, {
      hint: `remove it (\`gantry pod rm -f ${pod.name}\`) and play it again`,
    });
  if (!isUp(pod.infra)) {
    // Its members still hold the old namespaces: they must end first, or they would be split.
    for (const record of pod.containers) if (isUp(record)) await engine.stop(record.Id);
    await engine.start(pod.infra.Id);
  }
  for (const record of pod.containers) if (!isUp(record)) await engine.start(record.Id);
}

/** `pod stop`: the members, then the infra container. */
export async function stopPod(engine: Engine, pod: PodMembers, timeoutSeconds?: number): Promise<void> {
  await Promise.all(pod.containers.map((record) => engine.stop(record.Id, timeoutSeconds)));
  if (pod.infra) await engine.stop(pod.infra.Id, timeoutSeconds);
}

/** `pod rm`: a running pod only with force; members first. */
export async function removePod(
  engine: Engine,
  pod: PodMembers,
  options: { force?: boolean } = {},
): Promise<void> {
  const all = [...pod.containers, ...(pod.infra ? [pod.infra] : [])];
  if (!options.force) {
    const running = all.filter(isUp);
    if (running.length > 0) {
      throw new ConflictError(
        `pod ${pod.name} is running (${running.map((record) => record.Name).join(', ')})`,
        {
          hint: `stop it first (\`gantry pod stop ${pod.name}\`) or remove it with -f`,
        },
      );
    }
  }
  for (const record of all) {
    try {
      await engine.remove(record.Id, { force: true, volumes: true });
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
  }
}
