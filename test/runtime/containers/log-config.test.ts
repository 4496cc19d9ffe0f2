/** --log-driver / --log-opt: what is taken, the defaults filled in, and the monitor's settings. */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_LOG_CONFIG,
  logRotation,
  parseLogConfig,
} from '../../../source/runtime/containers/log-config.js';

describe('log settings', () => {
  it('caps by default as docker local does: 20 MB x 5 files', () => {
    expect(parseLogConfig(undefined)).toEqual({
      Type: 'k8s-file',
      Config: { 'max-size': '20m', 'max-file': '5' },
    });
    expect(logRotation(DEFAULT_LOG_CONFIG)).toEqual({ size: 20 * 1024 * 1024, files: 5 });
  });

  it('takes repeated and comma-separated options and docker driver names', () => {
    const config = parseLogConfig('json-file', ['max-size=1m,max-file=2']);
    expect(config).toEqual({ Type: 'k8s-file', Config: { 'max-size': '1m', 'max-file': '2' } });
    expect(logRotation(config)).toEqual({ size: 1024 * 1024, files: 2 });
    expect(parseLogConfig('local', ['max-size=10k', 'max-file=1']).Config).toEqual({
      'max-size': '10k',
      'max-file': '1',
    });
  });

  it('lifts the cap with max-size=-1 (one file, never rotated)', () => {
    expect(logRotation(parseLogConfig(undefined, ['max-size=-1']))).toEqual({ size: 0, files: 1 });
  });

  it('keeps no log with the none driver', () => {
    expect(logRotation(parseLogConfig('none'))).toBeUndefined();
    expect(() => parseLogConfig('none', ['max-size=1m'])).toThrow(/takes no options/);
  });

  it('refuses what it cannot do, saying what it takes', () => {
    expect(() => parseLogConfig('syslog')).toThrow(/log driver "syslog" is not supported/);
    expect(() => parseLogConfig(undefined, ['max-size=4k'])).toThrow(/below the minimum of 8k/);
    expect(() => parseLogConfig(undefined, ['max-size=lots'])).toThrow(/invalid size/);
    expect(() => parseLogConfig(undefined, ['max-file=0'])).toThrow(/from 1 to 100/);
    expect(() => parseLogConfig(undefined, ['compress=true'])).toThrow(/unknown log option "compress"/);
    expect(() => parseLogConfig(undefined, ['max-size'])).toThrow(/expected KEY=VALUE/);
  });
});
