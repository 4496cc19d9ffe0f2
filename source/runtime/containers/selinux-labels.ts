/**
 * The SELinux labels of a container `gantry run`/`create` makes with `--security-opt label=...`
 * (docker's and podman's flag), computed as go-selinux's label.InitLabels computes them for both:
 * the policy's container defaults (contexts/lxc_contexts: `process` for the process, `file` for
 * its mounts), an MCS level of two random categories no other container of this engine holds (so
 * two containers' processes cannot touch each other's files), then each option's part replaced.
 * The labels are fixed at create and kept in the record (a restart keeps its level).
 *
 * Without a label option a container runs unlabelled, as under dockerd's default
 * (--selinux-enabled=false); `label=disable` says so explicitly and is accepted on any host. Any
 * other label option is refused where the host has no SELinux: it could not be applied there.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError } from '../errors.js';
import { selinuxContextProblem, selinuxContextValid, selinuxEnabled } from '../spec/security-modules.js';
import type { EngineCore } from './core.js';
import type { ContainerRecord, HostConfig } from './record.js';

const LABEL = /^label[=:](.*)$/s;
const PARTS = ['user', 'role', 'type', 'level', 'filetype'] as const;
const ACCEPTED =
  'label=user:USER, label=role:ROLE, label=type:TYPE, label=level:LEVEL, label=filetype:TYPE or label=disable';

/** The values of the --security-opt label=... options, in order. */
export function labelOptions(host: Pick<HostConfig, 'SecurityOpt'>): string[] {
  return (host.SecurityOpt ?? []).flatMap((option) => {
    const match = LABEL.exec(option);
    return match ? [match[1]!] : [];
  });
}

/**
 * Checks one label option's form (at create, before anything exists); `enabled` is whether the
 * host runs SELinux.
 */
export function checkLabelOption(value: string, enabled = selinuxEnabled()): void {
  if (value === 'disable') return;
  const colon = value.indexOf(':');
  const part = value.slice(0, colon);
  const argument = value.slice(colon + 1);
  if (colon < 0 || !(PARTS as readonly string[]).includes(part) || argument === '')
    throw new InvalidArgumentError(`--security-opt label=${value}: not a label option`, {
      hint: `accepted: ${ACCEPTED}`,
    });
  if ([...argument].some((char) => char <= ' ' || char === '\x7f' || char === '"'))
    throw new InvalidArgumentError(
      `--security-opt label=${value}: the ${part} has a space, quote or control character`,
    );
  if (part !== 'level' && argument.includes(':'))
    throw new InvalidArgumentError(
      `--security-opt label=${value}: a ${part} has no ":" (only a level does, as in s0:c1,c2)`,
    );
  if (!enabled)
    throw new InvalidArgumentError(`--security-opt label=${value}: SELinux is not enabled on this host`, {
      hint: 'leave the option out (or give label=disable) to run without an SELinux label',
    });
}

interface Context {
  user: string;
  role: string;
  type: string;
  level?: string;
}

function parseContext(text: string, where: string): Context {
  const problem = selinuxContextProblem(text);
  if (problem) throw new InvalidArgumentError(`${where}: ${problem}`);
  const [user, role, type, ...level] = text.split(':');
  return { user: user!, role: role!, type: type!, ...(level.length > 0 ? { level: level.join(':') } : {}) };
}

const format = (context: Context) =>
  [context.user, context.role, context.type, ...(context.level === undefined ? [] : [context.level])].join(
    ':',
  );

/** The policy's container defaults: `process` and `file` of contexts/lxc_contexts. */
export interface ContainerDefaults {
  process: Context;
  file: Context;
}

/**
 * The container defaults of the policy the host loads (SELINUXTYPE of /etc/selinux/config, as
 * go-selinux reads it); an error naming the file when the policy has none.
 */
export function readContainerDefaults(root = '/etc/selinux'): ContainerDefaults {
  let type = 'targeted';
  try {
    const config = fs.readFileSync(path.join(root, 'config'), 'utf8');
    type = /^\s*SELINUXTYPE\s*=\s*(\S+)/m.exec(config)?.[1] ?? type;
  } catch {
    // go-selinux's default policy name when there is no config
  }
  const file = path.join(root, type, 'contexts', 'lxc_contexts');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new InvalidArgumentError(
      `--security-opt label=...: the SELinux policy "${type}" has no container labels (${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      {
        hint: "install a policy that defines them (e.g. Debian's selinux-policy-default), or leave the option out",
      },
    );
  }
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^\s*([a-z_]+)\s*=\s*"?([^"\s]+)"?\s*$/.exec(line);
    if (match) values.set(match[1]!, match[2]!);
  }
  const entry = (key: string) => {
    const value = values.get(key);
    if (!value)
      throw new InvalidArgumentError(`${file} names no "${key}" label; the policy has no container labels`);
    return parseContext(value, `${file}: ${key}`);
  };
  return { process: entry('process'), file: entry('file') };
}

/** go-selinux's uniqMcs: two different categories of 0..1023, lower first. */
export function randomLevel(
  taken: ReadonlySet<string>,
  random: (max: number) => number = crypto.randomInt,
): string {
  for (;;) {
    const first = random(1024);
    const second = random(1024);
    if (first === second) continue;
    const level = `s0:c${Math.min(first, second)},c${Math.max(first, second)}`;
    if (!taken.has(level)) return level;
  }
}

/**
 * The process and mount labels for these options, or undefined for an unlabelled container
 * (no option, or disable among them, as go-selinux honours it anywhere in the list).
 */
export function containerLabels(
  options: readonly string[],
  defaults: ContainerDefaults,
  takenLevels: ReadonlySet<string>,
  random?: (max: number) => number,
): { processLabel: string; mountLabel: string } | undefined {
  if (options.length === 0 || options.includes('disable')) return undefined;
  const processContext = { ...defaults.process };
  const mountContext = { ...defaults.file };
  // A policy with levels (MCS/MLS): a level of this container's own unless one is given.
  if (processContext.level !== undefined) {
    const level = randomLevel(takenLevels, random);
    processContext.level = level;
    if (mountContext.level !== undefined) mountContext.level = level;
  }
  for (const option of options) {
    const colon = option.indexOf(':');
    const part = option.slice(0, colon);
    const value = option.slice(colon + 1);
    if (part === 'filetype') mountContext.type = value;
    else if (part === 'user' || part === 'role' || part === 'type' || part === 'level')
      processContext[part] = value;
    if (part === 'user' || part === 'level') mountContext[part] = value;
  }
  return { processLabel: format(processContext), mountLabel: format(mountContext) };
}

/** The MCS level of a label (all after its third colon), if it has one. */
function levelOf(label: string | undefined): string | undefined {
  const parts = label?.split(':') ?? [];
  return parts.length > 3 ? parts.slice(3).join(':') : undefined;
}

/**
 * Sets record.ProcessLabel and record.MountLabel at create when a label option asks for them
 * (with --privileged too, as podman: an option given is never dropped). The level is one no other
 * container of this engine's records holds.
 */
export async function assignSelinuxLabels(core: EngineCore, record: ContainerRecord): Promise<void> {
  const options = labelOptions(record.HostConfig);
  if (options.length === 0 || options.includes('disable')) return;
  const defaults = readContainerDefaults();
  const { records } = await core.containers.list();
  const taken = new Set(records.flatMap((other) => levelOf(other.ProcessLabel) ?? []));
  const labels = containerLabels(options, defaults, taken);
  if (!labels) return;
  // Checked now, so that a container that could never start is not made.
  for (const [what, label] of [
    ['process', labels.processLabel],
    ['mount', labels.mountLabel],
  ] as const) {
    if (selinuxContextValid(label) === false)
      throw new InvalidArgumentError(
        `--security-opt label=...: the ${what} label ${label} is not a context the loaded SELinux policy defines`,
        {
          hint: `the policy's container defaults come from contexts/lxc_contexts; name a ${what === 'process' ? 'type (label=type:TYPE)' : 'file type (label=filetype:TYPE)'} and level the policy has`,
        },
      );
  }
  record.ProcessLabel = labels.processLabel;
  record.MountLabel = labels.mountLabel;
}
