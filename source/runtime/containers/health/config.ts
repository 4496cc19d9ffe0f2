/**
 * Health check settings: the --health-* flags checked as docker's CLI and daemon check them, laid
 * over the image's HEALTHCHECK field by field (docker's merge), and the command a check runs.
 */
import { InvalidArgumentError } from '../../errors.js';
import type { HealthConfig } from '../../images/types.js';

export interface HealthOptions {
  /** --health-cmd: run through the shell (CMD-SHELL). */
  healthCmd?: string;
  /** Go durations ("30s", "1m30s", "500ms"), as docker takes them. */
  healthInterval?: string;
  healthTimeout?: string;
  healthStartPeriod?: string;
  healthRetries?: number;
  noHealthcheck?: boolean;
}

/** docker's defaults (daemon/health.go). */
export const HEALTH_DEFAULTS = {
  intervalNs: 30e9,
  timeoutNs: 30e9,
  startPeriodNs: 0,
  retries: 3,
} as const;

const UNITS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration, in nanoseconds. */
export function parseGoDuration(text: string, flag: string): number {
  const fail = () =>
    new InvalidArgumentError(
      `invalid argument ${JSON.stringify(text)} for "${flag}" flag: time: invalid duration`,
      {
        hint: 'give a duration such as 30s, 1m30s, 500ms or 1h (units: ns, us, ms, s, m, h)',
      },
    );
  let rest = text.trim();
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    sign = rest.startsWith('-') ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') throw fail();
  let total = 0;
  const part = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/;
  while (rest !== '') {
    const match = part.exec(rest);
    if (!match) throw fail();
    total += Number(match[1]) * UNITS[match[2]!]!;
    rest = rest.slice(match[0].length);
  }
  return sign * Math.round(total);
}

/** The flags as docker's CLI turns them into a HealthConfig (undefined: none given). */
export function healthConfigFromOptions(options: HealthOptions): HealthConfig | undefined {
  const interval =
    options.healthInterval === undefined ? 0 : parseGoDuration(options.healthInterval, '--health-interval');
  const timeout =
    options.healthTimeout === undefined ? 0 : parseGoDuration(options.healthTimeout, '--health-timeout');
  const startPeriod =
    options.healthStartPeriod === undefined
      ? 0
      : parseGoDuration(options.healthStartPeriod, '--health-start-period');
  const retries = options.healthRetries ?? 0;
  const cmd = options.healthCmd ?? '';
  const any = cmd !== '' || interval !== 0 || timeout !== 0 || startPeriod !== 0 || retries !== 0;
  if (options.noHealthcheck) {
    if (any) {
      throw new InvalidArgumentError('--no-healthcheck conflicts with --health-* options', {
        hint: 'give either --no-healthcheck or the --health-* flags',
      });
    }
    return { Test: ['NONE'] };
  }
  if (!any) return undefined;
  const negative = (value: number, flag: string) => {
    if (value < 0) throw new InvalidArgumentError(`${flag} cannot be negative`);
  };
  negative(interval, '--health-interval');
  negative(timeout, '--health-timeout');
  negative(retries, '--health-retries');
  negative(startPeriod, '--health-start-period');
  if (!Number.isInteger(retries))
    throw new InvalidArgumentError(`invalid --health-retries ${retries}: give a whole number`);
  // The daemon's check: a duration given must be at least a millisecond.
  for (const [value, name] of [
    [interval, 'Interval'],
    [timeout, 'Timeout'],
    [startPeriod, 'StartPeriod'],
  ] as const) {
    if (value !== 0 && value < 1e6)
      throw new InvalidArgumentError(`${name} in Healthcheck cannot be less than 1ms`);
  }
  return {
    ...(cmd !== '' ? { Test: ['CMD-SHELL', cmd] } : {}),
    Interval: interval,
    Timeout: timeout,
    StartPeriod: startPeriod,
    Retries: retries,
  };
}

/** docker's merge: what the user gave wins, field by field, over the image's HEALTHCHECK. */
export function mergeHealthConfig(
  user: HealthConfig | undefined,
  image: HealthConfig | undefined,
): HealthConfig | undefined {
  if (!user) return image ? { ...image } : undefined;
  if (!image) return user;
  return {
    Test: user.Test && user.Test.length > 0 ? user.Test : image.Test,
    Interval: user.Interval || image.Interval,
    Timeout: user.Timeout || image.Timeout,
    StartPeriod: user.StartPeriod || image.StartPeriod,
    Retries: user.Retries || image.Retries,
  };
}

/** What a check runs, or undefined when there is no check (none given, or NONE). */
export function healthCommand(
  config: HealthConfig | undefined,
  shell: readonly string[] | undefined,
): string[] | undefined {
  const test = config?.Test ?? [];
  const [kind, ...rest] = test;
  if (kind === 'CMD' && rest.length > 0) return rest;
  if (kind === 'CMD-SHELL' && rest.length > 0)
    return [...(shell && shell.length > 0 ? shell : ['/bin/sh', '-c']), rest.join(' ')];
  return undefined;
}

/** The settings the monitor applies, in milliseconds (docker's defaults for what is 0). */
export function healthTimings(config: HealthConfig): {
  intervalMs: number;
  timeoutMs: number;
  startPeriodMs: number;
  retries: number;
} {
  const ms = (ns: number | undefined, fallback: number) => Math.max(1, Math.round((ns || fallback) / 1e6));
  return {
    intervalMs: ms(config.Interval, HEALTH_DEFAULTS.intervalNs),
    timeoutMs: ms(config.Timeout, HEALTH_DEFAULTS.timeoutNs),
    startPeriodMs: Math.round((config.StartPeriod ?? 0) / 1e6),
    retries: config.Retries || HEALTH_DEFAULTS.retries,
  };
}
