/**
 * Every field of a manifest `kube play` is given, checked before anything is planned: a name the
 * Kubernetes API does not have is refused with its path, as kubectl's strict field validation
 * refuses it (`unknown field "spec.containers[0].imagee"`); a field it has is played, ignored
 * with a warning (it has no meaning on one machine: scheduling, cluster services, rollouts), or
 * refused (ignoring it would change what runs). The decisions follow podman's `kube play`
 * (pkg/specgen/generate/kube) where gantry has the same means; a field of a played object that
 * the table below does not name is refused, so a field is never dropped without a word, also
 * when the Kubernetes API grows (schema-fields.ts is generated from it). Pure.
 */
import { DEPLOYMENT_TYPE, KUBE_FIELDS, POD_TYPE } from './schema-fields.js';

/**
 * play: planned (manifest.ts reads it; an object's own fields are checked in turn);
 * inert: describes the object, not what runs (bookkeeping, status): nothing to honour;
 * warn: ignored, with this reason; refuse: not played, with this reason and hint.
 * `unless`: a value that needs no honouring (the field's default, as `false`), so it passes.
 */
export type Handling =
  'play' | 'inert' | { warn: string; unless?: unknown } | { refuse: string; hint?: string; unless?: unknown };

const SCHEDULING = { warn: 'scheduling has no meaning on one machine' };
const CLUSTER = { warn: 'there is no cluster here to provide it' };
const ROLLOUT = { warn: 'one pod runs here; there is no rollout' };
const NOT_RUN = (what: string) => ({ warn: `${what} is not run here` });
const VOLUME_TYPES =
  'supported volumes: hostPath (a bind), persistentVolumeClaim (a named volume), emptyDir (an anonymous volume; medium Memory: a tmpfs)';

/** By object type (schema-fields.ts's names), the fields of those whose fields are played. */
const HANDLING: Readonly<Record<string, Readonly<Record<string, Handling>>>> = {
  Pod: { apiVersion: 'play', kind: 'play', metadata: 'play', spec: 'play', status: 'inert' },
  Deployment: { apiVersion: 'play', kind: 'play', metadata: 'play', spec: 'play', status: 'inert' },
  DeploymentSpec: {
    replicas: 'play',
    selector: 'inert',
    template: 'play',
    strategy: ROLLOUT,
    minReadySeconds: ROLLOUT,
    paused: ROLLOUT,
    progressDeadlineSeconds: ROLLOUT,
    revisionHistoryLimit: ROLLOUT,
  },
  PodTemplateSpec: { metadata: 'play', spec: 'play' },
  // Who made the object and when, what the cluster keeps about it: nothing runs differently.
  ObjectMeta: {
    name: 'play',
    labels: 'play',
    annotations: 'inert',
    namespace: 'inert',
    creationTimestamp: 'inert',
    deletionGracePeriodSeconds: 'inert',
    deletionTimestamp: 'inert',
    finalizers: 'inert',
    generateName: 'inert',
    generation: 'inert',
    managedFields: 'inert',
    ownerReferences: 'inert',
    resourceVersion: 'inert',
    selfLink: 'inert',
    uid: 'inert',
  },
  PodSpec: {
    containers: 'play',
    volumes: 'play',
    hostname: 'play',
    restartPolicy: 'play',
    shareProcessNamespace: 'play',
    hostNetwork: 'play',
    // The infra container and every container of the pod, as podman's kube play (--pid/--ipc host).
    hostPID: 'play',
    hostIPC: 'play',
    terminationGracePeriodSeconds: 'play',
    securityContext: 'play',
    os: 'play',
    hostUsers: {
      refuse: 'is not supported: a pod here runs in the host user namespace',
      hint: 'leave hostUsers out',
      unless: true,
    },
    initContainers: {
      refuse: 'is not supported: gantry runs no init containers',
      hint: 'run the init step in the image, or as a container of its own before the pod',
    },
    ephemeralContainers: { refuse: 'is not supported', hint: 'use `gantry exec` in a running container' },
    activeDeadlineSeconds: { refuse: 'is not supported: nothing ends a pod at a deadline here' },
    hostAliases: { refuse: 'is not supported yet', hint: 'leave it out and use names the pod resolves' },
    dnsConfig: { refuse: 'is not supported yet', hint: 'leave it out: the pod uses the host resolver' },
    resources: {
      refuse: 'is not supported: limits are per container here',
      hint: 'give each container its resources',
    },
    resourceClaims: { refuse: 'is not supported: there is no dynamic resource allocation here' },
    affinity: SCHEDULING,
    nodeName: SCHEDULING,
    nodeSelector: SCHEDULING,
    tolerations: SCHEDULING,
    topologySpreadConstraints: SCHEDULING,
    schedulingGates: SCHEDULING,
    schedulerName: SCHEDULING,
    priority: SCHEDULING,
    priorityClassName: SCHEDULING,
    preemptionPolicy: SCHEDULING,
    overhead: SCHEDULING,
    readinessGates: CLUSTER,
    runtimeClassName: { warn: "the pod runs with gantry's own runtime" },
    serviceAccount: CLUSTER,
    serviceAccountName: CLUSTER,
    automountServiceAccountToken: CLUSTER,
    imagePullSecrets: { warn: 'images come from the local store (`gantry pull` uses your logins)' },
    enableServiceLinks: CLUSTER,
    dnsPolicy: { warn: 'the pod uses the host resolver' },
    setHostnameAsFQDN: { warn: 'the host name is the pod name (or spec.hostname)', unless: false },
    subdomain: CLUSTER,
  },
  PodOS: { name: 'play' },
  PodSecurityContext: {
    runAsUser: 'play',
    runAsGroup: 'play',
    runAsNonRoot: 'play',
    seccompProfile: 'play',
    windowsOptions: { warn: 'it applies to Windows only' },
    fsGroup: { refuse: 'is not supported: gantry does not change the ownership of volumes' },
    supplementalGroups: { refuse: 'is not supported: gantry sets no supplementary groups' },
    sysctls: { refuse: 'is not supported: gantry sets no namespaced sysctls' },
  },
  Container: {
    name: 'play',
    image: 'play',
    command: 'play',
    args: 'play',
    env: 'play',
    workingDir: 'play',
    ports: 'play',
    resources: 'play',
    securityContext: 'play',
    volumeMounts: 'play',
    tty: 'play',
    stdin: 'play',
    livenessProbe: 'play',
    imagePullPolicy: { warn: 'images are taken from the local store (`gantry pull` first)' },
    readinessProbe: NOT_RUN('the readiness probe (no Service sends traffic here)'),
    startupProbe: NOT_RUN('the startup probe'),
    lifecycle: NOT_RUN('a lifecycle hook'),
    resizePolicy: { warn: 'resources change with `gantry update`' },
    stdinOnce: { warn: 'stdin stays open while the container runs', unless: false },
    terminationMessagePath: { warn: 'there is no termination message here' },
    terminationMessagePolicy: { warn: 'there is no termination message here' },
    envFrom: {
      refuse: 'is not supported: there are no ConfigMaps or Secrets here',
      hint: 'give each variable in env (name: ..., value: ...)',
    },
    volumeDevices: { refuse: 'is not supported: there are no block volumes here' },
    restartPolicy: { refuse: 'is not supported: gantry runs no init or sidecar containers' },
  },
  EnvVar: {
    name: 'play',
    value: 'play',
    valueFrom: { refuse: 'is not supported', hint: 'give the value itself (value: ...)' },
  },
  ContainerPort: {
    containerPort: 'play',
    hostPort: 'play',
    hostIP: 'play',
    protocol: 'play',
    // Only a name to refer to the port by (a probe does, and names are resolved there).
    name: 'inert',
  },
  ResourceRequirements: {
    limits: 'play',
    requests: 'play',
    claims: { refuse: 'is not supported: there is no dynamic resource allocation here' },
  },
  SecurityContext: {
    runAsUser: 'play',
    runAsGroup: 'play',
    runAsNonRoot: 'play',
    privileged: 'play',
    readOnlyRootFilesystem: 'play',
    capabilities: 'play',
    seccompProfile: 'play',
    // gantry always sets no_new_privs (false is what it does).
    allowPrivilegeEscalation: {
      warn: 'gantry always sets no_new_privs: setuid programs do not gain privileges',
      unless: false,
    },
    procMount: {
      refuse: 'is not supported: /proc is always masked',
      hint: 'leave it out (or Default)',
      unless: 'Default',
    },
    windowsOptions: { warn: 'it applies to Windows only' },
  },
  Capabilities: { add: 'play', drop: 'play' },
  SeccompProfile: { type: 'play', localhostProfile: 'play' },
  Probe: {
    exec: 'play',
    initialDelaySeconds: 'play',
    periodSeconds: 'play',
    timeoutSeconds: 'play',
    failureThreshold: 'play',
    successThreshold: { refuse: 'must be 1 for a liveness probe', unless: 1 },
    httpGet: {
      refuse: 'is not supported: gantry runs exec probes',
      hint: 'probe with a command (exec: {command: [wget, -q, -O, /dev/null, http://localhost:PORT/PATH]})',
    },
    tcpSocket: {
      refuse: 'is not supported: gantry runs exec probes',
      hint: 'probe with a command (exec: {command: [...]}) that connects to the port',
    },
    grpc: { refuse: 'is not supported: gantry runs exec probes', hint: 'probe with a command (exec)' },
    terminationGracePeriodSeconds: { warn: "the container is stopped with the pod's grace period" },
  },
  ExecAction: { command: 'play' },
  VolumeMount: {
    name: 'play',
    mountPath: 'play',
    readOnly: 'play',
    subPath: {
      refuse: 'is not supported: a volume is mounted whole',
      hint: 'mount the volume and use the path in it',
    },
    subPathExpr: { refuse: 'is not supported: a volume is mounted whole' },
    mountPropagation: { refuse: 'is not supported: mounts are private', unless: 'None' },
    recursiveReadOnly: { refuse: 'is not supported', unless: 'Disabled' },
  },
  Volume: {
    name: 'play',
    hostPath: 'play',
    persistentVolumeClaim: 'play',
    emptyDir: 'play',
  },
  HostPathVolumeSource: { path: 'play', type: 'play' },
  PersistentVolumeClaimVolumeSource: { claimName: 'play', readOnly: 'play' },
  EmptyDirVolumeSource: { medium: 'play', sizeLimit: 'play' },
};

/** What `kube play` does with a field of an object type whose fields it plays. */
export function handlingOf(type: string, field: string): Handling {
  return HANDLING[type]?.[field] ?? unlisted(type, field);
}

/** What is refused when a played object's field has no entry above. */
function unlisted(type: string, field: string): Handling {
  if (type === 'Volume') return { refuse: `volume type ${field} is not supported`, hint: VOLUME_TYPES };
  return { refuse: 'is not supported: gantry has no equivalent', hint: 'leave it out' };
}

export interface FieldReview {
  /** Paths of names the Kubernetes API does not have ("spec.containers[0].imagee"). */
  unknown: { path: string; known: readonly string[] }[];
  /** The first field that cannot be played, with why. */
  refused: { path: string; message: string; hint?: string }[];
  warnings: string[];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A value that asks for nothing: absent, an empty list or object, or the field's default. */
function asksNothing(value: unknown, handling: { unless?: unknown }): boolean {
  if (value === null || value === undefined) return true;
  if (Array.isArray(value)) return value.length === 0;
  if (isObject(value)) return Object.keys(value).length === 0;
  return value === (handling.unless ?? false);
}

function review(value: Record<string, unknown>, type: string, prefix: string, found: FieldReview): void {
  const fields = KUBE_FIELDS[type] ?? {};
  for (const [key, child] of Object.entries(value)) {
    const path = prefix ? `${prefix}.${key}` : key;
    const childType = fields[key];
    if (childType === undefined) {
      found.unknown.push({ path, known: Object.keys(fields) });
      continue;
    }
    const handling = handlingOf(type, key);
    if (handling === 'inert') continue;
    if (handling !== 'play') {
      if (asksNothing(child, handling)) continue;
      if ('warn' in handling) found.warnings.push(`${path} is ignored: ${handling.warn}`);
      else
        found.refused.push({
          path,
          message: handling.refuse,
          ...(handling.hint ? { hint: handling.hint } : {}),
        });
      continue;
    }
    if (childType === '') continue;
    // Wrong shapes (a list where an object goes) are left to the planner, which names them.
    if (childType.endsWith('[]')) {
      if (!Array.isArray(child)) continue;
      const element = childType.slice(0, -2);
      for (const [index, item] of child.entries())
        if (isObject(item)) review(item, element, `${path}[${index}]`, found);
    } else if (isObject(child)) {
      review(child, childType, path, found);
    }
  }
}

/** The review of a Pod or Deployment document (its kind checked by the caller). */
export function reviewFields(document: Record<string, unknown>, kind: 'Pod' | 'Deployment'): FieldReview {
  const found: FieldReview = { unknown: [], refused: [], warnings: [] };
  review(document, kind === 'Pod' ? POD_TYPE : DEPLOYMENT_TYPE, '', found);
  return found;
}

/** The known name closest to a misspelt one (at most two edits away), for "did you mean". */
export function closestField(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1)
      current[j] = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    previous = current;
  }
  return previous[b.length]!;
}
