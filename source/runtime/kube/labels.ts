/**
 * The labels by which a container says it belongs to a pod (what `kube play` made): the pod's id
 * and name, whether it is the pod's infra container, its name in the manifest and the ports it
 * declared there. The containers are the truth of a pod's membership, so a play killed half-way
 * leaves nothing that `pod rm` or `kube down` cannot find.
 */
import type { ContainerRecord } from '../containers/record.js';

export const POD_ID_LABEL = 'io.gantry.pod.id';
export const POD_NAME_LABEL = 'io.gantry.pod.name';
export const INFRA_LABEL = 'io.gantry.pod.infra';
export const KUBE_CONTAINER_LABEL = 'io.gantry.kube.container';
export const KUBE_PORTS_LABEL = 'io.gantry.kube.ports';
/** The member's place in the manifest's container list. */
export const KUBE_INDEX_LABEL = 'io.gantry.kube.index';
/** On the infra container: the pod's containers share its pid namespace (shareProcessNamespace). */
export const SHARE_PID_LABEL = 'io.gantry.pod.share-pid';

/** Labels of gantry's own, never written into a manifest. */
export function isOwnLabel(key: string): boolean {
  return key.startsWith('io.gantry.');
}

export function podIdOf(record: ContainerRecord): string | undefined {
  return record.Config.Labels[POD_ID_LABEL] || undefined;
}

export function isInfra(record: ContainerRecord): boolean {
  return record.Config.Labels[INFRA_LABEL] === 'true';
}
