/**
 * What `kube generate` reads from the engine: the named containers, or the members of a pod
 * `kube play` made, with their images' configs and the kinds of their host paths.
 */
import fs from 'node:fs';
import type { Engine } from '../containers/engine.js';
import type { ContainerRecord } from '../containers/record.js';
import { InvalidArgumentError, NotFoundError } from '../errors.js';
import type { ImageRuntimeConfig } from '../images/types.js';
import { generateManifest, type GenerateMember, type GenerateResult } from './generate.js';
import { isInfra, KUBE_INDEX_LABEL, POD_ID_LABEL, POD_NAME_LABEL, SHARE_PID_LABEL } from './labels.js';

export interface PodMembers {
  id: string;
  name: string;
  infra?: ContainerRecord;
  /** In the manifest's order. */
  containers: ContainerRecord[];
}

/** Pods by id, from their containers' labels. */
export function podsOf(records: readonly ContainerRecord[]): Map<string, PodMembers> {
  const pods = new Map<string, PodMembers>();
  for (const record of records) {
    const id = record.Config.Labels[POD_ID_LABEL];
    if (!id) continue;
    let pod = pods.get(id);
    if (!pod) {
      pod = { id, name: record.Config.Labels[POD_NAME_LABEL] ?? id.slice(0, 12), containers: [] };
      pods.set(id, pod);
    }
    if (isInfra(record)) pod.infra = record;
    else pod.containers.push(record);
  }
  for (const pod of pods.values()) {
    pod.containers.sort(
      (a, b) =>
        Number(a.Config.Labels[KUBE_INDEX_LABEL] ?? 0) - Number(b.Config.Labels[KUBE_INDEX_LABEL] ?? 0) ||
        a.Created.localeCompare(b.Created),
    );
  }
  return pods;
}

/** The pod a name or id (or a unique id prefix) names, if any. */
export function findPod(pods: Map<string, PodMembers>, reference: string): PodMembers | undefined {
  const all = [...pods.values()];
  const exact = all.find((pod) => pod.name === reference || pod.id === reference);
  if (exact) return exact;
  const prefixed = reference.length >= 3 ? all.filter((pod) => pod.id.startsWith(reference)) : [];
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

async function imageConfig(engine: Engine, record: ContainerRecord): Promise<ImageRuntimeConfig> {
  try {
    const image = await engine.images.resolve(record.Image);
    return (await engine.images.readConfig(image)).config ?? {};
  } catch (error) {
    if (error instanceof NotFoundError) return {};
    throw error;
  }
}

function hostPathType(file: string): 'Directory' | 'File' | undefined {
  try {
    const stats = fs.statSync(file);
    return stats.isDirectory() ? 'Directory' : stats.isFile() ? 'File' : undefined;
  } catch {
    return undefined;
  }
}

/** `kube generate NAME...`: one pod, or containers that are in none. */
export async function generateFor(
  engine: Engine,
  references: readonly string[],
  kind: 'pod' | 'deployment',
): Promise<GenerateResult> {
  const { records } = await engine.list({ all: true });
  const pods = podsOf(records);
  const pod = references.length === 1 ? findPod(pods, references[0]!) : undefined;
  let members: ContainerRecord[];
  let podName: string;
  if (pod) {
    members = pod.containers;
    podName = pod.name;
  } else {
    members = [];
    for (const reference of references) {
      if (findPod(pods, reference)) {
        throw new InvalidArgumentError(`${reference} is a pod: generate it on its own`, {
          hint: `\`gantry kube generate ${reference}\` writes the pod; containers of no pod can be combined into one`,
        });
      }
      const record = await engine.get(reference);
      if (record.Config.Labels[POD_ID_LABEL]) {
        throw new InvalidArgumentError(
          `container ${record.Name} belongs to pod ${record.Config.Labels[POD_NAME_LABEL]}: generate the pod`,
          { hint: `\`gantry kube generate ${record.Config.Labels[POD_NAME_LABEL]}\`` },
        );
      }
      members.push(record);
    }
    podName = `${members[0]!.Name}-pod`;
  }
  if (members.length === 0) throw new NotFoundError(`pod ${podName} has no containers`);
  const withImages: GenerateMember[] = [];
  for (const record of members) withImages.push({ record, image: await imageConfig(engine, record) });
  return generateManifest({
    podName,
    members: withImages,
    ...(pod?.infra ? { portOwner: pod.infra } : {}),
    shareProcessNamespace: pod?.infra?.Config.Labels[SHARE_PID_LABEL] === 'true',
    kind,
    hostPathType,
  });
}
