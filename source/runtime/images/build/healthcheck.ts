/**
 * HEALTHCHECK and ONBUILD of a Containerfile, as docker's builder writes them into the image
 * config: `Healthcheck` with `Test` (["CMD", ...], ["CMD-SHELL", "..."] or ["NONE"]) and the
 * durations in nanoseconds (absent when not given, so the runtime's defaults apply), `OnBuild` as
 * the trigger lines. The runtime side of health checks reads the same shape.
 */
import { InvalidArgumentError } from '../../errors.js';
import type { ImageHealthcheck } from '../types.js';
import type { Instruction } from './containerfile.js';

const UNITS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  μs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** Go's time.ParseDuration ("1m30s", "500ms", "1.5h"), in nanoseconds; undefined if malformed. */
export function parseGoDuration(text: string): number | undefined {
  if (text === '0') return 0;
  const match = /^([+-]?)((?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+)$/.exec(text);
  if (!match) return undefined;
  let total = 0;
  for (const part of (match[2] as string).matchAll(/(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) {
    total += Number(part[1]) * (UNITS[part[2] as string] as number);
  }
  return Math.round(match[1] === '-' ? -total : total);
}

/** docker's lower bound for the health check durations it accepts (other than 0). */
const MINIMUM_DURATION = 1e6;

function duration(instruction: Instruction, name: string): number | undefined {
  const value = instruction.flags.get(name);
  if (value === undefined) return undefined;
  const nanoseconds = parseGoDuration(value);
  if (nanoseconds === undefined) {
    throw new InvalidArgumentError(`HEALTHCHECK --${name}=${value}: not a duration`, {
      hint: 'give a number with a unit: 30s, 1m30s, 500ms, 1h',
    });
  }
  if (nanoseconds !== 0 && nanoseconds < MINIMUM_DURATION) {
    throw new InvalidArgumentError(`HEALTHCHECK --${name}=${value}: cannot be less than 1ms`);
  }
  return nanoseconds === 0 ? undefined : nanoseconds;
}

/** The image config's Healthcheck for a HEALTHCHECK instruction. */
export function parseHealthcheck(instruction: Instruction): ImageHealthcheck {
  const match = /^(\S+)\s*([\s\S]*)$/.exec(instruction.rest);
  const kind = (match?.[1] ?? '').toUpperCase();
  const command = (match?.[2] ?? '').trim();
  if (kind === 'NONE') {
    if (command !== '' || instruction.flags.size > 0) {
      throw new InvalidArgumentError('HEALTHCHECK NONE takes no arguments and no flags');
    }
    return { Test: ['NONE'] };
  }
  if (kind !== 'CMD') {
    throw new InvalidArgumentError(
      `HEALTHCHECK expects CMD or NONE, got ${JSON.stringify(match?.[1] ?? '')}`,
      {
        hint: 'HEALTHCHECK [--interval=30s --timeout=30s --start-period=0s --retries=3] CMD command',
      },
    );
  }
  if (command === '') throw new InvalidArgumentError('HEALTHCHECK CMD needs a command');
  let test: string[];
  const json = command.startsWith('[') ? parseJson(command) : undefined;
  if (json) {
    if (json.length === 0) throw new InvalidArgumentError('HEALTHCHECK CMD [] needs a command');
    test = ['CMD', ...json];
  } else {
    test = ['CMD-SHELL', command];
  }
  const healthcheck: ImageHealthcheck = { Test: test };
  const interval = duration(instruction, 'interval');
  const timeout = duration(instruction, 'timeout');
  const startPeriod = duration(instruction, 'start-period');
  const startInterval = duration(instruction, 'start-interval');
  if (interval !== undefined) healthcheck.Interval = interval;
  if (timeout !== undefined) healthcheck.Timeout = timeout;
  if (startPeriod !== undefined) healthcheck.StartPeriod = startPeriod;
  if (startInterval !== undefined) healthcheck.StartInterval = startInterval;
  const retries = instruction.flags.get('retries');
  if (retries !== undefined) {
    if (!/^\d+$/.test(retries)) {
      throw new InvalidArgumentError(
        `HEALTHCHECK --retries=${retries}: expected a whole number of 0 or more`,
      );
    }
    if (Number(retries) > 0) healthcheck.Retries = Number(retries);
  }
  return healthcheck;
}

function parseJson(text: string): string[] | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value as string[];
  } catch {
    // Not JSON: the shell form, as docker takes it.
  }
  return undefined;
}

/** Instructions ONBUILD cannot hold (docker's rule). */
const NOT_TRIGGERS = new Set(['ONBUILD', 'FROM', 'MAINTAINER']);

/** The trigger an ONBUILD instruction stores: the instruction text, keyword upper-cased. */
export function onBuildTrigger(instruction: Instruction): string {
  const match = /^(\S+)\s*([\s\S]*)$/.exec(instruction.rest);
  const keyword = (match?.[1] ?? '').toUpperCase();
  if (NOT_TRIGGERS.has(keyword)) {
    throw new InvalidArgumentError(`ONBUILD ${keyword} is not allowed`, {
      hint: 'ONBUILD takes any instruction but ONBUILD, FROM and MAINTAINER',
    });
  }
  return `${keyword} ${(match?.[2] ?? '').trim()}`.trim();
}
