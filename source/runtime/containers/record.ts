/**
 * What the engine stores per container (state.json). Field names follow docker's inspect
 * output where the concept is the same, so `inspect` is mostly a projection of this record.
 */
import type { Resources } from '../cgroups/types.js';
import type { PortBindings } from '../network/ports.js';
import type { OciSeccomp } from '../spec/types.js';
import type { HealthConfig } from '../images/types.js';
import type { RecordIdMappings } from '../userns/container-root.js';
import type { HealthState } from './health/state.js';
import type { LogConfig } from './log-config.js';
import type { RestartPolicy } from './restart-policy.js';

export type ContainerStatus = 'created' | 'running' | 'paused' | 'exited' | 'removing';

export interface ContainerConfig {
  Hostname: string;
  Domainname: string;
  User: string;
  Env: string[];
  Cmd: string[];
  Entrypoint: string[];
  WorkingDir: string;
  Tty: boolean;
  OpenStdin: boolean;
  StdinOnce: boolean;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  Image: string;
  Labels: Record<string, string>;
  StopSignal: string;
  StopTimeout?: number;
  /** The image's HEALTHCHECK with the --health-* flags laid over it (absent: none). */
  Healthcheck?: HealthConfig;
  /** The image's SHELL, for a CMD-SHELL health check. */
  Shell?: string[];
  /** Ports the image EXPOSEs plus --expose and -p ones ("80/tcp": {}), as docker keeps them. */
  ExposedPorts?: Record<string, object>;
}

/** docker's mount types: a host path, a volume under the state root, or a tmpfs of its own. */
export type MountType = 'bind' | 'volume' | 'tmpfs';

/**
 * A mount of the container as stored: docker's MountPoint. Records from before volumes have only
 * Source, Destination and ReadOnly: those are binds.
 */
export interface MountPoint {
  /** Absent: bind. */
  Type?: MountType;
  /** A volume's name. */
  Name?: string;
  /** Host path: the bind's source, a volume's _data ("" for a tmpfs). */
  Source: string;
  /** Absolute path inside the container. */
  Destination: string;
  ReadOnly: boolean;
  /** "local" for volumes. */
  Driver?: string;
  /** The mode text as given with -v ("ro", "z", "ro,Z"), as docker's inspect shows it. */
  Mode?: string;
  /** rprivate, rshared, ...: binds default to rprivate, as docker's. */
  Propagation?: string;
  /** An anonymous volume (image VOLUME, `-v /path`): removed with the container by rm -v / --rm. */
  Anonymous?: boolean;
  /** volume-nocopy / -v NAME:/x:nocopy: the image's content is not copied into a new volume. */
  NoCopy?: boolean;
  /** bind-nonrecursive: submounts of the source are not bound along. */
  NonRecursive?: boolean;
  /** tmpfs mount options (size=, mode=, ...) after docker's defaults. */
  Data?: string;
  /** z or Z: accepted; no SELinux relabelling is done here (inspect says so). */
  Relabel?: 'z' | 'Z';
}

/** The name from before --mount and volumes: every stored mount was a bind. */
export type BindMount = MountPoint;

/** A --device mapping as stored: docker's three fields plus the node it resolved to at create. */
export interface DeviceMappingRecord {
  PathOnHost: string;
  PathInContainer: string;
  /** The access the cgroup rule grants, from r, w and m. */
  CgroupPermissions: string;
  Type: 'b' | 'c';
  Major: number;
  Minor: number;
  /** Permission bits, owner and group of the host node, copied to the container's node. */
  FileMode: number;
  Uid: number;
  Gid: number;
}

export interface HostConfig {
  /** "-v" values as given. */
  Binds: string[];
  /** --mount values, as docker's HostConfig.Mounts (Type, Source, Target, ReadOnly, options). */
  Mounts?: Record<string, unknown>[];
  /** --tmpfs: destination -> options, as docker's HostConfig.Tmpfs. */
  Tmpfs?: Record<string, string>;
  /** --volumes-from values as given. */
  VolumesFrom?: string[];
  /**
   * "bridge" (the default network), a user network's name, "none" (own namespace with only lo),
   * "host", or "container:<id>" (another container's namespace).
   */
  NetworkMode: string;
  /** "container:<id>" (another container's ipc namespace, as a pod's infra) or "host", as docker's. */
  IpcMode?: string;
  /** "container:<id>" (another container's pid namespace, as a pod's infra) or "host", as docker's. */
  PidMode?: string;
  /** "host": the host's UTS namespace (hostname and domain name), as docker's --uts host. */
  UTSMode?: string;
  /** -p: "80/tcp" -> [{HostIp, HostPort}], "" for any address / a port the engine picks. */
  PortBindings?: PortBindings;
  /** -P: publish every exposed port on a port the engine picks. */
  PublishAllPorts?: boolean;
  Dns?: string[];
  DnsSearch?: string[];
  DnsOptions?: string[];
  /** --add-host NAME:IP lines of /etc/hosts. */
  ExtraHosts?: string[];
  AutoRemove: boolean;
  ReadonlyRootfs: boolean;
  Privileged: boolean;
  CapAdd: string[];
  CapDrop: string[];
  CgroupParent: string;
  Resources: Resources;
  /** --device: nodes created in the container's /dev (their cgroup rules are in Resources.devices). */
  Devices?: DeviceMappingRecord[];
  /** --device-cgroup-rule values as given (their rules are in Resources.devices). */
  DeviceCgroupRules?: string[];
  Ulimits: { Name: string; Soft: number; Hard: number }[];
  /** --security-opt values as given. */
  SecurityOpt?: string[];
  /** The seccomp profile of --security-opt seccomp=FILE, read at create as docker does. */
  SeccompProfile?: OciSeccomp;
  /** --log-driver and --log-opt with the defaults filled in (absent: made before they existed). */
  LogConfig?: LogConfig;
  /** --userns as given (auto, auto:size=N, keep-id), "private" for --uidmap; absent: the host's. */
  UsernsMode?: string;
  /** The container's uid/gid mappings (podman's inspect form), fixed at create. */
  IDMappings?: RecordIdMappings;
  /** --restart (absent: made before it existed, which is "no"). */
  RestartPolicy?: RestartPolicy;
  /** --init: docker-init runs as PID 1 and starts the command. */
  Init?: boolean;
}

/** docker's EndpointSettings: what the container is on a network (addresses while it runs). */
export interface EndpointSettings {
  /** --network-alias values. */
  Aliases: string[];
  /** --ip: the address asked for on this network (user networks only), kept across restarts. */
  IPAMConfig?: { IPv4Address: string };
  NetworkID: string;
  EndpointID: string;
  Gateway: string;
  IPAddress: string;
  IPPrefixLen: number;
  MacAddress: string;
}

export interface NetworkSettingsRecord {
  /** The networks the container is on (set at create and by network connect/disconnect). */
  Networks: Record<string, EndpointSettings>;
  /** Published ports while it runs: "80/tcp" -> [{HostIp, HostPort}] (null: exposed only). */
  Ports: Record<string, { HostIp: string; HostPort: string }[] | null>;
}

export interface ContainerState {
  Status: ContainerStatus;
  Pid: number;
  ExitCode: number;
  OOMKilled: boolean;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
  /**
   * Between a run that ended and the next one its restart policy starts (never stored: laid over
   * the record from the monitor's run file, see runs.ts). Status stays running, as docker's
   * State.Running does.
   */
  Restarting?: boolean;
  /** docker's State.Health (never stored: laid over from the monitor's health file, health/state.ts). */
  Health?: HealthState;
}

/** Identity of a process that survives pid reuse: pid plus its start time in clock ticks. */
export interface ProcessIdentity {
  pid: number;
  startTime: number;
}

export interface ContainerRecord {
  Id: string;
  Name: string;
  Created: string;
  /** Image ID (config digest). */
  Image: string;
  /** Image reference as the user gave it. */
  ImageName: string;
  /** The image's os/architecture[/variant] (to explain an exec format error). */
  ImagePlatform?: string;
  Config: ContainerConfig;
  HostConfig: HostConfig;
  State: ContainerState;
  RestartCount: number;
  Mounts: MountPoint[];
  /** Bridge and user networks only. */
  NetworkSettings?: NetworkSettingsRecord;
  /** Image layer directories at creation, bottom first. */
  LayerDirs: string[];
  /** The container's init process while it runs. */
  InitProcess?: ProcessIdentity;
  /** The monitor (native helper) process while the container runs. */
  Monitor?: ProcessIdentity;
  /**
   * A process that paused the container for a moment (a commit reading its layer): if it dies
   * before it unpauses, the next look at the container thaws it.
   */
  PausedBy?: ProcessIdentity;
  /** The SELinux context of the container's processes (--security-opt label=...; selinux-labels.ts). */
  ProcessLabel?: string;
  /** The SELinux context of its root and the filesystems made for it. */
  MountLabel?: string;
  /**
   * Never stored: set on a stand-in for a container whose record cannot be read (see
   * damagedStandIn), saying why, so a view can show it marked instead of hiding it.
   */
  Damaged?: string;
}

export const ZERO_TIME = '0001-01-01T00:00:00Z';

/**
 * What a view shows for a container whose record cannot be read: its id, the name it holds, and
 * why (in Damaged and State.Error); everything else empty. Removing it (rm -f) works.
 */
export function damagedStandIn(id: string, name: string | undefined, reason: string): ContainerRecord {
  return {
    Id: id,
    Name: name ?? id.slice(0, 12),
    Created: ZERO_TIME,
    Image: '',
    ImageName: '',
    Config: {
      Hostname: '',
      Domainname: '',
      User: '',
      Env: [],
      Cmd: [],
      Entrypoint: [],
      WorkingDir: '',
      Tty: false,
      OpenStdin: false,
      StdinOnce: false,
      AttachStdin: false,
      AttachStdout: false,
      AttachStderr: false,
      Image: '',
      Labels: {},
      StopSignal: 'SIGTERM',
    },
    HostConfig: {
      Binds: [],
      NetworkMode: '',
      AutoRemove: false,
      ReadonlyRootfs: false,
      Privileged: false,
      CapAdd: [],
      CapDrop: [],
      CgroupParent: '',
      Resources: {},
      Ulimits: [],
    },
    State: {
      Status: 'exited',
      Pid: 0,
      ExitCode: 0,
      OOMKilled: false,
      Error: reason,
      StartedAt: ZERO_TIME,
      FinishedAt: ZERO_TIME,
    },
    RestartCount: 0,
    Mounts: [],
    LayerDirs: [],
    Damaged: reason,
  };
}
