/**
 * Checks a whole spec before the first side effect, as a list of small named validators
 * (runc's configs/validate). Each failure says which field, what was wrong and what is accepted.
 */
import fs from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError } from '../errors.js';
import { normalizeCapability } from './capabilities.js';
import { RLIMIT_NUMBERS } from './defaults.js';
import { COPY_UP, propagationFlags } from './mount-options.js';
import { compileSeccomp } from './seccomp.js';
import {
  appArmorEnabled,
  selinuxContextProblem,
  selinuxContextValid,
  selinuxEnabled,
} from './security-modules.js';
import type { OciSpec } from './types.js';

export class SpecValidationError extends InvalidArgumentError {}

type Validator = (spec: OciSpec, context: ValidationContext) => string | undefined;

export interface ValidationContext {
  /** Directory root.path is relative to. */
  bundle: string;
  /** Where the message says the spec came from, e.g. "config.json". */
  source: string;
}

const NAMESPACE_TYPES = ['pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup', 'time'];

function hasNamespace(spec: OciSpec, type: string): { present: boolean; path?: string | undefined } {
  const entry = spec.linux?.namespaces?.find((ns) => ns.type === type);
  return { present: entry !== undefined, path: entry?.path };
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isStringArray = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((item) => typeof item === 'string');

const validators: Record<string, Validator> = {
  securityModules: (spec) => {
    // Never silently ignored: an AppArmor profile is applied where the host runs AppArmor and
    // refused where it does not (runc would fail to write it at create).
    const profile = spec.process?.apparmorProfile;
    if (profile !== undefined && profile !== '') {
      if (typeof profile !== 'string') return 'process.apparmorProfile must be a string (a profile name)';
      if (!appArmorEnabled())
        return `process.apparmorProfile is ${JSON.stringify(profile)} but AppArmor is not enabled on this host (no /sys/kernel/security/apparmor); remove the field to run without one`;
      if ([...profile].some((char) => char <= ' ' || char === '\x7f'))
        return `process.apparmorProfile ${JSON.stringify(profile)} has a space or control character; it must be the name of a loaded profile`;
    }
    // SELinux labels are applied where the host runs SELinux; elsewhere refused, as runc's
    // validator refuses process.selinuxLabel ("selinux is disabled or not supported") and as a
    // context= mount option fails on a kernel without it.
    const labels: [string, unknown][] = [
      ['process.selinuxLabel', spec.process?.selinuxLabel],
      ['linux.mountLabel', spec.linux?.mountLabel],
    ];
    for (const [field, value] of labels) {
      if (value === undefined || value === '') continue;
      if (!selinuxEnabled())
        return `${field} is ${JSON.stringify(value)} but SELinux is not enabled on this host (no /sys/fs/selinux); remove the field to run without one`;
      const problem = selinuxContextProblem(value);
      if (problem) return `${field} ${problem}`;
      if (selinuxContextValid(value as string) === false)
        return `${field} ${JSON.stringify(value)} is not a context the loaded SELinux policy defines (its user, role, type or level, or the type for that role)`;
    }
    return undefined;
  },
  ociVersion: (spec) =>
    typeof spec.ociVersion === 'string' && spec.ociVersion !== ''
      ? undefined
      : 'ociVersion is missing; it must be a version string such as "1.0.2"',

  process: (spec) => {
    const proc = spec.process;
    if (proc === undefined) return 'process is missing; it must describe the command to run';
    if (!isObject(proc)) return 'process must be an object';
    if (!isStringArray(proc.args) || proc.args.length === 0)
      return 'process.args must be a non-empty array of strings (the command and its arguments)';
    if (typeof proc.cwd !== 'string' || !path.isAbsolute(proc.cwd))
      return `process.cwd must be an absolute path, got ${JSON.stringify(proc.cwd)}`;
    if (!isObject(proc.user) || !Number.isInteger(proc.user.uid) || !Number.isInteger(proc.user.gid))
      return 'process.user must have integer uid and gid';
    if (proc.env !== undefined && (!isStringArray(proc.env) || proc.env.some((e) => !e.includes('='))))
      return 'process.env must be an array of "NAME=value" strings';
    if (proc.user.additionalGids !== undefined && !proc.user.additionalGids.every(Number.isInteger))
      return 'process.user.additionalGids must be integers';
    return undefined;
  },

  capabilities: (spec) => {
    const caps = spec.process?.capabilities;
    if (caps === undefined) return undefined;
    for (const [set, names] of Object.entries(caps)) {
      if (!['bounding', 'effective', 'inheritable', 'permitted', 'ambient'].includes(set))
        return `process.capabilities.${set} is not a capability set (accepted: bounding, effective, inheritable, permitted, ambient)`;
      if (!isStringArray(names)) return `process.capabilities.${set} must be an array of capability names`;
      for (const name of names)
        if (normalizeCapability(name) === undefined || !name.startsWith('CAP_'))
          return `process.capabilities.${set}: unknown capability ${JSON.stringify(name)} (names look like "CAP_NET_ADMIN")`;
    }
    return undefined;
  },

  rlimits: (spec) => {
    const seen = new Set<string>();
    for (const rlimit of spec.process?.rlimits ?? []) {
      if (RLIMIT_NUMBERS[rlimit.type] === undefined)
        return `process.rlimits: unknown type ${JSON.stringify(rlimit.type)} (accepted: ${Object.keys(RLIMIT_NUMBERS).join(', ')})`;
      if (seen.has(rlimit.type)) return `process.rlimits: ${rlimit.type} is given twice`;
      seen.add(rlimit.type);
      if (
        !Number.isInteger(rlimit.soft) ||
        !Number.isInteger(rlimit.hard) ||
        rlimit.soft < 0 ||
        rlimit.hard < 0
      )
        return `process.rlimits: ${rlimit.type} soft and hard must be non-negative integers`;
      if (rlimit.soft > rlimit.hard)
        return `process.rlimits: ${rlimit.type} soft limit ${rlimit.soft} is above its hard limit ${rlimit.hard}`;
    }
    return undefined;
  },

  root: (spec, context) => {
    if (!isObject(spec.root) || typeof spec.root.path !== 'string' || spec.root.path === '')
      return 'root.path is missing; it must name the container root filesystem directory';
    const rootPath = path.resolve(context.bundle, spec.root.path);
    let stat: fs.Stats;
    try {
      stat = fs.statSync(rootPath);
    } catch {
      return `root.path ${rootPath} does not exist; create the root filesystem there (e.g. unpack busybox into it)`;
    }
    return stat.isDirectory() ? undefined : `root.path ${rootPath} is not a directory`;
  },

  namespaces: (spec) => {
    const seen = new Set<string>();
    for (const ns of spec.linux?.namespaces ?? []) {
      if (!NAMESPACE_TYPES.includes(ns.type))
        return `linux.namespaces: unknown type ${JSON.stringify(ns.type)} (accepted: ${NAMESPACE_TYPES.join(', ')})`;
      if (seen.has(ns.type)) return `linux.namespaces: ${ns.type} is given twice`;
      seen.add(ns.type);
      if (ns.path !== undefined && ns.path !== '') {
        if (!path.isAbsolute(ns.path)) return `linux.namespaces: path of ${ns.type} must be absolute`;
        if (!fs.existsSync(ns.path))
          return `linux.namespaces: ${ns.type} namespace path ${ns.path} does not exist`;
      }
    }
    // No mount namespace: the process inherits ours, root filesystem included (the spec's rule,
    // runc's behaviour); then nothing can be hidden from it, so runc refuses masked paths.
    if (
      !seen.has('mount') &&
      ((spec.linux?.maskedPaths?.length ?? 0) > 0 || (spec.linux?.readonlyPaths?.length ?? 0) > 0)
    )
      return 'linux.maskedPaths and linux.readonlyPaths need a mount namespace (add {"type": "mount"}, or empty them to inherit the runtime\'s)';
    return undefined;
  },

  userNamespace: (spec) => {
    const user = hasNamespace(spec, 'user');
    const mapped = (spec.linux?.uidMappings?.length ?? 0) > 0 || (spec.linux?.gidMappings?.length ?? 0) > 0;
    if (user.present && !user.path && !mapped)
      return 'linux.namespaces has a new user namespace but linux.uidMappings/gidMappings are empty';
    if (!user.present && mapped) return 'linux.uidMappings are given but there is no user namespace';
    const mount = hasNamespace(spec, 'mount');
    // A new user namespace owns only what is made after it: a mount namespace that exists already
    // is not its, and no mount of the container's root could be made there.
    if (user.present && !user.path && mount.path)
      return 'linux.namespaces: a mount namespace joined by path cannot go with a new user namespace (it would not own it, so the root filesystem could not be mounted); join the user namespace that owns it by path instead';
    for (const map of [...(spec.linux?.uidMappings ?? []), ...(spec.linux?.gidMappings ?? [])])
      if (![map.containerID, map.hostID, map.size].every((n) => Number.isInteger(n) && n >= 0))
        return 'linux id mappings need non-negative integer containerID, hostID and size';
    return undefined;
  },

  hostname: (spec) => {
    if (spec.hostname === undefined || spec.hostname === '') return undefined;
    const uts = hasNamespace(spec, 'uts');
    // A joined one (by path) takes it too, as the spec allows and runc does.
    if (!uts.present) return 'hostname can only be set with a uts namespace (add {"type": "uts"})';
    if (!/^[A-Za-z0-9]([A-Za-z0-9.-]{0,62})$/.test(spec.hostname))
      return `hostname ${JSON.stringify(spec.hostname)} is not valid (letters, digits, "-" and ".", at most 64)`;
    return undefined;
  },

  mounts: (spec) => {
    if (spec.mounts !== undefined && !Array.isArray(spec.mounts)) return 'mounts must be an array';
    for (const [index, mount] of (spec.mounts ?? []).entries()) {
      if (!isObject(mount) || typeof mount.destination !== 'string')
        return `mounts[${index}] needs a destination`;
      if (!path.isAbsolute(mount.destination))
        return `mounts[${index}].destination ${JSON.stringify(mount.destination)} must be an absolute path`;
      if (mount.options !== undefined && !isStringArray(mount.options))
        return `mounts[${index}].options must be an array of strings`;
      if (
        mount.uidMappings !== undefined ||
        mount.gidMappings !== undefined ||
        (mount.options ?? []).some((o) => o === 'idmap' || o === 'ridmap')
      )
        return `mounts[${index}] (${mount.destination}) is an idmapped mount (uidMappings, gidMappings, "idmap", "ridmap"), which is not supported: give the source files the container's owners instead (gantry-oci features says linux.mountExtensions.idmap.enabled false)`;
      if ((mount.options ?? []).includes(COPY_UP) && mount.type !== 'tmpfs')
        return `mounts[${index}] (${mount.destination}) has option "tmpcopyup" but type ${JSON.stringify(mount.type ?? '')}: it fills a tmpfs, so it goes with type "tmpfs" only`;
      const bind = mount.type === 'bind' || (mount.options ?? []).some((o) => o === 'bind' || o === 'rbind');
      if (bind && (typeof mount.source !== 'string' || mount.source === ''))
        return `mounts[${index}] (${mount.destination}) is a bind mount without a source`;
    }
    return undefined;
  },

  paths: (spec) => {
    for (const key of ['maskedPaths', 'readonlyPaths'] as const)
      for (const p of spec.linux?.[key] ?? [])
        if (typeof p !== 'string' || !path.isAbsolute(p))
          return `linux.${key}: ${JSON.stringify(p)} must be absolute`;
    return undefined;
  },

  devices: (spec) => {
    for (const device of spec.linux?.devices ?? []) {
      if (!['c', 'b', 'u', 'p'].includes(device.type))
        return `linux.devices: ${device.path} has type ${JSON.stringify(device.type)} (accepted: c, b, u, p)`;
      if (typeof device.path !== 'string' || !device.path.startsWith('/dev/'))
        return `linux.devices: path ${JSON.stringify(device.path)} must be under /dev`;
      if (device.type !== 'p' && (!Number.isInteger(device.major) || !Number.isInteger(device.minor)))
        return `linux.devices: ${device.path} needs integer major and minor numbers`;
    }
    return undefined;
  },

  sysctl: (spec) => {
    for (const key of Object.keys(spec.linux?.sysctl ?? {})) {
      if (key.startsWith('net.')) {
        const net = hasNamespace(spec, 'network');
        if (!net.present) return `linux.sysctl ${key} needs a network namespace (it would change the host)`;
      } else if (
        key.startsWith('kernel.shm') ||
        key.startsWith('kernel.msg') ||
        key === 'kernel.sem' ||
        key.startsWith('fs.mqueue.')
      ) {
        if (!hasNamespace(spec, 'ipc').present) return `linux.sysctl ${key} needs an ipc namespace`;
      } else if (key === 'kernel.hostname' || key === 'kernel.domainname') {
        return `linux.sysctl ${key}: use the hostname/domainname fields instead`;
      } else {
        return `linux.sysctl ${key} is not namespaced; setting it would change the host`;
      }
    }
    return undefined;
  },

  hooks: (spec) => {
    for (const [stage, hooks] of Object.entries(spec.hooks ?? {})) {
      if (
        !['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'].includes(
          stage,
        )
      )
        return `hooks.${stage} is not a hook stage`;
      for (const hook of hooks ?? []) {
        if (typeof hook.path !== 'string' || !path.isAbsolute(hook.path))
          return `hooks.${stage}: path ${JSON.stringify(hook.path)} must be absolute`;
        if (hook.timeout !== undefined && (!Number.isInteger(hook.timeout) || hook.timeout <= 0))
          return `hooks.${stage}: timeout of ${hook.path} must be a positive number of seconds`;
      }
    }
    return undefined;
  },

  seccomp: (spec) => {
    if (spec.linux?.seccomp === undefined) return undefined;
    try {
      compileSeccomp(spec.linux.seccomp);
      return undefined;
    } catch (error) {
      return `linux.seccomp: ${(error as Error).message}`;
    }
  },

  rootfsPropagation: (spec) =>
    spec.linux?.rootfsPropagation !== undefined &&
    spec.linux.rootfsPropagation !== '' &&
    propagationFlags(spec.linux.rootfsPropagation) === undefined
      ? `linux.rootfsPropagation ${JSON.stringify(spec.linux.rootfsPropagation)} is not valid (accepted: private, rprivate, shared, rshared, slave, rslave, unbindable, runbindable)`
      : undefined,
};

/** Throws SpecValidationError for the first problem found. */
export function validateSpec(spec: unknown, context: ValidationContext): asserts spec is OciSpec {
  if (!isObject(spec)) throw new SpecValidationError(`${context.source}: the document must be a JSON object`);
  for (const validator of Object.values(validators)) {
    const problem = validator(spec as unknown as OciSpec, context);
    if (problem !== undefined) throw new SpecValidationError(`${context.source}: ${problem}`);
  }
}
