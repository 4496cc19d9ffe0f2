import { describe, expect, it } from 'vitest';
import {
  blkioWeightToIoWeight,
  memorySwapToSwapMax,
  sharesToWeight,
} from '../../../source/runtime/cgroups/convert.js';
import { validateResources } from '../../../source/runtime/cgroups/validate.js';
import {
  expandList,
  formatDeviceRule,
  isUnlimited,
  parseKeyValues,
  parseNestedKeyed,
  parsePressure,
  sumBlkioByOp,
} from '../../../source/runtime/cgroups/values.js';
import { InvalidArgumentError } from '../../../source/runtime/errors.js';

const MiB = 1024 * 1024;

describe('validateResources', () => {
  it('accepts a typical docker run', () => {
    expect(() =>
      validateResources({
        memory: 64 * MiB,
        memorySwap: 128 * MiB,
        cpuShares: 512,
        cpuQuota: 50000,
        pidsLimit: 100,
      }),
    ).not.toThrow();
  });

  it.each([
    [{ memorySwap: 64 * MiB }, /without a memory limit/],
    [{ memory: 64 * MiB, memorySwap: 32 * MiB }, /below the memory limit/],
    [{ memory: 32 * MiB, memoryReservation: 64 * MiB }, /above the memory limit/],
    [{ memory: -5 }, /negative/],
    [{ cpuShares: 1 }, /out of range/],
    [{ cpuQuota: 10 }, /out of range/],
    [{ cpuPeriod: 10 }, /out of range/],
    [{ cpusetCpus: '3-1' }, /backwards/],
    [{ cpusetMems: 'x' }, /not a list/],
    [{ blkioWeight: 5 }, /out of range/],
    [{ pidsLimit: -3 }, /negative/],
    [{ pidsLimit: 5_000_000 }, /above the kernel's maximum of 4194304/],
    [{ memorySwappiness: 101 }, /memory swappiness 101 is out of range/],
    [{ devices: [{ allow: true, type: 'c' as const, major: 1, minor: 3, access: 'rwx' }] }, /access/],
    [{ netPrioIfpriomap: { 'bad name': 1 } }, /interface/],
    [{ hugepageLimits: { '2M': 1 } }, /hugepage size/],
    [{ memory: 1.5 }, /whole number/],
  ])('refuses %j', (resources, pattern) => {
    expect(() => validateResources(resources)).toThrow(InvalidArgumentError);
    expect(() => validateResources(resources)).toThrow(pattern);
  });

  it('lets update name --memory-swap alone', () => {
    expect(() => validateResources({ memorySwap: 64 * MiB }, { update: true })).not.toThrow();
  });
});

describe('conversions', () => {
  it('converts shares to weight with the standard formula', () => {
    expect(sharesToWeight(2)).toBe(1);
    expect(sharesToWeight(1024)).toBe(39);
    expect(sharesToWeight(262144)).toBe(10000);
    expect(sharesToWeight(512)).toBe(1 + Math.floor((510 * 9999) / 262142));
    expect(sharesToWeight(0)).toBe(0);
  });

  it('converts blkio weight to io weight', () => {
    expect(blkioWeightToIoWeight(10)).toBe(1);
    expect(blkioWeightToIoWeight(1000)).toBe(10000);
    expect(blkioWeightToIoWeight(500)).toBe(1 + Math.floor((490 * 9999) / 990));
  });

  it('turns docker memory-swap into swap.max', () => {
    expect(memorySwapToSwapMax(128 * MiB, 64 * MiB)).toBe(64 * MiB);
    expect(memorySwapToSwapMax(-1, 64 * MiB)).toBe(-1);
    expect(memorySwapToSwapMax(undefined, -1)).toBe(-1);
    expect(memorySwapToSwapMax(undefined, 64 * MiB)).toBeUndefined();
    expect(() => memorySwapToSwapMax(64 * MiB, undefined)).toThrow(/needs a memory limit/);
    expect(() => memorySwapToSwapMax(32 * MiB, 64 * MiB)).toThrow(/below the memory limit/);
  });
});

describe('values', () => {
  it('parses the kernel formats', () => {
    expect(parseKeyValues('oom_kill_disable 0\nunder_oom 0\noom_kill 3\n').get('oom_kill')).toBe(3);
    expect(parseNestedKeyed('8:0 rbytes=10 wbytes=20\n').get('8:0')?.get('wbytes')).toBe('20');
    expect(
      parsePressure(
        'some avg10=1.50 avg60=0.00 avg300=0.00 total=42\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=7\n',
      ),
    ).toEqual({
      some: { avg10: 1.5, avg60: 0, avg300: 0, total: 42 },
      full: { avg10: 0, avg60: 0, avg300: 0, total: 7 },
    });
    expect(sumBlkioByOp('8:0 Read 100\n8:0 Write 50\n8:0 Total 150\n8:16 Read 1\nTotal 151\n')).toEqual({
      read: 101,
      write: 50,
    });
    expect(isUnlimited(9223372036854771712)).toBe(true);
    expect(isUnlimited(1 << 30)).toBe(false);
    expect(formatDeviceRule({ allow: true, type: 'c', major: 136, minor: -1, access: 'rwm' })).toBe(
      'c 136:* rwm',
    );
    expect(expandList('0-2,5')).toEqual([0, 1, 2, 5]);
  });
});
