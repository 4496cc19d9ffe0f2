/**
 * The instructions that change only the image config (ENV, ARG, LABEL, WORKDIR, USER, EXPOSE,
 * CMD, ENTRYPOINT, VOLUME, STOPSIGNAL, SHELL, MAINTAINER, HEALTHCHECK, ONBUILD), with docker's semantics: variables
 * are substituted from ENV and the ARGs in scope, ENV wins over an ARG of the same name,
 * ENTRYPOINT clears a CMD inherited from the base image, WORKDIR is relative to the previous one.
 * Used by the builder and by `commit --change`.
 */
import path from 'node:path';
import { InvalidArgumentError } from '../../errors.js';
import type { ImageRuntimeConfig } from '../types.js';
import { parseContainerfile, type Instruction } from './containerfile.js';
import { onBuildTrigger, parseHealthcheck } from './healthcheck.js';
import { expandWord, expandWords, type Variables } from './words.js';

export const DEFAULT_SHELL = ['/bin/sh', '-c'];
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** What the instructions so far have made of the image config. */
export interface StageState {
  config: ImageRuntimeConfig;
  /** ARGs declared in this stage with their values (undefined: declared without a value). */
  args: Map<string, string | undefined>;
  /** ARGs declared before FROM: only FROM sees them, and `ARG NAME` in the stage takes their value. */
  globalArgs: Map<string, string | undefined>;
  shell: string[];
  author?: string;
  /** CMD was set by this build, so a later ENTRYPOINT keeps it. */
  cmdSetHere: boolean;
}

export interface MetadataContext {
  escape: string;
  /** --build-arg values. */
  buildArgs: ReadonlyMap<string, string>;
  /** Build args some ARG consumed (for the "not consumed" warning). */
  usedBuildArgs: Set<string>;
}

export function newStageState(config: ImageRuntimeConfig = {}): StageState {
  return {
    config: structuredClone(config),
    args: new Map(),
    globalArgs: new Map(),
    shell: [...DEFAULT_SHELL],
    cmdSetHere: false,
  };
}

function envName(entry: string): string {
  const equals = entry.indexOf('=');
  return equals < 0 ? entry : entry.slice(0, equals);
}

/** Variables for substitution: ARGs with values, overridden by ENV (docker's precedence). */
export function substitutionVariables(state: StageState): Map<string, string> {
  const variables = new Map<string, string>();
  for (const [name, value] of state.args) if (value !== undefined) variables.set(name, value);
  for (const entry of state.config.Env ?? []) {
    const equals = entry.indexOf('=');
    if (equals > 0) variables.set(entry.slice(0, equals), entry.slice(equals + 1));
  }
  return variables;
}

/** The environment of a RUN step: the ARGs with values, then ENV (which wins). */
export function runEnvironment(state: StageState): string[] {
  const env = new Map<string, string>();
  for (const [name, value] of state.args) if (value !== undefined) env.set(name, value);
  const fromConfig = new Set((state.config.Env ?? []).map(envName));
  return [...env].filter(([name]) => !fromConfig.has(name)).map(([name, value]) => `${name}=${value}`);
}

function invalid(instruction: Instruction, message: string, hint?: string): InvalidArgumentError {
  return new InvalidArgumentError(`${instruction.keyword} ${message}`, hint ? { hint } : {});
}

/** `KEY=VALUE ...` pairs, or the legacy `KEY VALUE` form (ENV and LABEL). */
function keyValuePairs(
  instruction: Instruction,
  variables: Variables,
  escape: string,
): Array<[string, string]> {
  const words = expandWords(instruction.rest, variables, escape);
  if (words[0]?.includes('=')) {
    return words.map((word) => {
      const equals = word.indexOf('=');
      if (equals <= 0) {
        throw invalid(
          instruction,
          `expects NAME=VALUE pairs, got ${JSON.stringify(word)}`,
          'quote values with spaces: NAME="a b"',
        );
      }
      return [word.slice(0, equals), word.slice(equals + 1)];
    });
  }
  const match = /^(\S+)\s+([\s\S]+)$/.exec(instruction.rest);
  if (!match) throw invalid(instruction, `needs a value: ${instruction.keyword} NAME=VALUE`);
  return [
    [
      expandWord(match[1] as string, variables, escape),
      expandWord(match[2] as string, variables, escape).trim(),
    ],
  ];
}

function commandForm(instruction: Instruction, state: StageState): string[] {
  return instruction.json ?? [...state.shell, instruction.rest];
}

/** Parses EXPOSE values (80, 80/tcp, 53/udp, 8000-8002) into ExposedPorts keys. */
export function exposedPorts(instruction: Instruction, words: readonly string[]): string[] {
  const ports: string[] = [];
  for (const word of words) {
    const match = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(word);
    const first = Number(match?.[1]);
    const last = match?.[2] === undefined ? first : Number(match[2]);
    if (!match || first < 1 || last > 65535 || last < first) {
      throw invalid(
        instruction,
        `has an invalid port ${JSON.stringify(word)}`,
        'give PORT, PORT/PROTOCOL or FIRST-LAST, with protocol tcp, udp or sctp',
      );
    }
    const protocol = (match[3] ?? 'tcp').toLowerCase();
    for (let port = first; port <= last; port += 1) ports.push(`${port}/${protocol}`);
  }
  return ports;
}

/**
 * Applies a metadata instruction to `state`. Returns its history text (`created_by`), with
 * variables substituted where docker substitutes them.
 */
export function applyMetadata(instruction: Instruction, state: StageState, context: MetadataContext): string {
  const variables = substitutionVariables(state);
  const { escape } = context;
  const config = state.config;
  switch (instruction.keyword) {
    case 'ENV': {
      const pairs = keyValuePairs(instruction, variables, escape);
      const env = [...(config.Env ?? [])];
      for (const [name, value] of pairs) {
        const index = env.findIndex((entry) => envName(entry) === name);
        if (index >= 0) env[index] = `${name}=${value}`;
        else env.push(`${name}=${value}`);
      }
      config.Env = env;
      return `ENV ${pairs.map(([name, value]) => `${name}=${value}`).join(' ')}`;
    }
    case 'LABEL': {
      const pairs = keyValuePairs(instruction, variables, escape);
      config.Labels = { ...(config.Labels ?? {}) };
      for (const [name, value] of pairs) config.Labels[name] = value;
      return `LABEL ${pairs.map(([name, value]) => `${name}=${value}`).join(' ')}`;
    }
    case 'ARG': {
      const declared: string[] = [];
      for (const word of expandWords(instruction.rest, variables, escape)) {
        const equals = word.indexOf('=');
        const name = equals < 0 ? word : word.slice(0, equals);
        if (!NAME.test(name)) throw invalid(instruction, `has an invalid name ${JSON.stringify(name)}`);
        const fallback = equals < 0 ? (state.globalArgs.get(name) ?? undefined) : word.slice(equals + 1);
        const given = context.buildArgs.get(name);
        if (given !== undefined) context.usedBuildArgs.add(name);
        state.args.set(name, given ?? fallback);
        declared.push(equals < 0 ? name : `${name}=${word.slice(equals + 1)}`);
      }
      return `ARG ${declared.join(' ')}`;
    }
    case 'WORKDIR': {
      const value = expandWord(instruction.rest, variables, escape).trim();
      if (value === '') throw invalid(instruction, 'needs a directory');
      config.WorkingDir = path.posix.resolve(config.WorkingDir || '/', value);
      return `WORKDIR ${config.WorkingDir}`;
    }
    case 'USER': {
      const value = expandWord(instruction.rest, variables, escape).trim();
      if (value === '' || /\s/.test(value))
        throw invalid(instruction, `needs one user[:group], got ${JSON.stringify(value)}`);
      config.User = value;
      return `USER ${value}`;
    }
    case 'EXPOSE': {
      const ports = exposedPorts(instruction, expandWords(instruction.rest, variables, escape));
      config.ExposedPorts = { ...(config.ExposedPorts ?? {}) };
      for (const port of ports) config.ExposedPorts[port] = {};
      return `EXPOSE ${ports.join(' ')}`;
    }
    case 'CMD': {
      config.Cmd = commandForm(instruction, state);
      state.cmdSetHere = true;
      return `CMD ${JSON.stringify(config.Cmd)}`;
    }
    case 'ENTRYPOINT': {
      config.Entrypoint = commandForm(instruction, state);
      // docker: an ENTRYPOINT resets the CMD the base image had (a CMD of this build stays).
      if (!state.cmdSetHere) delete config.Cmd;
      return `ENTRYPOINT ${JSON.stringify(config.Entrypoint)}`;
    }
    case 'VOLUME': {
      const volumes = instruction.json ?? expandWords(instruction.rest, variables, escape);
      config.Volumes = { ...(config.Volumes ?? {}) };
      for (const volume of volumes) {
        if (volume.trim() === '') throw invalid(instruction, 'has an empty path');
        config.Volumes[volume] = {};
      }
      return `VOLUME ${JSON.stringify(volumes)}`;
    }
    case 'STOPSIGNAL': {
      const value = expandWord(instruction.rest, variables, escape).trim();
      if (!/^(SIG)?[A-Z0-9+-]+$|^\d+$/i.test(value))
        throw invalid(instruction, `has an invalid signal ${JSON.stringify(value)}`);
      config.StopSignal = value;
      return `STOPSIGNAL ${value}`;
    }
    case 'SHELL': {
      if (!instruction.json || instruction.json.length === 0)
        throw invalid(instruction, 'needs a non-empty JSON array');
      state.shell = instruction.json;
      // In the config too, as docker keeps it: a build FROM this image uses the same shell.
      config.Shell = [...state.shell];
      return `SHELL ${JSON.stringify(state.shell)}`;
    }
    case 'HEALTHCHECK': {
      config.Healthcheck = parseHealthcheck(instruction);
      return `HEALTHCHECK ${instruction.original}`;
    }
    case 'ONBUILD': {
      const trigger = onBuildTrigger(instruction);
      // Checked now, so a bad trigger fails this build, not the one that inherits it.
      parseContainerfile(`FROM scratch\n${trigger}`, 'ONBUILD');
      config.OnBuild = [...(config.OnBuild ?? []), trigger];
      return `ONBUILD ${trigger}`;
    }
    case 'MAINTAINER': {
      state.author = instruction.rest;
      return `MAINTAINER ${instruction.rest}`;
    }
    default:
      throw invalid(instruction, 'does not only change the config');
  }
}

/** Whether an instruction changes only the config (no layer, no container). */
export function isMetadataInstruction(instruction: Instruction): boolean {
  return !['FROM', 'RUN', 'COPY', 'ADD'].includes(instruction.keyword);
}
