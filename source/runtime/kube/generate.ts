/**
 * `kube generate`: containers (or a pod `kube play` made) as a Kubernetes Pod or Deployment, in
 * the shape `podman kube generate` writes: what differs from the image (command, args, env,
 * working dir, user), published ports, binds, volumes and tmpfs mounts, the host's namespaces it
 * is in (network, pid, ipc), and the limits the container has now. What Kubernetes cannot say (a pids limit, a cpuset, swap, I/O throttles,
 * ulimits, a user given by name) is returned as notes for a comment, never silently dropped.
 * Pure: the caller reads the records, the image configs and the host paths' kinds.
 */
import type { DeviceThrottle } from '../cgroups/types.js';
import type { ContainerRecord, HostConfig, MountPoint } from '../containers/record.js';
import { DEFAULT_PIDS_LIMIT } from '../containers/create.js';
import type { ImageRuntimeConfig } from '../images/types.js';
import { isOwnLabel, KUBE_CONTAINER_LABEL, KUBE_PORTS_LABEL, POD_NAME_LABEL } from './labels.js';
import { formatBytes, formatMillicores, millicoresOfQuota, millicoresOfShares } from './quantity.js';
import type {
  KubeContainer,
  KubeContainerPort,
  KubeDeployment,
  KubeManifest,
  KubePod,
  KubePodSpec,
  KubeResources,
  KubeSecurityContext,
  KubeVolume,
  KubeVolumeMount,
} from './types.js';

export interface GenerateMember {
  record: ContainerRecord;
  /** The image's own config (what the container's settings are compared with). */
  image: ImageRuntimeConfig;
}

export interface GenerateInput {
  /** The pod's name (`NAME-pod` for containers that are in none, as podman names it). */
  podName: string;
  members: GenerateMember[];
  /**
   * The container whose network namespace the pod's ports are published on (a pod's infra); its
   * namespaces are the pod's (hostNetwork, hostPID, hostIPC).
   */
  portOwner?: ContainerRecord;
  shareProcessNamespace?: boolean;
  kind: 'pod' | 'deployment';
  /** A host path's kind, for hostPath.type ("Directory", "File"; undefined when it is missing). */
  hostPathType: (path: string) => 'Directory' | 'File' | undefined;
  now?: Date;
}

export interface GenerateResult {
  manifest: KubeManifest;
  /** What the containers have that the manifest cannot say, one line each. */
  notes: string[];
}

function sameList(a: readonly string[] | null | undefined, b: readonly string[] | null | undefined): boolean {
  const left = a ?? [];
  const right = b ?? [];
  return left.length === right.length && left.every((value, index) => value === right[index]);
}

/** A DNS-1123 label made from any text (volume and container names must be one). */
export function dnsLabel(text: string, fallback = 'x'): string {
  const label = text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  return label || fallback;
}

/** The container's name in the manifest: the one play gave it, else its own name. */
export function manifestContainerName(record: ContainerRecord): string {
  const given = record.Config.Labels[KUBE_CONTAINER_LABEL];
  if (given) return given;
  const pod = record.Config.Labels[POD_NAME_LABEL];
  const name = record.Name.replace(/^\//, '');
  return dnsLabel(pod && name.startsWith(`${pod}-`) ? name.slice(pod.length + 1) : name);
}

function parsePortKey(key: string): { port: number; protocol: 'TCP' | 'UDP' | 'SCTP' } {
  const [port, protocol = 'tcp'] = key.split('/');
  return { port: Number(port), protocol: protocol.toUpperCase() as 'TCP' | 'UDP' | 'SCTP' };
}

/** Published ports of `owner`, given to the member that declared each (else the first). */
function portsByMember(
  members: GenerateMember[],
  owner: ContainerRecord | undefined,
): Map<string, KubeContainerPort[]> {
  const result = new Map<string, KubeContainerPort[]>();
  const declared = new Map<string, string>();
  for (const { record } of members) {
    for (const key of (record.Config.Labels[KUBE_PORTS_LABEL] ?? '').split(',').filter(Boolean))
      if (!declared.has(key)) declared.set(key, record.Id);
  }
  const sources = owner ? [owner] : members.map((member) => member.record);
  for (const source of sources) {
    const bindings = source.HostConfig.PortBindings ?? {};
    for (const key of Object.keys(bindings).sort((a, b) => parsePortKey(a).port - parsePortKey(b).port)) {
      const { port, protocol } = parsePortKey(key);
      const target = owner ? (declared.get(key) ?? members[0]!.record.Id) : source.Id;
      for (const binding of bindings[key] ?? [{ HostIp: '', HostPort: '' }]) {
        const entry: KubeContainerPort = { containerPort: port };
        if (binding.HostPort) entry.hostPort = Number(binding.HostPort.split('-')[0]);
        if (binding.HostIp) entry.hostIP = binding.HostIp;
        if (protocol !== 'TCP') entry.protocol = protocol;
        result.set(target, [...(result.get(target) ?? []), entry]);
      }
    }
  }
  // Ports a member declared without publishing them (containerPort alone).
  if (owner) {
    const published = new Set(Object.keys(owner.HostConfig.PortBindings ?? {}));
    for (const { record } of members) {
      for (const key of (record.Config.Labels[KUBE_PORTS_LABEL] ?? '').split(',').filter(Boolean)) {
        if (published.has(key)) continue;
        const { port, protocol } = parsePortKey(key);
        const list = [
          ...(result.get(record.Id) ?? []),
          { containerPort: port, ...(protocol !== 'TCP' ? { protocol } : {}) },
        ];
        result.set(
          record.Id,
          list.sort((a, b) => a.containerPort - b.containerPort),
        );
      }
    }
  }
  return result;
}

function resourcesOf(record: ContainerRecord, notes: string[]): KubeResources | undefined {
  const resources = record.HostConfig.Resources;
  const name = record.Name;
  const limits: Record<string, string> = {};
  const requests: Record<string, string> = {};
  if (resources.memory !== undefined && resources.memory > 0) limits.memory = formatBytes(resources.memory);
  if (resources.memoryReservation !== undefined && resources.memoryReservation > 0)
    requests.memory = formatBytes(resources.memoryReservation);
  if (resources.cpuQuota !== undefined && resources.cpuQuota > 0)
    limits.cpu = formatMillicores(millicoresOfQuota(resources.cpuQuota, resources.cpuPeriod));
  if (resources.cpuShares !== undefined && resources.cpuShares > 0)
    requests.cpu = formatMillicores(millicoresOfShares(resources.cpuShares));
  const note = (what: string) => notes.push(`${name}: ${what}`);
  if (resources.pidsLimit !== undefined && resources.pidsLimit > 0) {
    note(
      `pids limit ${resources.pidsLimit}${resources.pidsLimit === DEFAULT_PIDS_LIMIT ? " (gantry's default)" : ''}: Kubernetes sets pid limits per node (the kubelet's podPidsLimit), not in a manifest`,
    );
  }
  const swap = resources.memorySwap;
  if (swap !== undefined && swap !== 0 && !(resources.memory && swap === resources.memory * 2))
    note(
      `memory+swap ${swap < 0 ? 'unlimited' : formatBytes(swap)}: Kubernetes has no per-container swap limit`,
    );
  if (resources.memoryHigh !== undefined)
    note(`memory high ${formatBytes(resources.memoryHigh)}: no Kubernetes field`);
  if (resources.memorySwappiness !== undefined)
    note(`memory swappiness ${resources.memorySwappiness}: no Kubernetes field`);
  if (resources.oomKillDisable) note('OOM killer disabled: no Kubernetes field');
  if (resources.cpusetCpus)
    note(
      `cpuset ${resources.cpusetCpus}: Kubernetes pins CPUs only through the kubelet's static CPU manager`,
    );
  if (resources.cpusetMems) note(`memory nodes ${resources.cpusetMems}: no Kubernetes field`);
  if (resources.blkioWeight !== undefined) note(`blkio weight ${resources.blkioWeight}: no Kubernetes field`);
  const throttles: [string, DeviceThrottle[] | undefined][] = [
    ['device read bps', resources.blkioDeviceReadBps],
    ['device write bps', resources.blkioDeviceWriteBps],
    ['device read iops', resources.blkioDeviceReadIOps],
    ['device write iops', resources.blkioDeviceWriteIOps],
  ];
  for (const [what, list] of throttles)
    for (const throttle of list ?? []) note(`${what} ${throttle.path}:${throttle.rate}: no Kubernetes field`);
  for (const [size, bytes] of Object.entries(resources.hugepageLimits ?? {}))
    limits[`hugepages-${size.replace(/B$/, 'i').replace(/^(\d+)([KMG])i$/, '$1$2i')}`] = formatBytes(bytes);
  const result: KubeResources = {};
  if (Object.keys(limits).length > 0) result.limits = limits;
  if (Object.keys(requests).length > 0) result.requests = requests;
  return Object.keys(result).length > 0 ? result : undefined;
}

function securityContextOf(
  record: ContainerRecord,
  image: ImageRuntimeConfig,
  notes: string[],
): KubeSecurityContext | undefined {
  const host = record.HostConfig;
  const context: KubeSecurityContext = {};
  const user = record.Config.User;
  if (user && user !== (image.User ?? '')) {
    const match = /^(\d+)(?::(\d+))?$/.exec(user);
    if (match) {
      context.runAsUser = Number(match[1]);
      if (match[2] !== undefined) context.runAsGroup = Number(match[2]);
    } else {
      notes.push(
        `${record.Name}: user ${JSON.stringify(user)}: Kubernetes takes numeric ids only (runAsUser)`,
      );
    }
  }
  if (host.Privileged) context.privileged = true;
  if (host.ReadonlyRootfs) context.readOnlyRootFilesystem = true;
  const capabilities: { add?: string[]; drop?: string[] } = {};
  if (host.CapAdd.length > 0) capabilities.add = [...host.CapAdd];
  if (host.CapDrop.length > 0) capabilities.drop = [...host.CapDrop];
  if (capabilities.add || capabilities.drop) context.capabilities = capabilities;
  return Object.keys(context).length > 0 ? context : undefined;
}

/** Volumes of the pod, shared between members that mount the same source. */
class VolumeTable {
  readonly volumes: KubeVolume[] = [];
  private readonly bySource = new Map<string, string>();
  private readonly names = new Set<string>();

  constructor(private readonly hostPathType: GenerateInput['hostPathType']) {}

  private unique(base: string): string {
    let name = base;
    for (let index = 1; this.names.has(name); index += 1) name = `${base.slice(0, 58)}-${index}`;
    this.names.add(name);
    return name;
  }

  mountOf(mount: MountPoint, imageVolumes: ReadonlySet<string>): KubeVolumeMount | undefined {
    let key: string;
    let volume: Omit<KubeVolume, 'name'>;
    let base: string;
    if (mount.Type === 'volume' && mount.Anonymous) {
      // The image's own VOLUMEs come back by themselves; another anonymous volume is an emptyDir.
      if (imageVolumes.has(mount.Destination)) return undefined;
      key = `anonymous:${mount.Name ?? mount.Destination}`;
      volume = { emptyDir: {} };
      base = `${dnsLabel(mount.Destination, 'volume')}-empty`;
    } else if (mount.Type === 'volume') {
      key = `volume:${mount.Name}`;
      volume = { persistentVolumeClaim: { claimName: mount.Name ?? '' } };
      base = `${dnsLabel(mount.Name ?? '', 'volume')}-pvc`;
    } else if (mount.Type === 'tmpfs') {
      key = `tmpfs:${mount.Destination}`;
      const size = /(?:^|,)size=([^,]+)/.exec(mount.Data ?? '')?.[1];
      volume = { emptyDir: { medium: 'Memory', ...(size ? { sizeLimit: tmpfsSize(size) } : {}) } };
      base = `${dnsLabel(mount.Destination, 'tmpfs')}-tmpfs`;
    } else {
      key = `bind:${mount.Source}`;
      const type = this.hostPathType(mount.Source);
      volume = { hostPath: { path: mount.Source, ...(type ? { type } : {}) } };
      base = `${dnsLabel(mount.Source, 'root')}-host`;
    }
    let name = this.bySource.get(key);
    if (name === undefined) {
      name = this.unique(base.replace(/^-+/, ''));
      this.bySource.set(key, name);
      this.volumes.push({ name, ...volume });
    }
    return { name, mountPath: mount.Destination, ...(mount.ReadOnly ? { readOnly: true } : {}) };
  }
}

/** tmpfs size= (bytes, or with k/m/g as mount(8) takes it) as a quantity. */
function tmpfsSize(text: string): string {
  const match = /^(\d+)([kmg])?$/i.exec(text);
  if (!match) return text;
  const factor =
    { k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(match[2] ?? '').toLowerCase() as 'k' | 'm' | 'g'] ?? 1;
  return formatBytes(Number(match[1]) * factor);
}

function containerOf(
  member: GenerateMember,
  ports: KubeContainerPort[] | undefined,
  volumes: VolumeTable,
  notes: string[],
): KubeContainer {
  const { record, image } = member;
  const config = record.Config;
  const container: KubeContainer = { name: manifestContainerName(record), image: record.ImageName };
  const commandDiffers = !sameList(config.Entrypoint, image.Entrypoint);
  if (commandDiffers) container.command = [...config.Entrypoint];
  if (config.Cmd.length > 0 && (commandDiffers || !sameList(config.Cmd, image.Cmd)))
    container.args = [...config.Cmd];
  const imageEnv = new Set(image.Env ?? []);
  const env = config.Env.filter((entry) => !imageEnv.has(entry)).map((entry) => {
    const index = entry.indexOf('=');
    return index < 0
      ? { name: entry, value: '' }
      : { name: entry.slice(0, index), value: entry.slice(index + 1) };
  });
  if (env.length > 0) container.env = env;
  if (config.WorkingDir && config.WorkingDir !== (image.WorkingDir ?? ''))
    container.workingDir = config.WorkingDir;
  if (ports && ports.length > 0) container.ports = ports;
  const resources = resourcesOf(record, notes);
  if (resources) container.resources = resources;
  const security = securityContextOf(record, image, notes);
  if (security) container.securityContext = security;
  const imageVolumes = new Set(Object.keys(image.Volumes ?? {}));
  const mounts = record.Mounts.map((mount) => volumes.mountOf(mount, imageVolumes)).filter(
    (mount): mount is KubeVolumeMount => mount !== undefined,
  );
  if (mounts.length > 0) container.volumeMounts = mounts;
  if (config.Tty) container.tty = true;
  if (config.OpenStdin) container.stdin = true;
  const host = record.HostConfig;
  if (host.Ulimits.length > 0)
    notes.push(
      `${record.Name}: ulimits ${host.Ulimits.map((u) => `${u.Name}=${u.Soft}:${u.Hard}`).join(' ')}: no Kubernetes field`,
    );
  if ((host.Devices ?? []).length > 0)
    notes.push(
      `${record.Name}: devices ${host.Devices!.map((d) => d.PathOnHost).join(' ')}: Kubernetes gives devices through device plugins`,
    );
  return container;
}

/** The pod fields that put it in one of the host's namespaces, and the mode that says so. */
const HOST_NAMESPACES = [
  { field: 'hostNetwork', flag: '--network host', mode: (host: HostConfig) => host.NetworkMode },
  { field: 'hostPID', flag: '--pid host', mode: (host: HostConfig) => host.PidMode },
  { field: 'hostIPC', flag: '--ipc host', mode: (host: HostConfig) => host.IpcMode },
] as const;

/**
 * The host's namespaces the pod is in: a played pod's are its infra container's; containers of no
 * pod are in one when all of them are (as podman decides hostNetwork). A Pod cannot put only some
 * of its containers there, so one that is alone in it is noted.
 */
function hostNamespacesOf(
  input: GenerateInput,
  notes: string[],
): Pick<KubePodSpec, 'hostNetwork' | 'hostPID' | 'hostIPC'> {
  const spec: Pick<KubePodSpec, 'hostNetwork' | 'hostPID' | 'hostIPC'> = {};
  for (const { field, flag, mode } of HOST_NAMESPACES) {
    if (input.portOwner) {
      if (mode(input.portOwner.HostConfig) === 'host') spec[field] = true;
      continue;
    }
    const inHost = input.members.filter(({ record }) => mode(record.HostConfig) === 'host');
    if (inHost.length > 0 && inHost.length === input.members.length) spec[field] = true;
    else
      for (const { record } of inHost)
        notes.push(`${record.Name}: ${flag}: a Pod puts all its containers there (${field}) or none`);
  }
  return spec;
}

const RESTART_POLICIES = {
  no: 'Never',
  always: 'Always',
  'unless-stopped': 'Always',
  'on-failure': 'OnFailure',
} as const;

/** The pod's one restartPolicy: its first container's (a Pod cannot give each its own). */
function restartPolicyOf(members: GenerateMember[], notes: string[]): 'Always' | 'OnFailure' | 'Never' {
  const policies = members.map(
    ({ record }) => RESTART_POLICIES[record.HostConfig.RestartPolicy?.Name ?? 'no'],
  );
  for (const [index, policy] of policies.entries()) {
    if (policy !== policies[0])
      notes.push(
        `${members[index]!.record.Name}: restart policy ${policy}: the pod's restartPolicy (${policies[0]}) applies to all its containers`,
      );
  }
  for (const { record } of members) {
    const retries = record.HostConfig.RestartPolicy?.MaximumRetryCount ?? 0;
    if (retries > 0) notes.push(`${record.Name}: at most ${retries} restarts: Kubernetes has no retry count`);
  }
  return policies[0] ?? 'Never';
}

function labelsOf(members: GenerateMember[], podName: string): Record<string, string> {
  const labels: Record<string, string> = { app: dnsLabel(podName, 'pod') };
  for (const { record, image } of members) {
    for (const [key, value] of Object.entries(record.Config.Labels)) {
      if (isOwnLabel(key) || image.Labels?.[key] === value) continue;
      labels[key] = value;
    }
  }
  return labels;
}

export function generateManifest(input: GenerateInput): GenerateResult {
  const notes: string[] = [];
  const volumes = new VolumeTable(input.hostPathType);
  const ports = portsByMember(input.members, input.portOwner);
  const containers = input.members.map((member) =>
    containerOf(member, ports.get(member.record.Id), volumes, notes),
  );
  const spec: KubePodSpec = {
    containers,
    restartPolicy: restartPolicyOf(input.members, notes),
    ...hostNamespacesOf(input, notes),
  };
  const hostname = input.portOwner?.Config.Hostname;
  // play names the host after the pod unless the manifest gave another name; a pod in the host's
  // uts namespace (hostNetwork) has the host's name, which play gives it again.
  if (hostname && hostname !== input.podName && input.portOwner?.HostConfig.UTSMode !== 'host')
    spec.hostname = hostname;
  if (input.shareProcessNamespace) spec.shareProcessNamespace = true;
  if (volumes.volumes.length > 0) spec.volumes = volumes.volumes;
  const name = dnsLabel(input.podName, 'pod');
  const labels = labelsOf(input.members, input.podName);
  const creationTimestamp = (input.now ?? new Date()).toISOString().replace(/\.\d+Z$/, 'Z');
  if (input.kind === 'deployment') {
    const deployment: KubeDeployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: `${name.replace(/-pod$/, '')}-deployment`, creationTimestamp, labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: labels.app! } },
        template: { metadata: { creationTimestamp, labels }, spec },
      },
    };
    return { manifest: deployment, notes };
  }
  const pod: KubePod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, creationTimestamp, labels },
    spec,
  };
  return { manifest: pod, notes };
}
