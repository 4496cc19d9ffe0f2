/**
 * The mount flags of `run`/`create` parsed as docker parses them: `-v SRC:DST[:MODES]`,
 * `--mount type=bind|volume|tmpfs,...` and `--tmpfs DST[:OPTIONS]`, into the MountPoints a
 * container record keeps. Pure: volumes are made, sources checked and content copied later
 * (volumes/attach.ts), once the whole set has been validated.
 */
import path from 'node:path';
import { parseBytes } from '../cgroups/parse.js';
import { InvalidArgumentError } from '../errors.js';
import type { MountPoint } from '../containers/record.js';
import { generateVolumeName, isVolumeName } from './names.js';

const PROPAGATIONS = ['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave'] as const;
/** The rw/ro pair, SELinux labels, the copy mode and docker's macOS consistency hints. */
const RW_MODES = new Set(['ro', 'rw']);
const LABEL_MODES = new Set(['z', 'Z']);
const COPY_MODES = new Set(['nocopy']);
const CONSISTENCY_MODES = new Set(['consistent', 'cached', 'delegated']);

/** tmpfs options docker's ParseTmpfsOptions takes: flags, and these data keys. */
const TMPFS_FLAGS = new Set([
  'ro',
  'rw',
  'exec',
  'noexec',
  'suid',
  'nosuid',
  'dev',
  'nodev',
  'sync',
  'async',
  'atime',
  'noatime',
  'diratime',
  'nodiratime',
  'relatime',
  'norelatime',
  'strictatime',
  'nostrictatime',
  ...PROPAGATIONS,
]);
const TMPFS_DATA = new Set(['size', 'mode', 'uid', 'gid', 'nr_inodes', 'nr_blocks', 'mpol']);
/** What docker mounts every tmpfs with before the user's options (daemon/oci_linux.go). */
const TMPFS_DEFAULTS = ['noexec', 'nosuid', 'nodev'];

function volumeSpecError(spec: string, reason?: string): InvalidArgumentError {
  return new InvalidArgumentError(`invalid volume specification: '${spec}'${reason ? `: ${reason}` : ''}`, {
    hint: 'accepted: -v HOST-PATH:CONTAINER-PATH[:MODES], -v VOLUME-NAME:CONTAINER-PATH[:MODES] or -v CONTAINER-PATH; MODES: ro|rw, z|Z, nocopy, [r]private|[r]shared|[r]slave, comma-separated',
  });
}

function checkDestination(destination: string, type: string, onError: (reason: string) => Error): string {
  if (!path.posix.isAbsolute(destination)) {
    throw onError(
      `invalid mount config for type "${type}": invalid mount path: '${destination}' mount path must be absolute`,
    );
  }
  const normal = path.posix.normalize(destination);
  if (normal === '/') throw onError(`invalid mount config for type "${type}": destination can't be '/'`);
  return normal.length > 1 ? normal.replace(/\/$/, '') : normal;
}

/** docker's `-v` modes: each group at most once ("ro,z", "Z", "rshared", "nocopy"). */
function parseModes(spec: string, text: string) {
  const modes = text.split(',');
  const seen = { rw: 0, label: 0, copy: 0, propagation: 0, consistency: 0 };
  for (const mode of modes) {
    if (RW_MODES.has(mode)) seen.rw += 1;
    else if (LABEL_MODES.has(mode)) seen.label += 1;
    else if (COPY_MODES.has(mode)) seen.copy += 1;
    else if ((PROPAGATIONS as readonly string[]).includes(mode)) seen.propagation += 1;
    else if (CONSISTENCY_MODES.has(mode)) seen.consistency += 1;
    else throw volumeSpecError(spec, `invalid mode: ${mode}`);
  }
  if (Object.values(seen).some((count) => count > 1)) throw volumeSpecError(spec, `invalid mode: ${text}`);
  return {
    readOnly: modes.includes('ro'),
    relabel: modes.find((mode) => LABEL_MODES.has(mode)) as 'z' | 'Z' | undefined,
    noCopy: modes.includes('nocopy'),
    propagation: modes.find((mode) => (PROPAGATIONS as readonly string[]).includes(mode)),
  };
}

/** `-v SRC:DST[:MODES]` or `-v DST` (an anonymous volume). */
/** A new anonymous volume at `destination` (`-v /path`, an image's VOLUME), named at random. */
export function anonymousVolume(destination: string): MountPoint {
  return {
    Type: 'volume',
    Name: generateVolumeName(),
    Source: '',
    Destination: destination,
    ReadOnly: false,
    Driver: 'local',
    Mode: '',
    Propagation: '',
    Anonymous: true,
  };
}

export function parseVolumeFlag(spec: string): MountPoint {
  const parts = spec.split(':');
  if (spec === '' || parts.length > 3 || parts.some((part) => part === '')) throw volumeSpecError(spec);
  const onError = (reason: string) => volumeSpecError(spec, reason);
  if (parts.length === 1) {
    return anonymousVolume(checkDestination(parts[0]!, 'volume', onError));
  }
  const [source, target, modeText = ''] = parts as [string, string, string?];
  const modes = modeText === '' ? parseModes(spec, 'rw') : parseModes(spec, modeText);
  const bind = path.isAbsolute(source);
  if (!bind && !isVolumeName(source)) {
    throw new InvalidArgumentError(
      `create ${source}: ${JSON.stringify(source)} includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`,
      {
        hint: 'a host path must be absolute; a volume name is letters, digits, _ . - (two characters at least)',
      },
    );
  }
  const destination = checkDestination(target, bind ? 'bind' : 'volume', onError);
  if (bind && modes.noCopy) throw volumeSpecError(spec, 'invalid mode: nocopy applies to volumes only');
  const common = {
    Destination: destination,
    ReadOnly: modes.readOnly,
    Mode: modeText,
    ...(modes.relabel ? { Relabel: modes.relabel } : {}),
  };
  if (bind) {
    return {
      Type: 'bind',
      Source: path.resolve(source),
      ...common,
      Propagation: modes.propagation ?? 'rprivate',
    };
  }
  return {
    Type: 'volume',
    Name: source,
    Source: '',
    ...common,
    Driver: 'local',
    Propagation: modes.propagation ?? '',
    ...(modes.noCopy ? { NoCopy: true } : {}),
  };
}

function mountFlagError(value: string, reason: string): InvalidArgumentError {
  return new InvalidArgumentError(`invalid argument "${value}" for "--mount" flag: ${reason}`, {
    hint: 'e.g. --mount type=volume,source=NAME,target=/data or type=bind,source=/host,target=/x,readonly or type=tmpfs,target=/tmp,tmpfs-size=64m',
  });
}

function parseBoolean(value: string, raw: string, key: string): boolean {
  if (['', 'true', '1'].includes(value)) return true;
  if (['false', '0'].includes(value)) return false;
  throw mountFlagError(raw, `invalid value for ${key}: ${value}`);
}

/** Splits a CSV field list, honouring double quotes as docker's csv reader does. */
function csvFields(text: string): string[] {
  const fields: string[] = [];
  let current = '';
  let quoted = false;
  for (const char of text) {
    if (char === '"') quoted = !quoted;
    else if (char === ',' && !quoted) {
      fields.push(current);
      current = '';
    } else current += char;
  }
  fields.push(current);
  return fields;
}

/** `--mount` as docker's CLI reads it (opts/mount.go), then checked as its daemon checks it. */
export function parseMountFlag(value: string): { mount: MountPoint; hostConfig: Record<string, unknown> } {
  let type = 'volume';
  let source = '';
  let target = '';
  let readOnly = false;
  let propagation: string | undefined;
  let nonRecursive = false;
  let noCopy = false;
  let tmpfsSize: number | undefined;
  let tmpfsMode: number | undefined;
  const prefixes = { bind: false, volume: false, tmpfs: false };
  const labels: Record<string, string> = {};
  for (const field of csvFields(value)) {
    const index = field.indexOf('=');
    const key = (index < 0 ? field : field.slice(0, index)).trim().toLowerCase();
    const fieldValue = index < 0 ? '' : field.slice(index + 1);
    if (index < 0 && !['readonly', 'ro', 'volume-nocopy', 'bind-nonrecursive'].includes(key)) {
      throw mountFlagError(value, `invalid field '${field}' must be a key=value pair`);
    }
    if (key.startsWith('bind-')) prefixes.bind = true;
    if (key.startsWith('volume-')) prefixes.volume = true;
    if (key.startsWith('tmpfs-')) prefixes.tmpfs = true;
    switch (key) {
      case 'type':
        type = fieldValue.toLowerCase();
        break;
      case 'source':
      case 'src':
        source = fieldValue;
        break;
      case 'target':
      case 'dst':
      case 'destination':
        target = fieldValue;
        break;
      case 'readonly':
      case 'ro':
        readOnly = parseBoolean(fieldValue, value, key);
        break;
      case 'consistency':
        break;
      case 'bind-propagation':
        if (!(PROPAGATIONS as readonly string[]).includes(fieldValue.toLowerCase())) {
          throw mountFlagError(
            value,
            `invalid propagation mode: ${fieldValue} (accepted: ${PROPAGATIONS.join(', ')})`,
          );
        }
        propagation = fieldValue.toLowerCase();
        break;
      case 'bind-nonrecursive':
        nonRecursive = parseBoolean(fieldValue, value, key);
        break;
      case 'volume-nocopy':
        noCopy = parseBoolean(fieldValue, value, key);
        break;
      case 'volume-label': {
        const at = fieldValue.indexOf('=');
        labels[at < 0 ? fieldValue : fieldValue.slice(0, at)] = at < 0 ? '' : fieldValue.slice(at + 1);
        break;
      }
      case 'volume-driver':
        if (fieldValue !== 'local') {
          throw mountFlagError(
            value,
            `volume driver ${JSON.stringify(fieldValue)} is not supported (only local)`,
          );
        }
        break;
      case 'tmpfs-size':
        try {
          tmpfsSize = parseBytes(fieldValue, 'tmpfs-size');
        } catch {
          throw mountFlagError(value, `invalid value for tmpfs-size: ${fieldValue}`);
        }
        break;
      case 'tmpfs-mode':
        if (!/^[0-7]{1,4}$/.test(fieldValue)) {
          throw mountFlagError(
            value,
            `invalid value for tmpfs-mode: ${fieldValue} (an octal mode, e.g. 1777)`,
          );
        }
        tmpfsMode = parseInt(fieldValue, 8);
        break;
      default:
        throw mountFlagError(value, `unexpected key '${key}' in '${field}'`);
    }
  }
  if (!['bind', 'volume', 'tmpfs'].includes(type)) {
    throw mountFlagError(value, `invalid mount type ${JSON.stringify(type)} (accepted: bind, volume, tmpfs)`);
  }
  if (target === '') throw mountFlagError(value, 'target is required');
  for (const kind of ['bind', 'volume', 'tmpfs'] as const) {
    if (prefixes[kind] && type !== kind) {
      throw mountFlagError(value, `cannot mix '${kind}-*' options with mount type '${type}'`);
    }
  }
  const onError = (reason: string) => mountFlagError(value, reason);
  const destination = checkDestination(target, type, onError);
  const hostConfig: Record<string, unknown> = {
    Type: type,
    Source: source,
    Target: target,
    ...(readOnly ? { ReadOnly: true } : {}),
  };
  if (type === 'bind') {
    if (source === '') throw onError(`invalid mount config for type "bind": field Source must not be empty`);
    if (!path.isAbsolute(source)) {
      throw onError(
        `invalid mount config for type "bind": invalid mount path: '${source}' mount path must be absolute`,
      );
    }
    if (propagation || nonRecursive) {
      hostConfig.BindOptions = {
        ...(propagation ? { Propagation: propagation } : {}),
        ...(nonRecursive ? { NonRecursive: true } : {}),
      };
    }
    return {
      mount: {
        Type: 'bind',
        Source: path.resolve(source),
        Destination: destination,
        ReadOnly: readOnly,
        Mode: '',
        Propagation: propagation ?? 'rprivate',
        ...(nonRecursive ? { NonRecursive: true } : {}),
      },
      hostConfig,
    };
  }
  if (type === 'tmpfs') {
    if (source !== '')
      throw onError(`invalid mount config for type "tmpfs": field Source must not be specified`);
    const data = [
      ...(tmpfsSize !== undefined ? [`size=${tmpfsSize}`] : []),
      ...(tmpfsMode !== undefined ? [`mode=${tmpfsMode.toString(8)}`] : []),
    ];
    if (tmpfsSize !== undefined || tmpfsMode !== undefined) {
      hostConfig.TmpfsOptions = {
        ...(tmpfsSize !== undefined ? { SizeBytes: tmpfsSize } : {}),
        ...(tmpfsMode !== undefined ? { Mode: tmpfsMode } : {}),
      };
    }
    return {
      mount: {
        Type: 'tmpfs',
        Source: '',
        Destination: destination,
        ReadOnly: readOnly,
        Mode: '',
        Propagation: '',
        Data: [...TMPFS_DEFAULTS, ...data].join(','),
      },
      hostConfig,
    };
  }
  if (source !== '' && !isVolumeName(source)) {
    throw onError(
      `create ${source}: ${JSON.stringify(source)} includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed`,
    );
  }
  if (noCopy || Object.keys(labels).length > 0) {
    hostConfig.VolumeOptions = {
      ...(noCopy ? { NoCopy: true } : {}),
      ...(Object.keys(labels).length > 0 ? { Labels: labels } : {}),
    };
  }
  return {
    mount: {
      Type: 'volume',
      Name: source === '' ? generateVolumeName() : source,
      Source: '',
      Destination: destination,
      ReadOnly: readOnly,
      Driver: 'local',
      Mode: '',
      Propagation: '',
      ...(source === '' ? { Anonymous: true } : {}),
      ...(noCopy ? { NoCopy: true } : {}),
    },
    hostConfig,
  };
}

/** `--tmpfs DST[:OPTIONS]`: docker's defaults (noexec,nosuid,nodev) and then the options given. */
export function parseTmpfsFlag(value: string): MountPoint {
  const index = value.indexOf(':');
  const target = index < 0 ? value : value.slice(0, index);
  const optionText = index < 0 ? '' : value.slice(index + 1);
  const onError = (reason: string) =>
    new InvalidArgumentError(`invalid --tmpfs ${JSON.stringify(value)}: ${reason}`, {
      hint: 'e.g. --tmpfs /run or --tmpfs /run:rw,noexec,nosuid,size=64m,mode=1777',
    });
  const destination = checkDestination(target, 'tmpfs', onError);
  const options = optionText === '' ? [] : optionText.split(',');
  for (const option of options) {
    const key = option.split('=', 1)[0]!;
    if (option.includes('=') ? !TMPFS_DATA.has(key) : !TMPFS_FLAGS.has(option)) {
      throw onError(`invalid tmpfs option [${option}]`);
    }
  }
  return {
    Type: 'tmpfs',
    Source: '',
    Destination: destination,
    ReadOnly: options.includes('ro') && options.lastIndexOf('ro') > options.lastIndexOf('rw'),
    Mode: '',
    Propagation: '',
    Data: [...TMPFS_DEFAULTS, ...options.filter((option) => option !== 'ro' && option !== 'rw')].join(','),
  };
}

/** docker's refusal of two mounts on one destination. */
export function checkDuplicateDestinations(mounts: readonly MountPoint[]): void {
  const seen = new Set<string>();
  for (const mount of mounts) {
    if (seen.has(mount.Destination)) {
      throw new InvalidArgumentError(`Duplicate mount point: ${mount.Destination}`, {
        hint: 'give each -v, --mount and --tmpfs its own container path',
      });
    }
    seen.add(mount.Destination);
  }
}

/** `--volumes-from CONTAINER[:ro|:rw]`. */
export function parseVolumesFrom(value: string): { container: string; mode: '' | 'ro' | 'rw' } {
  const index = value.lastIndexOf(':');
  const mode = index < 0 ? '' : value.slice(index + 1);
  const container = index < 0 ? value : value.slice(0, index);
  if (container === '' || (mode !== '' && mode !== 'ro' && mode !== 'rw')) {
    throw new InvalidArgumentError(
      `invalid --volumes-from ${JSON.stringify(value)}: expected CONTAINER[:ro|:rw]`,
    );
  }
  return { container, mode: mode as '' | 'ro' | 'rw' };
}
