/** The --health-* flags: Go durations, docker's checks, and docker's merge with the image's HEALTHCHECK. */
import { describe, expect, it } from 'vitest';
import {
  healthCommand,
  healthConfigFromOptions,
  healthTimings,
  mergeHealthConfig,
  parseGoDuration,
} from '../../../source/runtime/containers/health/config.js';

describe('health check settings', () => {
  it('parses durations as Go does', () => {
    expect(parseGoDuration('30s', 'f')).toBe(30e9);
    expect(parseGoDuration('1m30s', 'f')).toBe(90e9);
    expect(parseGoDuration('1.5s', 'f')).toBe(1.5e9);
    expect(parseGoDuration('500ms', 'f')).toBe(500e6);
    expect(parseGoDuration('1h', 'f')).toBe(3600e9);
    expect(parseGoDuration('0', 'f')).toBe(0);
    expect(parseGoDuration('-2s', 'f')).toBe(-2e9);
    expect(() => parseGoDuration('10', '--health-interval')).toThrow(
      'invalid argument "10" for "--health-interval" flag: time: invalid duration',
    );
    expect(() => parseGoDuration('', 'f')).toThrow('invalid duration');
  });

  it('keeps what the user gave over the image, field by field', () => {
    const user = healthConfigFromOptions({ healthInterval: '2s' });
    expect(user).toEqual({ Interval: 2e9, Timeout: 0, StartPeriod: 0, Retries: 0 });
    const image = { Test: ['CMD', '/bin/check'], Interval: 10e9, Retries: 5 };
    expect(mergeHealthConfig(user, image)).toEqual({
      Test: ['CMD', '/bin/check'],
      Interval: 2e9,
      Timeout: undefined,
      StartPeriod: undefined,
      Retries: 5,
    });
    expect(mergeHealthConfig(undefined, image)).toEqual(image);
    expect(mergeHealthConfig(healthConfigFromOptions({ noHealthcheck: true }), image)?.Test).toEqual([
      'NONE',
    ]);
  });

  it('runs CMD as given, CMD-SHELL through the image shell, NONE not at all', () => {
    expect(healthCommand({ Test: ['CMD', 'curl', '-f', 'http://x'] }, undefined)).toEqual([
      'curl',
      '-f',
      'http://x',
    ]);
    expect(healthCommand({ Test: ['CMD-SHELL', 'exit 1'] }, undefined)).toEqual(['/bin/sh', '-c', 'exit 1']);
    expect(healthCommand({ Test: ['CMD-SHELL', 'exit 1'] }, ['/bin/bash', '-ec'])).toEqual([
      '/bin/bash',
      '-ec',
      'exit 1',
    ]);
    expect(healthCommand({ Test: ['NONE'] }, undefined)).toBeUndefined();
    expect(healthCommand(undefined, undefined)).toBeUndefined();
  });

  it("fills docker's defaults: 30 s interval and timeout, 3 retries", () => {
    expect(healthTimings({ Test: ['CMD', 'x'] })).toEqual({
      intervalMs: 30_000,
      timeoutMs: 30_000,
      startPeriodMs: 0,
      retries: 3,
    });
  });
});
