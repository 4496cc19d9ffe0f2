/**
 * `kube play` reads a manifest into plans: for each Pod (or a Deployment's pod template), the
 * create options of every container in the engine's vocabulary, the ports its infra container
 * publishes, whether its containers share a pid namespace, and which of the host's namespaces
 * (network, pid, ipc) the pod is in. Everything is checked before anything is made: first every
 * field name and whether gantry plays it (fields.ts: an unknown field is refused with its path, as
 * kubectl's strict validation refuses it; a field gantry cannot honour is refused when ignoring it
 * would change what runs, else named in a warning), then the values of the fields it plays. Pure.
 */
import type { CreateOptions } from '../containers/create.js';
import { InvalidArgumentError } from '../errors.js';
import { closestField, reviewFields } from './fields.js';
import { dnsLabel } from './generate.js';
import { parseBytes, parseMillicores, quotaOfMillicores, sharesOfMillicores } from './quantity.js';
import type {
  KubeContainer,
  KubeManifest,
  KubePodSpec,
  KubeProbe,
  KubeSecurityContext,
  KubeVolume,
} from './types.js';

export interface MemberPlan {
  /** The container's name in the manifest. */
  name: string;
  /** "80/tcp" for each port it declares (so generate gives the port back to it). */
  portKeys: string[];
  options: CreateOptions;
  /** Host paths its volumes bind that must exist, of a kind (hostPath.type). */
  hostPaths: HostPathCheck[];
}

export interface PodPlan {
  name: string;
  /** The pod's (its uts namespace's) name; none with hostNetwork, where it is the host's. */
  hostname?: string;
  shareProcessNamespace: boolean;
  /** spec.hostNetwork: the infra container (so the pod) is in the host's network namespace. */
  hostNetwork: boolean;
  /** spec.hostPID: the infra container and every container of the pod are in the host's pid namespace. */
  hostPID: boolean;
  /** spec.hostIPC: the infra container and every container of the pod are in the host's ipc namespace. */
  hostIPC: boolean;
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

/** hostPath kinds whose path must exist already, as what. */
export const HOST_PATH_KINDS = {
  Directory: 'a directory',
  File: 'a file',
  Socket: 'a socket',
  CharDevice: 'a character device',
  BlockDevice: 'a block device',
} as const;
export type HostPathKind = keyof typeof HOST_PATH_KINDS;

/** A host path that must exist as `kind` when the pod is made. */
export interface HostPathCheck {
  where: string;
  path: string;
  kind: HostPathKind;
}

const RESTART = { Always: 'always', OnFailure: 'on-failure', Never: 'no' } as const;

function volumeOptions(
  where: string,
  volume: KubeVolume,
  mountPath: string,
  readOnly: boolean,
  warnings: string[],
): { volume?: string; tmpfs?: string; hostPath?: HostPathCheck } {
  const mode = readOnly ? ':ro' : '';
  if (volume.hostPath) {
    const { path, type = '' } = volume.hostPath;
    if (typeof path !== 'string' || !path.startsWith('/'))
      fail(`${where}.hostPath.path`, 'must be an absolute host path');
    // -v makes a missing host directory, as DirectoryOrCreate asks; the kinds that must exist
    // are checked on the host before anything is made (play.ts).
    if (type !== '' && type !== 'DirectoryOrCreate' && !(type in HOST_PATH_KINDS))
      fail(
        `${where}.hostPath.type`,
        `${JSON.stringify(type)} is not supported`,
        `one of DirectoryOrCreate (or none), ${Object.keys(HOST_PATH_KINDS).join(', ')}; make the path first for FileOrCreate`,
      );
    return {
      volume: `${path}:${mountPath}${mode}`,
      ...(type in HOST_PATH_KINDS
        ? { hostPath: { where: `${where}.hostPath`, path, kind: type as HostPathKind } }
        : {}),
    };
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
    if (volume.emptyDir.sizeLimit !== undefined && volume.emptyDir.sizeLimit !== null)
      warnings.push(
        `${where}.emptyDir.sizeLimit is ignored: only a medium Memory emptyDir (a tmpfs) has a size here`,
      );
    return { volume: mountPath };
  }
  const kinds = Object.keys(volume).filter((key) => key !== 'name');
  return fail(
    where,
    `volume type ${kinds.join(', ') || '(none)'} is not supported`,
    'supported volumes: hostPath (a bind), persistentVolumeClaim (a named volume), emptyDir (an anonymous volume; medium Memory: a tmpfs)',
  );
}

/** Quotes one word for `sh -c` (a health command is a shell command line). */
function shellWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

function seconds(value: unknown, where: string, fallback: number, minimum: number): string {
  if (value === undefined || value === null) return `${fallback}s`;
  if (!Number.isInteger(value) || (value as number) < minimum)
    fail(where, `must be a whole number of seconds, at least ${minimum}`);
  return `${value as number}s`;
}

/** An exec liveness probe as the container's health check, with Kubernetes' defaults. */
function healthOfProbe(where: string, probe: KubeProbe): Partial<CreateOptions> {
  if (!isObject(probe as unknown)) fail(where, 'must be an object');
  const command = stringList(probe.exec?.command, `${where}.exec.command`);
  if (command === undefined || command.length === 0)
    fail(`${where}.exec.command`, 'is missing', 'give the probe command (exec: {command: [...]})');
  const retries = probe.failureThreshold ?? 3;
  if (!Number.isInteger(retries) || retries < 1)
    fail(`${where}.failureThreshold`, 'must be a whole number, at least 1');
  return {
    healthCmd: command.map(shellWord).join(' '),
    healthInterval: seconds(probe.periodSeconds, `${where}.periodSeconds`, 10, 1),
    healthTimeout: seconds(probe.timeoutSeconds, `${where}.timeoutSeconds`, 1, 1),
    healthStartPeriod: seconds(probe.initialDelaySeconds, `${where}.initialDelaySeconds`, 0, 0),
    healthRetries: retries,
  };
}

function memberPlan(
  where: string,
  container: KubeContainer,
  volumes: ReadonlyMap<string, { volume: KubeVolume; where: string }>,
  restart: string,
  labels: Record<string, string>,
  warnings: string[],
  podSecurity: KubeSecurityContext | undefined,
  stopTimeout: number | undefined,
): { member: MemberPlan; publish: string[] } {
  if (!isObject(container)) fail(where, 'must be a container object');
  if (typeof container.name !== 'string' || dnsLabel(container.name) !== container.name)
    fail(
      `${where}.name`,
      `${JSON.stringify(container.name)} is not a valid name`,
      'lowercase letters, digits and "-", at most 63',
    );
  if (typeof container.image !== 'string' || container.image === '') fail(`${where}.image`, 'is missing');
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
  if (container.securityContext !== undefined && !isObject(container.securityContext as unknown))
    fail(`${where}.securityContext`, 'must be an object');
  // The pod's settings are the defaults of its containers' (as Kubernetes and podman apply them).
  const security: KubeSecurityContext | undefined =
    container.securityContext !== undefined || podSecurity !== undefined
      ? { ...podSecurity, ...container.securityContext }
      : undefined;
  if (security !== undefined) {
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
    if (security.runAsNonRoot === true && !(Number(security.runAsUser) > 0))
      fail(
        `${where}.securityContext.runAsNonRoot`,
        'needs a non-root runAsUser here: gantry does not check the image user against it',
        'give runAsUser (a uid other than 0) with it',
      );
    const seccomp = security.seccompProfile;
    if (seccomp !== undefined && seccomp !== null) {
      const type = isObject(seccomp as unknown) ? seccomp.type : undefined;
      if (type === 'Unconfined') options.securityOpt = ['seccomp=unconfined'];
      else if (type !== 'RuntimeDefault')
        fail(
          `${where}.securityContext.seccompProfile.type`,
          `${JSON.stringify(type)} is not supported`,
          "RuntimeDefault (gantry's default filter) or Unconfined",
        );
    }
  }
  const probe = container.livenessProbe;
  if (probe !== undefined && probe !== null) {
    Object.assign(options, healthOfProbe(`${where}.livenessProbe`, probe));
    warnings.push(
      `${where}.livenessProbe runs as the container's health check: a failing container is shown unhealthy (gantry ps, inspect), not restarted`,
    );
  }
  if (stopTimeout !== undefined) options.stopTimeout = stopTimeout;
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
  const hostPaths: HostPathCheck[] = [];
  for (const [index, mount] of (container.volumeMounts ?? []).entries()) {
    const at = `${where}.volumeMounts[${index}]`;
    if (!isObject(mount) || typeof mount.mountPath !== 'string' || !mount.mountPath.startsWith('/'))
      fail(`${at}.mountPath`, 'must be an absolute path');
    const named = volumes.get(mount.name);
    if (!named)
      fail(
        `${at}.name`,
        `no volume ${JSON.stringify(mount.name)} in spec.volumes`,
        'name a volume the pod lists',
      );
    const made = volumeOptions(named.where, named.volume, mount.mountPath, mount.readOnly === true, warnings);
    if (made.volume) binds.push(made.volume);
    if (made.hostPath) hostPaths.push(made.hostPath);
    if (made.tmpfs) tmpfs.push(made.tmpfs);
  }
  if (binds.length > 0) options.volumes = binds;
  if (tmpfs.length > 0) options.tmpfs = tmpfs;
  return { member: { name: container.name, portKeys, options, hostPaths }, publish };
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
  const restartPolicy = spec.restartPolicy ?? 'Always';
  const restart = RESTART[restartPolicy as keyof typeof RESTART];
  if (!restart)
    fail(
      `${where}.spec.restartPolicy`,
      `${JSON.stringify(restartPolicy)} is not one of Always, OnFailure, Never`,
    );
  if (spec.os !== undefined && spec.os !== null && spec.os.name !== 'linux')
    fail(`${where}.spec.os.name`, `${JSON.stringify(spec.os.name)} is not supported`, 'linux');
  const grace = spec.terminationGracePeriodSeconds;
  if (grace !== undefined && grace !== null && (!Number.isInteger(grace) || (grace as number) < 0))
    fail(`${where}.spec.terminationGracePeriodSeconds`, 'must be a whole number of seconds');
  const podSecurity = spec.securityContext;
  if (podSecurity !== undefined && podSecurity !== null && !isObject(podSecurity as unknown))
    fail(`${where}.spec.securityContext`, 'must be an object');
  const volumes = new Map<string, { volume: KubeVolume; where: string }>();
  for (const [index, volume] of (spec.volumes ?? []).entries()) {
    if (!isObject(volume) || typeof volume.name !== 'string')
      fail(`${where}.spec.volumes[${index}].name`, 'is missing');
    if (volumes.has(volume.name))
      fail(`${where}.spec.volumes[${index}].name`, `${volume.name} is given twice`);
    volumes.set(volume.name, { volume, where: `${where}.spec.volumes[${index}]` });
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
      podSecurity ?? undefined,
      grace ?? undefined,
    );
    if (members.some((member) => member.name === planned.member.name))
      fail(`${where}.spec.containers[${index}].name`, `${planned.member.name} is given twice`);
    members.push(planned.member);
    publish.push(...planned.publish);
  }
  if (spec.hostname !== undefined && !/^[A-Za-z0-9]([A-Za-z0-9.-]{0,62})$/.test(String(spec.hostname)))
    fail(`${where}.spec.hostname`, `${JSON.stringify(spec.hostname)} is not a host name`);
  const hostPID = hostFlag(spec.hostPID, `${where}.spec.hostPID`);
  const hostIPC = hostFlag(spec.hostIPC, `${where}.spec.hostIPC`);
  // Kubernetes refuses the pair: the pod would have no pid namespace of its own to share.
  if (hostPID && spec.shareProcessNamespace === true)
    fail(
      `${where}.spec.shareProcessNamespace`,
      "cannot be combined with hostPID: the pod's containers are in the host's pid namespace already",
      'leave out one of hostPID and shareProcessNamespace',
    );
  // podman's rule: with hostNetwork the pod is in the host's uts namespace too, with its name.
  if (spec.hostNetwork === true && spec.hostname !== undefined)
    warnings.push(`${where}.spec.hostname is ignored: with hostNetwork the pod has the host's name`);
  return {
    name,
    ...(spec.hostNetwork === true
      ? {}
      : { hostname: spec.hostname !== undefined ? String(spec.hostname) : name }),
    shareProcessNamespace: spec.shareProcessNamespace === true,
    hostNetwork: spec.hostNetwork === true,
    hostPID,
    hostIPC,
    labels,
    // In the host's network namespace a container's port is the host's port already.
    publish: spec.hostNetwork === true ? [] : publish,
    members,
  };
}

/** hostPID/hostIPC: a boolean, absent meaning false (a string "true" is not one). */
function hostFlag(value: unknown, where: string): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') fail(where, `${JSON.stringify(value)} is not a boolean`, 'true or false');
  return value;
}

function labelsOf(where: string, value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) fail(where, 'must be a map of strings');
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, String(item)]));
}

/**
 * Refuses unknown fields (all of them, as kubectl lists them) and the first field gantry cannot
 * honour; collects the warnings of those it ignores.
 */
function checkFields(
  document: Record<string, unknown>,
  kind: 'Pod' | 'Deployment',
  where: string,
  warnings: string[],
): void {
  const review = reviewFields(document, kind);
  if (review.unknown.length > 0) {
    const guesses = review.unknown.flatMap(({ path, known }) => {
      const name = path.slice(path.lastIndexOf('.') + 1);
      const guess = closestField(name, known);
      return guess ? [`"${name}": did you mean "${guess}"?`] : [];
    });
    fail(
      where,
      review.unknown.map(({ path }) => `unknown field ${JSON.stringify(path)}`).join(', '),
      [
        ...guesses,
        `a ${kind} has the fields of the Kubernetes API (\`kubectl explain ${kind.toLowerCase()}.spec\`); correct or remove the field`,
      ].join('; '),
    );
  }
  const [refused] = review.refused;
  if (refused) fail(`${where}: ${refused.path}`, refused.message, refused.hint ?? 'leave it out');
  for (const warning of review.warnings) warnings.push(`${where}: ${warning}`);
}

/** The pod name a document runs as (a Deployment's pod is NAME-pod, as podman names it). */
function documentPlan(document: unknown, where: string, warnings: string[]): PodPlan {
  if (!isObject(document)) fail(where, 'is not a Kubernetes object');
  const manifest = document as unknown as KubeManifest;
  const kind =
    manifest.kind === 'Pod' && manifest.apiVersion === 'v1'
      ? 'Pod'
      : manifest.kind === 'Deployment' && manifest.apiVersion === 'apps/v1'
        ? 'Deployment'
        : undefined;
  if (kind !== undefined) checkFields(document, kind, where, warnings);
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
      warnings.push(`${where}: spec.replicas is ${manifest.spec.replicas}: one pod runs here`);
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
