/**
 * Builds the OCI spec for a container of the engine from its record (docker-style Config and
 * HostConfig), the image, and the files the engine manages. The same spec format gantry-oci
 * reads, so the rest of the path (validation, plan, helper) is shared.
 */
import { INIT_PATH } from './init-process.js';
import fs from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError } from '../errors.js';
import { CAPABILITIES, DEFAULT_CAPABILITIES, normalizeCapability } from '../spec/capabilities.js';
import { defaultSeccompProfile } from '../spec/default-seccomp.js';
import {
  DEFAULT_MASKED_PATHS,
  DEFAULT_MOUNTS,
  DEFAULT_PATH,
  DEFAULT_READONLY_PATHS,
} from '../spec/defaults.js';
import {
  OCI_VERSION,
  type OciDevice,
  type OciMount,
  type OciNamespace,
  type OciSpec,
} from '../spec/types.js';
import { hostDevices } from './host-devices.js';
import type { ContainerRecord } from './record.js';
import { appArmorProfile, noNewPrivileges } from './security-options.js';
import type { ResolvedUser } from './user.js';

export interface SpecInputs {
  record: ContainerRecord;
  /** --init: the host path of the container's copy of docker-init (see init-process.ts). */
  initBinary?: string;
  /** The directory the overlay is mounted on (the container's root). */
  rootfs: string;
  user: ResolvedUser;
  /** Host files bind-mounted over /etc/hostname, /etc/hosts, /etc/resolv.conf. */
  etcFiles: { hostname: string; hosts: string; resolvConf: string };
  consoleSize?: { rows: number; cols: number };
  /** --network container:X: the other container's network namespace, joined instead of a new one. */
  networkNamespacePath?: string;
  /** --pid / --ipc container:X (a pod's infra): that container's namespaces, joined. */
  pidNamespacePath?: string;
  ipcNamespacePath?: string;
  /** --uts container:X (a pod's infra): that container's, joined with the name it has. */
  utsNamespacePath?: string;
  /** The host's device nodes for --privileged (read from /dev when not given). */
  hostDevices?: OciDevice[];
}

/** Docker's rule: an explicit entrypoint plus the command; otherwise the command alone. */
export function containerArgs(record: ContainerRecord): string[] {
  return [...record.Config.Entrypoint, ...record.Config.Cmd];
}

/**
 * The capabilities this process can hand on: its bounding set (`CapBnd` in /proc/self/status).
 * A container can have none outside it; undefined when it cannot be read (then nothing is cut).
 */
export function heldCapabilities(statusText?: string): ReadonlySet<string> | undefined {
  let text = statusText;
  if (text === undefined) {
    try {
      text = fs.readFileSync('/proc/self/status', 'utf8');
    } catch {
      return undefined;
    }
  }
  const match = /^CapBnd:\s*([0-9a-f]+)$/m.exec(text);
  if (!match) return undefined;
  const mask = BigInt(`0x${match[1]}`);
  return new Set(CAPABILITIES.filter((_, bit) => ((mask >> BigInt(bit)) & 1n) === 1n));
}

export function capabilitySet(
  capAdd: readonly string[],
  capDrop: readonly string[],
  privileged: boolean,
  held: ReadonlySet<string> | undefined = heldCapabilities(),
): string[] {
  // Like podman: --privileged and ALL mean every capability this host lets gantry pass on, and
  // a default the host withholds is left out rather than failing every container.
  const allowed = (name: string) => held === undefined || held.has(name);
  if (privileged) return CAPABILITIES.filter(allowed);
  const normalize = (name: string, flag: string): string => {
    if (name.toUpperCase() === 'ALL') return 'ALL';
    const canonical = normalizeCapability(name);
    if (!canonical) {
      throw new InvalidArgumentError(`${flag}: unknown capability ${JSON.stringify(name)}`, {
        hint: 'names look like NET_ADMIN or CAP_NET_ADMIN, or ALL',
      });
    }
    return canonical;
  };
  const add = capAdd.map((name) => normalize(name, '--cap-add'));
  const drop = capDrop.map((name) => normalize(name, '--cap-drop'));
  for (const name of add) {
    if (name !== 'ALL' && !allowed(name) && !drop.includes(name)) {
      throw new InvalidArgumentError(
        `--cap-add ${name}: this host withholds it (it is not in gantry's own capability bounding set), so no container can have it`,
        { hint: 'leave it out, or run gantry where it holds that capability' },
      );
    }
  }
  let set = new Set<string>(drop.includes('ALL') ? [] : DEFAULT_CAPABILITIES);
  if (add.includes('ALL')) set = new Set(CAPABILITIES);
  for (const name of add) if (name !== 'ALL') set.add(name);
  for (const name of drop) if (name !== 'ALL') set.delete(name);
  return CAPABILITIES.filter((name) => set.has(name) && allowed(name));
}

function mergeEnv(base: readonly string[], overrides: readonly string[]): string[] {
  const result = new Map<string, string>();
  for (const entry of [...base, ...overrides]) {
    const index = entry.indexOf('=');
    const name = index < 0 ? entry : entry.slice(0, index);
    result.set(name, entry);
  }
  return [...result.values()];
}

function hasEnv(env: readonly string[], name: string): boolean {
  return env.some((entry) => entry.startsWith(`${name}=`));
}

/** Path depth, for mounting a parent before what is mounted inside it (docker's sortMounts). */
function depth(destination: string): number {
  return destination.split('/').filter(Boolean).length;
}

/**
 * The container's binds, volumes and tmpfs mounts as OCI mounts, parents first. A volume is a
 * bind of its _data directory; a tmpfs gets docker's noexec,nosuid,nodev before its own options.
 */
export function containerMounts(record: ContainerRecord): OciMount[] {
  const sorted = [...record.Mounts].sort((a, b) => depth(a.Destination) - depth(b.Destination));
  return sorted.map((mount): OciMount => {
    const access = mount.ReadOnly ? 'ro' : 'rw';
    if (mount.Type === 'tmpfs') {
      const options = (mount.Data ?? '').split(',').filter(Boolean);
      return {
        destination: mount.Destination,
        source: 'tmpfs',
        type: 'tmpfs',
        options: [...options, access],
      };
    }
    return {
      destination: mount.Destination,
      source: mount.Source,
      type: 'bind',
      options: [mount.NonRecursive ? 'bind' : 'rbind', access, mount.Propagation || 'rprivate'],
    };
  });
}

export function buildSpec(inputs: SpecInputs): OciSpec {
  const { record, user } = inputs;
  const config = record.Config;
  const host = record.HostConfig;
  const command = containerArgs(record);
  if (command.length === 0) {
    throw new InvalidArgumentError('no command specified: the image has no CMD or ENTRYPOINT', {
      hint: 'give one after the image name, e.g. `gantry run IMAGE sh`',
    });
  }
  const args = inputs.initBinary ? [INIT_PATH, '--', ...command] : command;
  let env = mergeEnv([], config.Env);
  if (!hasEnv(env, 'PATH')) env = [`PATH=${DEFAULT_PATH}`, ...env];
  env = mergeEnv([`HOSTNAME=${config.Hostname}`], env);
  if (config.Tty && !hasEnv(env, 'TERM')) env.push('TERM=xterm');
  if (!hasEnv(env, 'HOME')) env.push(`HOME=${user.home || '/'}`);

  const capabilities = capabilitySet(host.CapAdd, host.CapDrop, host.Privileged);
  // docker's rule: --privileged and seccomp=unconfined run without a filter; a given profile
  // replaces the default one.
  const unconfined =
    host.Privileged || (host.SecurityOpt ?? []).some((o) => /^seccomp[=:]unconfined$/.test(o));
  const apparmor = appArmorProfile(host);
  const seccomp = unconfined ? undefined : (host.SeccompProfile ?? defaultSeccompProfile(capabilities));
  // --pid/--ipc/--uts host: no namespace of that kind in the spec, so the container stays in ours.
  const hostPid = host.PidMode === 'host';
  const hostIpc = host.IpcMode === 'host';
  const hostUts = host.UTSMode === 'host';
  const namespaces: OciNamespace[] = [
    ...(hostPid
      ? []
      : [
          inputs.pidNamespacePath
            ? { type: 'pid' as const, path: inputs.pidNamespacePath }
            : { type: 'pid' as const },
        ]),
    ...(hostIpc
      ? []
      : [
          inputs.ipcNamespacePath
            ? { type: 'ipc' as const, path: inputs.ipcNamespacePath }
            : { type: 'ipc' as const },
        ]),
    ...(hostUts
      ? []
      : [
          inputs.utsNamespacePath
            ? { type: 'uts' as const, path: inputs.utsNamespacePath }
            : { type: 'uts' as const },
        ]),
    { type: 'mount' },
    { type: 'cgroup' },
  ];
  if (inputs.networkNamespacePath) namespaces.push({ type: 'network', path: inputs.networkNamespacePath });
  else if (host.NetworkMode !== 'host') namespaces.push({ type: 'network' });

  const mounts: OciMount[] = DEFAULT_MOUNTS.map((mount) =>
    // docker's --ipc host: the host's POSIX shared memory too, not a tmpfs of the container's own.
    hostIpc && mount.destination === '/dev/shm'
      ? {
          destination: '/dev/shm',
          type: 'bind',
          source: '/dev/shm',
          options: ['rbind', 'nosuid', 'noexec', 'nodev', 'rprivate'],
        }
      : host.Privileged && (mount.type === 'sysfs' || mount.type === 'cgroup')
        ? { ...mount, options: (mount.options ?? []).filter((o) => o !== 'ro') }
        : { ...mount, options: [...(mount.options ?? [])] },
  );
  const managed: [string, string][] = [
    ['/etc/hostname', inputs.etcFiles.hostname],
    ['/etc/hosts', inputs.etcFiles.hosts],
    ['/etc/resolv.conf', inputs.etcFiles.resolvConf],
  ];
  for (const [destination, source] of managed) {
    mounts.push({ destination, source, type: 'bind', options: ['rbind', 'rprivate'] });
  }
  mounts.push(...containerMounts(record));
  if (inputs.initBinary)
    mounts.push({
      destination: INIT_PATH,
      source: inputs.initBinary,
      type: 'bind',
      options: ['bind', 'ro', 'rprivate'],
    });

  const given: OciDevice[] = (host.Devices ?? []).map((device) => ({
    type: device.Type,
    path: device.PathInContainer,
    major: device.Major,
    minor: device.Minor,
    fileMode: device.FileMode,
    uid: device.Uid,
    gid: device.Gid,
  }));
  // --privileged: every device node of the host, as docker gives it (read at each start, as the
  // host's devices change); a --device of the same path wins.
  const givenPaths = new Set(given.map((device) => device.path));
  const devices = host.Privileged
    ? [...(inputs.hostDevices ?? hostDevices()).filter((device) => !givenPaths.has(device.path)), ...given]
    : given;

  return {
    ociVersion: OCI_VERSION,
    process: {
      terminal: config.Tty,
      ...(inputs.consoleSize
        ? { consoleSize: { height: inputs.consoleSize.rows, width: inputs.consoleSize.cols } }
        : {}),
      user: { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids },
      args,
      env,
      cwd: config.WorkingDir || '/',
      capabilities: {
        bounding: capabilities,
        effective: capabilities,
        permitted: capabilities,
        inheritable: [],
        ambient: [],
      },
      rlimits: host.Ulimits.map((u) => ({
        type: `RLIMIT_${u.Name.toUpperCase()}`,
        soft: u.Soft,
        hard: u.Hard,
      })),
      noNewPrivileges: noNewPrivileges(host),
      ...(apparmor ? { apparmorProfile: apparmor } : {}),
      ...(record.ProcessLabel ? { selinuxLabel: record.ProcessLabel } : {}),
      oomScoreAdj: 0,
    },
    root: { path: inputs.rootfs, readonly: host.ReadonlyRootfs },
    // The host's UTS namespace keeps the host's name, a joined one its owner's: the spec sets
    // none (one set would be set again in the joined namespace, renaming it for its owner).
    ...(hostUts || inputs.utsNamespacePath ? {} : { hostname: config.Hostname }),
    ...(config.Domainname && !inputs.utsNamespacePath ? { domainname: config.Domainname } : {}),
    mounts,
    annotations: { 'org.gantry.container.name': record.Name },
    linux: {
      namespaces,
      cgroupsPath: path.posix.join('/', host.CgroupParent, record.Id),
      ...(devices.length > 0 ? { devices } : {}),
      ...(seccomp ? { seccomp } : {}),
      maskedPaths: host.Privileged ? [] : [...DEFAULT_MASKED_PATHS],
      readonlyPaths: host.Privileged ? [] : [...DEFAULT_READONLY_PATHS],
      ...(record.MountLabel ? { mountLabel: record.MountLabel } : {}),
    },
  };
}
