import { describe, expect, it } from 'vitest';
import {
  defaultDeviceRules,
  formatList,
  parseBlkioWeight,
  parseBytes,
  parseCpuList,
  parseCpus,
  parseCpuset,
  parseCpuShares,
  parseDeviceCgroupRule,
  parseDeviceMapping,
  parseDeviceThrottleBps,
  parseDeviceThrottleIops,
  parseDeviceWeight,
  parseMemoryLimit,
  parseMemorySwap,
  parseNetClassid,
  parseNetPrio,
  parsePidsLimit,
  splitDeviceNumber,
  type DeviceStat,
} from '../../../source/runtime/cgroups/parse.js';
import { InvalidArgumentError, NotFoundError } from '../../../source/runtime/errors.js';

/** Message and hint together: what the CLI prints for a refused flag. */
function refusal(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidArgumentError);
    return `${(error as InvalidArgumentError).message} | ${(error as InvalidArgumentError).hint ?? ''}`;
  }
  throw new Error('expected a refusal');
}

function fakeStat(kind: 'block' | 'char' | 'file', major: number, minor: number): DeviceStat {
  const rdev = BigInt(((major & 0xfff) << 8) | (minor & 0xff) | ((minor & ~0xff) << 12));
  return (file) => {
    if (file === '/dev/missing') throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    return {
      isBlockDevice: () => kind === 'block',
      isCharacterDevice: () => kind === 'char',
      rdev,
      mode: BigInt(0o20666),
      uid: 0n,
      gid: 5n,
    };
  };
}

/** The hint of the error `run` throws (the range of a value is said there, once). */
function hintOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return (error as { hint?: string }).hint;
  }
  throw new Error('expected an error');
}

describe('parseBytes (docker RAMInBytes)', () => {
  it.each([
    ['32m', 32 * 1024 ** 2],
    ['1g', 1024 ** 3],
    ['512k', 512 * 1024],
    ['1024', 1024],
    ['1.5g', 1.5 * 1024 ** 3],
    ['64MiB', 64 * 1024 ** 2],
    ['64MB', 64 * 1024 ** 2],
    ['10b', 10],
    ['2 m', 2 * 1024 ** 2],
    ['1.5k', 1536],
    ['0.3k', 307],
  ])('%s -> %d', (text, bytes) => {
    expect(parseBytes(text)).toBe(bytes);
  });

  it.each(['', 'm', '32x', '-1', '1.2.3m', '32mbb', 'ki'])('refuses %j and says what is accepted', (text) => {
    try {
      parseBytes(text, '--memory');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as InvalidArgumentError).message).toContain('--memory');
      expect((error as InvalidArgumentError).hint).toMatch(/k, m, g/);
    }
  });

  it('knows docker minimum memory and -1', () => {
    expect(parseMemoryLimit('-1')).toBe(-1);
    expect(() => parseMemoryLimit('4m')).toThrow(/minimum of 6m/);
    expect(parseMemorySwap('-1')).toBe(-1);
    expect(parseMemorySwap('1g')).toBe(1024 ** 3);
  });
});

describe('cpu flags', () => {
  it('turns --cpus into quota and period', () => {
    expect(parseCpus('0.5')).toEqual({ cpuQuota: 50000, cpuPeriod: 100000 });
    expect(parseCpus('2')).toEqual({ cpuQuota: 200000, cpuPeriod: 100000 });
    expect(parseCpus('0.01')).toEqual({ cpuQuota: 1000, cpuPeriod: 100000 });
    expect(() => parseCpus('0')).toThrow(InvalidArgumentError);
    expect(refusal(() => parseCpus('abc'))).toMatch(/positive number/);
    expect(() => parseCpus('4', 2)).toThrow(/only|more than the 2 CPUs/);
    expect(() => parseCpus('0.001')).toThrow(/too small/);
  });

  it('checks shares', () => {
    expect(parseCpuShares('512')).toBe(512);
    expect(hintOf(() => parseCpuShares('1'))).toMatch(/2 to 262144/);
    expect(() => parseCpuShares('x')).toThrow(/whole number/);
  });

  it('validates cpuset lists', () => {
    expect(parseCpuList('0-2,4')).toEqual([0, 1, 2, 4]);
    expect(parseCpuset('0-2,4')).toBe('0-2,4');
    expect(() => parseCpuList('2-0')).toThrow(/backwards/);
    expect(() => parseCpuList('0,,1')).toThrow(/not a number or range/);
    expect(() => parseCpuList('a')).toThrow(InvalidArgumentError);
    expect(() => parseCpuset('0-3', '--cpuset-cpus', [0, 1])).toThrow(/no CPU 2, 3/);
    expect(formatList([0, 1, 2, 4, 6, 7])).toBe('0-2,4,6-7');
  });
});

describe('device flags', () => {
  it('splits dev_t like glibc', () => {
    expect(splitDeviceNumber(0xfe00)).toEqual({ major: 254, minor: 0 });
    expect(splitDeviceNumber(259 * 256 + 3)).toEqual({ major: 259, minor: 3 });
    expect(splitDeviceNumber(0x100000 + 0x0803)).toEqual({ major: 8, minor: 0x103 });
  });

  it('parses throttles of block devices', () => {
    const stat = fakeStat('block', 8, 0);
    expect(parseDeviceThrottleBps('/dev/sda:1mb', '--device-write-bps', stat)).toEqual({
      path: '/dev/sda',
      major: 8,
      minor: 0,
      rate: 1024 * 1024,
    });
    expect(parseDeviceThrottleIops('/dev/sda:1000', '--device-read-iops', stat).rate).toBe(1000);
    expect(() => parseDeviceThrottleIops('/dev/sda:1k', '--device-read-iops', stat)).toThrow(/whole number/);
    expect(() =>
      parseDeviceThrottleBps('/dev/null:1mb', '--device-write-bps', fakeStat('char', 1, 3)),
    ).toThrow(/not a block device/);
    expect(() => parseDeviceThrottleBps('/dev/missing:1mb', '--device-write-bps', stat)).toThrow(
      NotFoundError,
    );
    expect(() => parseDeviceThrottleBps('sda:1mb', '--device-write-bps', stat)).toThrow(/absolute/);
    expect(() => parseDeviceThrottleBps('/dev/sda', '--device-write-bps', stat)).toThrow(/DEVICE:VALUE/);
    expect(parseDeviceWeight('/dev/sda:200', stat)).toMatchObject({ major: 8, minor: 0, weight: 200 });
    expect(hintOf(() => parseDeviceWeight('/dev/sda:5', stat))).toMatch(/10 to 1000/);
  });

  it('stats the real device node by default', () => {
    expect(parseDeviceMapping('/dev/null')).toMatchObject({ type: 'c', major: 1, minor: 3 });
    expect(refusal(() => parseDeviceThrottleBps('/dev/null:1m', '--device-read-bps'))).toMatch(
      /not a block device/,
    );
  });

  it('parses --device like docker', () => {
    const stat = fakeStat('char', 10, 229);
    expect(parseDeviceMapping('/dev/fuse', stat)).toMatchObject({
      hostPath: '/dev/fuse',
      containerPath: '/dev/fuse',
      type: 'c',
      permissions: 'rwm',
      fileMode: 0o666,
      gid: 5,
      rule: { allow: true, type: 'c', major: 10, minor: 229, access: 'rwm' },
    });
    expect(parseDeviceMapping('/dev/fuse:r', stat)).toMatchObject({
      containerPath: '/dev/fuse',
      permissions: 'r',
    });
    expect(parseDeviceMapping('/dev/fuse:/dev/myfuse', stat)).toMatchObject({ containerPath: '/dev/myfuse' });
    expect(parseDeviceMapping('/dev/fuse:/dev/x:mw', stat).rule.access).toBe('mw');
    expect(() => parseDeviceMapping('/dev/fuse:/dev/x:rx', stat)).toThrow(/r, w and m/);
    expect(refusal(() => parseDeviceMapping('fuse', stat))).toMatch(/HOST\[:CONTAINER\]/);
    expect(() => parseDeviceMapping('/etc/passwd', fakeStat('file', 0, 0))).toThrow(/not a device node/);
  });

  it('parses --device-cgroup-rule', () => {
    expect(parseDeviceCgroupRule('c 1:3 mr')).toEqual({
      allow: true,
      type: 'c',
      major: 1,
      minor: 3,
      access: 'mr',
    });
    expect(parseDeviceCgroupRule('b *:* m')).toEqual({
      allow: true,
      type: 'b',
      major: -1,
      minor: -1,
      access: 'm',
    });
    expect(parseDeviceCgroupRule('a')).toMatchObject({ type: 'a' });
    for (const bad of ['c 1:3', 'x 1:3 r', 'c 1:3 rr', 'c a:3 r', 'c 1:3 rwx']) {
      expect(() => parseDeviceCgroupRule(bad)).toThrow(InvalidArgumentError);
    }
  });

  it('gives runc/docker default rules: deny all first, then the standard devices', () => {
    const rules = defaultDeviceRules();
    expect(rules[0]).toEqual({ allow: false, type: 'a', major: -1, minor: -1, access: 'rwm' });
    const allowed = rules.slice(1).map((r) => `${r.type} ${r.major}:${r.minor} ${r.access}`);
    expect(allowed).toEqual([
      'c -1:-1 m',
      'b -1:-1 m',
      'c 1:3 rwm',
      'c 1:8 rwm',
      'c 1:7 rwm',
      'c 5:0 rwm',
      'c 1:5 rwm',
      'c 1:9 rwm',
      'c 136:-1 rwm',
      'c 5:2 rwm',
      'c 10:200 rwm',
    ]);
    expect(rules.slice(1).every((r) => r.allow)).toBe(true);
  });
});

describe('other flags', () => {
  it('parses --net-prio, --net-cls-classid, --blkio-weight, --pids-limit', () => {
    expect(parseNetPrio('eth0=5')).toEqual(['eth0', 5]);
    expect(() => parseNetPrio('eth0')).toThrow(/INTERFACE=PRIORITY/);
    expect(() => parseNetPrio('averyveryverylongname=1')).toThrow(InvalidArgumentError);
    expect(parseNetClassid('0x100001')).toBe(0x100001);
    expect(parseNetClassid('17')).toBe(17);
    expect(() => parseNetClassid('0x1000000001')).toThrow(/class id/);
    expect(parseBlkioWeight('10')).toBe(10);
    expect(parseBlkioWeight('0')).toBe(0);
    expect(hintOf(() => parseBlkioWeight('1001'))).toMatch(/10 to 1000/);
    expect(parsePidsLimit('100')).toBe(100);
    expect(parsePidsLimit('0')).toBe(-1);
    expect(parsePidsLimit('-1')).toBe(-1);
    expect(() => parsePidsLimit('-2')).toThrow(/negative/);
  });
});
