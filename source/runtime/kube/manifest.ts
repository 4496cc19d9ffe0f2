/**
 * `kube play` reads a manifest into plans: for each Pod (or a Deployment's pod template), the
 * create options of every container in the engine's vocabulary, the ports its infra container
 * publishes, and whether its containers share a pid namespace. Everything is checked before
 * anything is made; a field the engine has no equivalent for is refused when ignoring it would
 * change what runs (an init container, a Secret volume), else named in a warning. Pure.
 */
import type { CreateOptions } from '../containers/create.js';
import { InvalidArgumentError } from '../errors.js';
import { dnsLabel } from './generate.js';
import { parseBytes, parseMillicores, quotaOfMillicores, sharesOfMillicores } from './quantity.js';
import type { KubeContainer, KubeManifest, KubePodSpec, KubeVolume } from './types.js';

export interface MemberPlan {
  /** The container's name in the manifest. */
  name: string;
  /** "80/tcp" for each port it declares (so generate gives the port back to it). */
  portKeys: string[];
  options: CreateOptions;
}

export interface PodPlan {
  name: string;
  hostname: string;
  shareProcessNamespace: boolean;
  labels: Record<string, string>;
  /** -p values of the infra container: every container's host ports. */
  publish: string[];
  members: MemberPlan[];
}

const ACCEPTED =
  'give a Pod (apiVersion v1) or a Deployment (apiVersion apps/v1), such as `gantry kube generate` writes';

function fail(where: string, message: string, hint = ACCEPTED): never {
  throw new InvalidArgumentError(`${where}: ${message}`, { hint });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringList(value: unknown, where: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string' || typeof item === 'number'))
    fail(where, 'must be a list of strings');
  return value.map(String);
}

/** Fields of a container spec that are safe to leave out here (scheduling, probes, policy). */
const IGNORED_CONTAINER_FIELDS = new Set([
  'imagePullPolicy',
  'livenessProbe',
  'readinessProbe',
  'startupProbe',
  'terminationMessagePath',
  'terminationMessagePolicy',
  'lifecycle',
  'resizePolicy',
  'stdinOnce',
]);
const KNOWN_CONTAINER_FIELDS = new Set([
  'name',
  'image',
  'command',
  'args',
  'env',
  'workingDir',
  'ports',
  'resources',
  'securityContext',
  'volumeMounts',
  'tty',
  'stdin',
]);
const IGNORED_POD_FIELDS = new Set([
  'affinity',
  'nodeName',
  'nodeSelector',
  'tolerations',
  'serviceAccountName',
  'serviceAccount',
  'automountServiceAccountToken',
  'terminationGracePeriodSeconds',
  'dnsPolicy',
  'schedulerName',
  'priority',
  'priorityClassName',
  'enableServiceLinks',
  'securityContext',
  'imagePullSecrets',
  'preemptionPolicy',
]);
const KNOWN_POD_FIELDS = new Set([
  'containers',
  'volumes',
  'hostname',
  'restartPolicy',
  'shareProcessNamespace',
  'hostNetwork',
  'hostPID',
  'hostIPC',
]);

const RESTART = { Always: 'always', OnFailure: 'on-failure', Never: 'no' } as const;

function volumeOptions(
  where: string,
  volume: KubeVolume,
  mountPath: string,
  readOnly: boolean,
): { volume?: string; tmpfs?: string } {
  const mode = readOnly ? ':ro' : '';
  if (volume.hostPath) {
    if (typeof volume.hostPath.path !== 'string' || !volume.hostPath.path.startsWith('/'))
      fail(`${where}.hostPath.path`, 'must be an absolute host path');
    return { volume: `${volume.hostPath.path}:${mountPath}${mode}` };
  }
  if (volume.persistentVolumeClaim) {
    const claim = volume.persistentVolumeClaim.claimName;
    if (typeof claim !== 'string' || claim === '')
      fail(`${where}.persistentVolumeClaim.claimName`, 'is missing');
    return { volume: `${claim}:${mountPath}${mode || (volume.persistentVolumeClaim.readOnly ? ':ro' : '')}` };
  }
  if (volume.emptyDir) {
    if (volume.emptyDir.medium === 'Memory') {
      const size = volume.emptyDir.sizeLimit;
      const options = [
        size !== undefined ? `size=${parseBytes(String(size), `${where}.emptyDir.sizeLimit`)}` : '',
        readOnly ? 'ro' : '',
      ]
        .filter(Boolean)
        .join(',');
      return { tmpfs: options ? `${mountPath}:${options}` : mountPath };
    }
    return { volume: mountPath };
  }
  const kinds = Object.keys(volume).filter((key) => key !== 'name');
  return fail(
    where,
    `volume type ${kinds.join(', ') || '(none)'} is not supported`,
    'supported volumes: hostPath (a bind), persistentVolumeClaim (a named volume), emptyDir (an anonymous volume; medium Memory: a tmpfs)',
  );
}

function memberPlan(
  where: string,
  container: KubeContainer,
  volumes: ReadonlyMap<string, KubeVolume>,
  restart: string,
  labels: Record<string, string>,
  warnings: string[],
): { member: MemberPlan; publish: string[] } {
  if (!isObject(container)) fail(where, 'must be a container object');
  if (typeof container.name !== 'string' || dnsLabel(container.name) !== container.name)
    fail(
      `${where}.name`,
      `${JSON.stringify(container.name)} is not a valid name`,
      'lowercase letters, digits and "-", at most 63',
    );
  if (typeof container.image !== 'string' || container.image === '') fail(`${where}.image`, 'is missing');
  for (const key of Object.keys(container)) {
    if (IGNORED_CONTAINER_FIELDS.has(key)) warnings.push(`${where}.${key} is ignored`);
    else if (!KNOWN_CONTAINER_FIELDS.has(key))
      fail(
        `${where}.${key}`,
        'is not supported',
        'leave it out; `gantry kube generate` shows the fields gantry plays',
      );
  }
  const options: CreateOptions = { image: container.image, labels: { ...labels } };
  const command = stringList(container.command, `${where}.command`);
  const args = stringList(container.args, `${where}.args`);
  if (command !== undefined) {
    options.entrypointArgs = command;
    options.command = args ?? [];
  } else if (args !== undefined) {
    options.command = args;
  }
  if (container.env !== undefined) {
    if (!Array.isArray(container.env)) fail(`${where}.env`, 'must be a list');
    options.env = container.env.map((entry, index) => {
      if (!isObject(entry) || typeof entry.name !== 'string' || entry.name === '')
        fail(`${where}.env[${index}]`, 'needs a name');
      if ('valueFrom' in entry)
        fail(`${where}.env[${index}].valueFrom`, 'is not supported', 'give the value itself (value: ...)');
      return `${entry.name}=${entry.value === undefined || entry.value === null ? '' : String(entry.value)}`;
    });
  }
  if (container.workingDir !== undefined) options.workdir = String(container.workingDir);
  if (container.tty) options.tty = true;
  if (container.stdin) options.interactive = true;
  options.restart = restart;
  const security = container.securityContext;
  if (security !== undefined) {
    if (!isObject(security as unknown)) fail(`${where}.securityContext`, 'must be an object');
    if (security.runAsUser !== undefined)
      options.user =
        security.runAsGroup !== undefined
          ? `${security.runAsUser}:${security.runAsGroup}`
          : String(security.runAsUser);
    else if (security.runAsGroup !== undefined)
      fail(`${where}.securityContext.runAsGroup`, 'needs runAsUser too', 'give runAsUser with it');
    if (security.privileged) options.privileged = true;
    if (security.readOnlyRootFilesystem) options.readOnly = true;
    if (security.capabilities?.add)
      options.capAdd = stringList(security.capabilities.add, `${where}.securityContext.capabilities.add`)!;
    if (security.capabilities?.drop)
      options.capDrop = stringList(security.capabilities.drop, `${where}.securityContext.capabilities.drop`)!;
    if (security.allowPrivilegeEscalation !== undefined)
      warnings.push(
        `${where}.securityContext.allowPrivilegeEscalation is ignored: gantry always sets no_new_privs`,
      );
  }
  const resources = container.resources;
  if (resources !== undefined) {
    const limits = resources.limits ?? {};
    const requests = resources.requests ?? {};
    const engine: NonNullable<CreateOptions['resources']> = {};
    if (limits.memory !== undefined)
      engine.memory = parseBytes(String(limits.memory), `${where}.resources.limits.memory`);
    if (requests.memory !== undefined)
      engine.memoryReservation = parseBytes(String(requests.memory), `${where}.resources.requests.memory`);
    if (limits.cpu !== undefined)
      Object.assign(engine, quotaOfMillicores(parseMillicores(limits.cpu, `${where}.resources.limits.cpu`)));
    if (requests.cpu !== undefined)
      engine.cpuShares = sharesOfMillicores(parseMillicores(requests.cpu, `${where}.resources.requests.cpu`));
    for (const key of [...Object.keys(limits), ...Object.keys(requests)])
      if (key !== 'memory' && key !== 'cpu') warnings.push(`${where}.resources: ${key} is ignored`);
    options.resources = engine;
  }
  const publish: string[] = [];
  const portKeys: string[] = [];
  for (const [index, port] of (container.ports ?? []).entries()) {
    if (
      !isObject(port) ||
      !Number.isInteger(port.containerPort) ||
      port.containerPort < 1 ||
      port.containerPort > 65535
    )
      fail(`${where}.ports[${index}].containerPort`, 'must be a port number (1-65535)');
    const protocol = (port.protocol ?? 'TCP').toLowerCase();
    if (protocol !== 'tcp' && protocol !== 'udp')
      fail(`${where}.ports[${index}].protocol`, `${port.protocol} is not supported`, 'TCP or UDP');
    const key = `${port.containerPort}/${protocol}`;
    portKeys.push(key);
    if (port.hostPort !== undefined)
      publish.push(`${port.hostIP ? `${port.hostIP}:` : ''}${port.hostPort}:${key}`);
  }
  const binds: string[] = [];
  const tmpfs: string[] = [];
  for (const [index, mount] of (container.volumeMounts ?? []).entries()) {
    const at = `${where}.volumeMounts[${index}]`;
    if (!isObject(mount) || typeof mount.mountPath !== 'string' || !mount.mountPath.startsWith('/'))
      fail(`${at}.mountPath`, 'must be an absolute path');
    const volume = volumes.get(mount.name);
    if (!volume)
      fail(
        `${at}.name`,
        `no volume ${JSON.stringify(mount.name)} in spec.volumes`,
        'name a volume the pod lists',
      );
    const made = volumeOptions(
      `spec.volumes[${mount.name}]`,
      volume,
      mount.mountPath,
      mount.readOnly === true,
    );
    if (made.volume) binds.push(made.volume);
    if (made.tmpfs) tmpfs.push(made.tmpfs);
  }
  if (binds.length > 0) options.volumes = binds;
  if (tmpfs.length > 0) options.tmpfs = tmpfs;
  return { member: { name: container.name, portKeys, options }, publish };
}

function podSpecPlan(
  where: string,
  name: string,
  spec: KubePodSpec,
  labels: Record<string, string>,
  warnings: string[],
): PodPlan {
  if (!isObject(spec)) fail(`${where}.spec`, 'is missing');
  if (!Array.isArray(spec.containers) || spec.containers.length === 0)
    fail(`${where}.spec.containers`, 'needs at least one container');
  for (const key of Object.keys(spec)) {
    if (IGNORED_POD_FIELDS.has(key)) warnings.push(`${where}.spec.${key} is ignored`);
    else if (!KNOWN_POD_FIELDS.has(key))
      fail(
        `${where}.spec.${key}`,
        'is not supported',
        'leave it out; `gantry kube generate` shows the fields gantry plays',
      );
  }
  for (const key of ['hostNetwork', 'hostPID', 'hostIPC'] as const)
    if (spec[key])
      fail(
        `${where}.spec.${key}`,
        'is not supported: a pod here has namespaces of its own',
        `leave ${key} out`,
      );
  const restartPolicy = spec.restartPolicy ?? 'Always';
  const restart = RESTART[restartPolicy as keyof typeof RESTART];
  if (!restart)
    fail(
      `${where}.spec.restartPolicy`,
      `${JSON.stringify(restartPolicy)} is not one of Always, OnFailure, Never`,
    );
  const volumes = new Map<string, KubeVolume>();
  for (const [index, volume] of (spec.volumes ?? []).entries()) {
    if (!isObject(volume) || typeof volume.name !== 'string')
      fail(`${where}.spec.volumes[${index}].name`, 'is missing');
    if (volumes.has(volume.name))
      fail(`${where}.spec.volumes[${index}].name`, `${volume.name} is given twice`);
    volumes.set(volume.name, volume);
  }
  const members: MemberPlan[] = [];
  const publish: string[] = [];
  for (const [index, container] of spec.containers.entries()) {
    const planned = memberPlan(
      `${where}.spec.containers[${index}]`,
      container,
      volumes,
      restart,
      labels,
      warnings,
    );
    if (members.some((member) => member.name === planned.member.name))
      fail(`${where}.spec.containers[${index}].name`, `${planned.member.name} is given twice`);
    members.push(planned.member);
    publish.push(...planned.publish);
  }
  if (spec.hostname !== undefined && !/^[A-Za-z0-9]([A-Za-z0-9.-]{0,62})$/.test(String(spec.hostname)))
    fail(`${where}.spec.hostname`, `${JSON.stringify(spec.hostname)} is not a host name`);
  return {
    name,
    hostname: spec.hostname !== undefined ? String(spec.hostname) : name,
    shareProcessNamespace: spec.shareProcessNamespace === true,
    labels,
    publish,
    members,
  };
}

function labelsOf(where: string, value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) fail(where, 'must be a map of strings');
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, String(item)]));
}

/** The pod name a document runs as (a Deployment's pod is NAME-pod, as podman names it). */
function documentPlan(document: unknown, where: string, warnings: string[]): PodPlan {
  if (!isObject(document)) fail(where, 'is not a Kubernetes object');
  const manifest = document as unknown as KubeManifest;
  const name = isObject(manifest.metadata) ? manifest.metadata.name : undefined;
  if (typeof name !== 'string' || dnsLabel(name) !== name)
    fail(
      `${where}.metadata.name`,
      `${JSON.stringify(name)} is not a valid name`,
      'lowercase letters, digits and "-", at most 63',
    );
  if (manifest.kind === 'Pod' && manifest.apiVersion === 'v1')
    return podSpecPlan(
      where,
      name,
      manifest.spec,
      labelsOf(`${where}.metadata.labels`, manifest.metadata.labels),
      warnings,
    );
  if (manifest.kind === 'Deployment' && manifest.apiVersion === 'apps/v1') {
    const template = isObject(manifest.spec) ? manifest.spec.template : undefined;
    if (!isObject(template)) fail(`${where}.spec.template`, 'is missing');
    if ((manifest.spec.replicas ?? 1) !== 1)
      warnings.push(`${where}: ${manifest.spec.replicas} replicas asked; one pod runs here`);
    return podSpecPlan(
      where,
      `${name}-pod`,
      template.spec,
      labelsOf(`${where}.spec.template.metadata.labels`, template.metadata?.labels),
      warnings,
    );
  }
  return fail(
    where,
    `kind ${JSON.stringify((manifest as { kind?: unknown }).kind)} of apiVersion ${JSON.stringify((manifest as { apiVersion?: unknown }).apiVersion)} is not supported`,
  );
}

/** Plans of every document; throws on the first that cannot be played. */
export function podPlans(
  documents: readonly unknown[],
  file: string,
): { plans: PodPlan[]; warnings: string[] } {
  if (documents.length === 0) fail(file, 'holds no Kubernetes object');
  const warnings: string[] = [];
  const plans = documents.map((document, index) =>
    documentPlan(document, documents.length > 1 ? `${file}[${index}]` : file, warnings),
  );
  const names = new Set<string>();
  for (const plan of plans) {
    if (names.has(plan.name)) fail(file, `pod ${plan.name} is given twice`);
    names.add(plan.name);
  }
  return { plans, warnings };
}
