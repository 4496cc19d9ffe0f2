/**
 * `create`: turns run options and an image into a stored container record with its own
 * writable layer. Nothing runs yet; start() builds the spec from this record.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  defaultDeviceRules,
  parseDeviceCgroupRule,
  parseDeviceMapping,
  type DeviceStat,
} from '../cgroups/parse.js';
import type { DeviceRule, Resources } from '../cgroups/types.js';
import { validateResources } from '../cgroups/validate.js';
import { InvalidArgumentError } from '../errors.js';
import { parseSignal } from '../signals.js';
import { PRIVATE_DIRECTORY_MODE } from '../state-permissions.js';
import { compileSeccomp } from '../spec/seccomp.js';
import { appArmorEnabled } from '../spec/security-modules.js';
import { checkLabelOption } from './selinux-labels.js';
import type { OciSeccomp } from '../spec/types.js';
import { formatPlatform } from '../images/import/platform.js';
import type { ResolvedImage } from '../images/types.js';
import { parseLogConfig } from './log-config.js';
import { NO_RESTART, parseRestartPolicy } from './restart-policy.js';
import { generateId, generateName, validateName } from './names.js';
import { networkFields, type NetworkCreateOptions } from './network-options.js';
import { ZERO_TIME, type ContainerRecord, type DeviceMappingRecord, type MountPoint } from './record.js';
import {
  checkDuplicateDestinations,
  parseMountFlag,
  parseTmpfsFlag,
  parseVolumeFlag,
} from '../volumes/mount-spec.js';
import { capabilitySet } from './spec-builder.js';
import { healthConfigFromOptions, mergeHealthConfig, type HealthOptions } from './health/config.js';
import { usernsFields, type UsernsOptions } from './userns.js';
import { sharedNamespaceModes } from './shared-namespaces.js';

export interface CreateOptions extends NetworkCreateOptions, UsernsOptions, HealthOptions {
  image: string;
  /** Command after the image name; undefined to use the image's CMD. */
  command?: string[];
  /** --entrypoint; "" clears the image's entrypoint. */
  entrypoint?: string;
  /** The entrypoint as a whole argv (a Kubernetes `command`); wins over `entrypoint`. */
  entrypointArgs?: string[];
  /** container:NAME|ID: join that container's ipc namespace; host: stay in the host's. */
  ipc?: string;
  /** container:NAME|ID: join that container's pid namespace; host: stay in the host's. */
  pid?: string;
  /** host: stay in the host's UTS namespace (docker's --uts host). */
  uts?: string;
  name?: string;
  env?: string[];
  workdir?: string;
  user?: string;
  hostname?: string;
  tty?: boolean;
  interactive?: boolean;
  /** -a/--attach: the streams `run` attaches (docker's default, none given: stdout and stderr). */
  attach?: { stdin: boolean; stdout: boolean; stderr: boolean };
  autoRemove?: boolean;
  /** -v HOST-PATH|VOLUME:CONTAINER-PATH[:MODES], or -v CONTAINER-PATH (an anonymous volume). */
  volumes?: string[];
  /** --mount type=bind|volume|tmpfs,... */
  mounts?: string[];
  /** --tmpfs CONTAINER-PATH[:OPTIONS] */
  tmpfs?: string[];
  /** --volumes-from CONTAINER[:ro|rw] */
  volumesFrom?: string[];
  /** The image's VOLUMEs make no anonymous volumes (a build step: VOLUME does not change RUN). */
  skipImageVolumes?: boolean;
  readOnly?: boolean;
  privileged?: boolean;
  capAdd?: string[];
  capDrop?: string[];
  resources?: Resources;
  /** --device HOST[:CONTAINER][:PERMISSIONS]: the node is created in the container and allowed. */
  devices?: string[];
  /** --device-cgroup-rule 'TYPE MAJOR:MINOR ACCESS': access to nodes made or mounted later. */
  deviceCgroupRules?: string[];
  /** --ulimit name=soft[:hard] */
  ulimits?: string[];
  /** --security-opt: seccomp=unconfined|PROFILE.json, no-new-privileges[=true|false], apparmor=PROFILE, label=... */
  securityOpt?: string[];
  labels?: Record<string, string>;
  stopSignal?: string;
  stopTimeout?: number;
  cgroupParent?: string;
  /** --log-driver: k8s-file (json-file and local are its names here) or none. */
  logDriver?: string;
  /** --log-opt KEY=VALUE: max-size, max-file. */
  logOptions?: string[];
  /** --restart no|on-failure[:N]|always|unless-stopped */
  restart?: string;
  /** --init: docker-init as PID 1 (reaps, forwards signals). */
  init?: boolean;
}

/**
 * The -v, --mount and --tmpfs flags as mount points (volumes not made yet: see
 * volumes/attach.ts), with docker's refusal of two on one destination. A --mount bind source must
 * exist (docker's daemon refuses it); a -v one is made at create, as docker does.
 */
export function parseMountFlags(options: Pick<CreateOptions, 'volumes' | 'mounts' | 'tmpfs'>): {
  mounts: MountPoint[];
  hostMounts: Record<string, unknown>[];
  tmpfs: Record<string, string>;
} {
  const mounts = (options.volumes ?? []).map(parseVolumeFlag);
  const hostMounts: Record<string, unknown>[] = [];
  for (const value of options.mounts ?? []) {
    const { mount, hostConfig } = parseMountFlag(value);
    if (mount.Type === 'bind' && !fs.existsSync(mount.Source)) {
      throw new InvalidArgumentError(
        `invalid mount config for type "bind": bind source path does not exist: ${mount.Source}`,
        { hint: 'make the host path first (only -v makes a missing one)' },
      );
    }
    mounts.push(mount);
    hostMounts.push(hostConfig);
  }
  const tmpfs: Record<string, string> = {};
  for (const value of options.tmpfs ?? []) {
    const mount = parseTmpfsFlag(value);
    const index = value.indexOf(':');
    tmpfs[mount.Destination] = index < 0 ? '' : value.slice(index + 1);
    mounts.push(mount);
  }
  checkDuplicateDestinations(mounts);
  return { mounts, hostMounts, tmpfs };
}

const ULIMIT_NAMES = [
  'core',
  'cpu',
  'data',
  'fsize',
  'locks',
  'memlock',
  'msgqueue',
  'nice',
  'nofile',
  'nproc',
  'rss',
  'rtprio',
  'rttime',
  'sigpending',
  'stack',
  'as',
];

/**
 * --security-opt values docker users pass: a seccomp profile (a JSON file, read and checked now
 * so a bad one fails at create) or "unconfined", no-new-privileges, an AppArmor profile, and
 * SELinux label options (selinux-labels.ts).
 */
export function parseSecurityOptions(values: readonly string[]): { seccompProfile?: OciSeccomp } {
  let seccompProfile: OciSeccomp | undefined;
  for (const value of values) {
    const [key, ...rest] = value.split(/[=:]/);
    const argument = rest.join('=');
    if (key === 'seccomp' && argument === 'unconfined') continue;
    if (key === 'seccomp' && argument !== '') {
      let text: string;
      try {
        text = fs.readFileSync(argument, 'utf8');
      } catch (error) {
        throw new InvalidArgumentError(`--security-opt seccomp=${argument}: ${(error as Error).message}`);
      }
      try {
        seccompProfile = JSON.parse(text) as OciSeccomp;
        compileSeccomp(seccompProfile);
      } catch (error) {
        throw new InvalidArgumentError(`--security-opt seccomp=${argument}: ${(error as Error).message}`, {
          hint: 'give an OCI/docker seccomp profile (JSON with defaultAction and syscalls), or seccomp=unconfined',
        });
      }
      continue;
    }
    if (key === 'no-new-privileges' && ['', 'true', 'false'].includes(argument)) continue;
    const label = /^label[=:](.*)$/s.exec(value);
    if (label) {
      checkLabelOption(label[1]!);
      continue;
    }
    if (key === 'apparmor' && argument === 'unconfined') continue;
    if (key === 'apparmor' && argument !== '') {
      // Checked now, so that a container that could never start is not made (the profile itself
      // must be loaded by the time it starts; the helper names it if it is not).
      if ([...argument].some((char) => char <= ' ' || char === '\x7f'))
        throw new InvalidArgumentError(`--security-opt apparmor=${argument}: not a profile name`);
      if (!appArmorEnabled())
        throw new InvalidArgumentError(
          `--security-opt apparmor=${argument}: AppArmor is not enabled on this host`,
          { hint: 'leave the option out (or give apparmor=unconfined) to run without a profile' },
        );
      continue;
    }
    throw new InvalidArgumentError(`unsupported --security-opt ${JSON.stringify(value)}`, {
      hint: 'accepted: seccomp=unconfined, seccomp=PROFILE.json, no-new-privileges[=true|false], apparmor=PROFILE|unconfined, label=type:T|level:L|user:U|role:R|filetype:T|disable',
    });
  }
  return seccompProfile ? { seccompProfile } : {};
}

export function parseUlimit(spec: string): { Name: string; Soft: number; Hard: number } {
  const match = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(spec);
  if (!match || !ULIMIT_NAMES.includes(match[1]!)) {
    throw new InvalidArgumentError(
      `invalid ulimit ${JSON.stringify(spec)}: expected NAME=SOFT[:HARD] with NAME one of ${ULIMIT_NAMES.join(', ')}`,
    );
  }
  const toLimit = (text: string) => (Number(text) < 0 ? Number.MAX_SAFE_INTEGER : Number(text));
  const soft = toLimit(match[2]!);
  const hard = match[3] === undefined ? soft : toLimit(match[3]);
  if (soft > hard)
    throw new InvalidArgumentError(
      `invalid ulimit ${JSON.stringify(spec)}: the soft limit is above the hard limit`,
    );
  return { Name: match[1]!, Soft: soft, Hard: hard };
}

function validateEnv(env: readonly string[]): string[] {
  return env
    .map((entry) => {
      const name = entry.split('=', 1)[0]!;
      if (name === '' || /\s/.test(name)) {
        throw new InvalidArgumentError(
          `invalid environment variable ${JSON.stringify(entry)}: expected NAME=value`,
        );
      }
      // docker: "-e NAME" without "=" takes the value from the caller's environment.
      if (!entry.includes('=')) return process.env[name] === undefined ? '' : `${name}=${process.env[name]}`;
      return entry;
    })
    .filter((entry) => entry !== '');
}

const ALLOW_ALL_DEVICES: DeviceRule = { allow: true, type: 'a', major: -1, minor: -1, access: 'rwm' };

/**
 * The process limit of a container given none (podman's default; docker has none): a fork bomb
 * in one container stops there instead of exhausting the host's pids. `--pids-limit -1` (or 0,
 * as docker) lifts it.
 */
export const DEFAULT_PIDS_LIMIT = 2048;

/**
 * The limits a new container is stored with: the caller's, plus what docker's daemon adds at
 * create (memory+swap defaults to twice --memory; the device allowlist: docker's defaults, then
 * each --device node, then each --device-cgroup-rule; everything for --privileged), and
 * podman's default pids limit.
 * Validated as a whole, so a bad combination is refused before anything exists.
 */
export function containerResources(
  options: Pick<CreateOptions, 'resources' | 'devices' | 'deviceCgroupRules' | 'privileged'>,
  stat?: DeviceStat,
): { resources: Resources; devices: DeviceMappingRecord[]; deviceCgroupRules: string[] } {
  const resources: Resources = { ...(options.resources ?? {}) };
  const mappings = (options.devices ?? []).map((text) =>
    stat ? parseDeviceMapping(text, stat) : parseDeviceMapping(text),
  );
  const deviceCgroupRules = options.deviceCgroupRules ?? [];
  const rules = deviceCgroupRules.map(parseDeviceCgroupRule);
  if (resources.memory !== undefined && resources.memory > 0 && !resources.memorySwap) {
    resources.memorySwap = resources.memory * 2;
  }
  resources.pidsLimit ??= DEFAULT_PIDS_LIMIT;
  if (resources.devices === undefined) {
    resources.devices = options.privileged
      ? [ALLOW_ALL_DEVICES]
      : [...defaultDeviceRules(), ...mappings.map((mapping) => mapping.rule), ...rules];
  }
  validateResources(resources);
  const seen = new Set<string>();
  for (const mapping of mappings) {
    if (seen.has(mapping.containerPath)) {
      throw new InvalidArgumentError(
        `--device: two devices are mapped to ${mapping.containerPath} in the container`,
        {
          hint: 'give each --device its own container path (HOST:CONTAINER)',
        },
      );
    }
    seen.add(mapping.containerPath);
  }
  const devices = mappings.map((mapping): DeviceMappingRecord => ({
    PathOnHost: mapping.hostPath,
    PathInContainer: mapping.containerPath,
    CgroupPermissions: mapping.permissions,
    Type: mapping.type,
    Major: mapping.major,
    Minor: mapping.minor,
    FileMode: mapping.fileMode,
    Uid: mapping.uid,
    Gid: mapping.gid,
  }));
  return { resources, devices, deviceCgroupRules };
}

/** Validates everything and builds the record; no side effects. */
export function buildRecord(
  options: CreateOptions,
  image: ResolvedImage,
  defaults: { cgroupParent: string },
): ContainerRecord {
  const imageConfig = image.config.config ?? {};
  const id = generateId();
  const name = options.name === undefined ? generateName() : validateName(options.name);
  const networking = networkFields(options, imageConfig.ExposedPorts ?? {});
  const network = networking.mode;
  if (options.hostname !== undefined && !/^[A-Za-z0-9]([A-Za-z0-9.-]{0,62})$/.test(options.hostname)) {
    throw new InvalidArgumentError(
      `invalid hostname ${JSON.stringify(options.hostname)}: letters, digits, "-" and ".", at most 64`,
    );
  }
  if (options.workdir !== undefined && !path.posix.isAbsolute(options.workdir)) {
    throw new InvalidArgumentError(
      `the working directory ${JSON.stringify(options.workdir)} is invalid: it must be an absolute path`,
    );
  }
  const parsedMounts = parseMountFlags(options);
  // A name given twice: the last one counts, as with docker.
  const ulimits = [
    ...new Map((options.ulimits ?? []).map(parseUlimit).map((ulimit) => [ulimit.Name, ulimit])).values(),
  ];
  const security = parseSecurityOptions(options.securityOpt ?? []);
  capabilitySet(options.capAdd ?? [], options.capDrop ?? [], options.privileged ?? false); // validates names
  const { resources, devices, deviceCgroupRules } = containerResources(options);
  const logConfig = parseLogConfig(options.logDriver, options.logOptions);
  const userns = usernsFields(options, options.privileged ?? false);
  const namespaceModes = sharedNamespaceModes(options);

  let entrypoint: string[];
  let cmd: string[];
  if (options.entrypointArgs !== undefined) {
    entrypoint = [...options.entrypointArgs];
    cmd = options.command ?? [];
  } else if (options.entrypoint !== undefined) {
    entrypoint = options.entrypoint === '' ? [] : [options.entrypoint];
    cmd = options.command ?? [];
  } else {
    entrypoint = imageConfig.Entrypoint ?? [];
    cmd = options.command && options.command.length > 0 ? options.command : (imageConfig.Cmd ?? []);
  }
  if (entrypoint.length + cmd.length === 0) {
    throw new InvalidArgumentError('no command specified: the image has no CMD or ENTRYPOINT', {
      hint: 'give one after the image name, e.g. `gantry run IMAGE sh`',
    });
  }
  const env = [...(imageConfig.Env ?? [])];
  for (const entry of validateEnv(options.env ?? [])) {
    const key = entry.split('=', 1)[0]!;
    const index = env.findIndex((e) => e.split('=', 1)[0] === key);
    if (index >= 0) env[index] = entry;
    else env.push(entry);
  }
  // Checked now, so `stop` can always send it (a name or a number, as kill -s takes).
  const stopSignal = options.stopSignal ?? imageConfig.StopSignal ?? 'SIGTERM';
  parseSignal(stopSignal);
  const healthcheck = mergeHealthConfig(healthConfigFromOptions(options), imageConfig.Healthcheck);
  const restartPolicy = options.restart === undefined ? NO_RESTART : parseRestartPolicy(options.restart);
  if (restartPolicy.Name !== 'no' && options.autoRemove) {
    throw new InvalidArgumentError('conflicting options: --restart and --rm', {
      hint: 'a container removed when it stops cannot be restarted; choose one of them',
    });
  }
  return {
    Id: id,
    Name: name,
    Created: new Date().toISOString(),
    Image: image.record.id,
    ImageName: options.image,
    ImagePlatform: formatPlatform(image.config),
    Config: {
      // --uts host: the name the container sees is the host's (its /etc/hostname and $HOSTNAME say it too).
      Hostname:
        options.hostname ??
        (namespaceModes.UTSMode === 'host' ? os.hostname() : network === 'host' ? '' : id.slice(0, 12)),
      Domainname: '',
      User: options.user ?? imageConfig.User ?? '',
      Env: env,
      Cmd: cmd,
      Entrypoint: entrypoint,
      WorkingDir: options.workdir ?? imageConfig.WorkingDir ?? '',
      Tty: options.tty ?? false,
      OpenStdin: options.interactive ?? false,
      StdinOnce: options.interactive ?? false,
      AttachStdin: (options.interactive ?? false) || (options.attach?.stdin ?? false),
      AttachStdout: options.attach?.stdout ?? true,
      AttachStderr: options.attach?.stderr ?? true,
      Image: options.image,
      Labels: { ...(imageConfig.Labels ?? {}), ...(options.labels ?? {}) },
      StopSignal: stopSignal,
      ...(options.stopTimeout !== undefined ? { StopTimeout: options.stopTimeout } : {}),
      ...(healthcheck ? { Healthcheck: healthcheck } : {}),
      ...(imageConfig.Shell && imageConfig.Shell.length > 0 ? { Shell: imageConfig.Shell } : {}),
      ...(Object.keys(networking.exposedPorts).length > 0 ? { ExposedPorts: networking.exposedPorts } : {}),
    },
    HostConfig: {
      Binds: options.volumes ?? [],
      ...(parsedMounts.hostMounts.length > 0 ? { Mounts: parsedMounts.hostMounts } : {}),
      ...(Object.keys(parsedMounts.tmpfs).length > 0 ? { Tmpfs: parsedMounts.tmpfs } : {}),
      NetworkMode: network,
      ...namespaceModes,
      ...networking.host,
      AutoRemove: options.autoRemove ?? false,
      ReadonlyRootfs: options.readOnly ?? false,
      Privileged: options.privileged ?? false,
      CapAdd: options.capAdd ?? [],
      CapDrop: options.capDrop ?? [],
      CgroupParent: options.cgroupParent ?? defaults.cgroupParent,
      Resources: resources,
      ...(devices.length > 0 ? { Devices: devices } : {}),
      ...(deviceCgroupRules.length > 0 ? { DeviceCgroupRules: deviceCgroupRules } : {}),
      Ulimits: ulimits,
      SecurityOpt: options.securityOpt ?? [],
      ...(security.seccompProfile ? { SeccompProfile: security.seccompProfile } : {}),
      LogConfig: logConfig,
      ...userns,
      RestartPolicy: restartPolicy,
      ...(options.init ? { Init: true } : {}),
    },
    State: {
      Status: 'created',
      Pid: 0,
      ExitCode: 0,
      OOMKilled: false,
      Error: '',
      StartedAt: ZERO_TIME,
      FinishedAt: ZERO_TIME,
    },
    RestartCount: 0,
    Mounts: parsedMounts.mounts,
    ...(networking.settings ? { NetworkSettings: networking.settings } : {}),
    LayerDirs: image.layerDirs,
  };
}

/** Makes the container's directory: upper (writable layer), work (overlay's), merged (root). */
export async function makeContainerDirectory(directory: string): Promise<void> {
  // Private to root (state-permissions.ts); upper/ keeps 0755, the mode of the container's `/`.
  await fsp.mkdir(directory, { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
  for (const sub of ['upper', 'work', 'merged']) await fsp.mkdir(path.join(directory, sub), { mode: 0o755 });
}
