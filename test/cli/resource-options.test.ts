/** Resource flags as typed on the command line, through the parser, to the Resources stored at create. */
import { describe, expect, it } from 'vitest';
import { parseArgs, type CommandSpec } from '../../source/cli/args.js';
import {
  anyGiven,
  deviceOptionsFrom,
  RESOURCE_OPTIONS,
  resourcesFromOptions,
  UPDATE_RESOURCE_OPTIONS,
  type HostFacts,
} from '../../source/cli/commands/resource-options.js';
import type { DeviceStat } from '../../source/runtime/cgroups/parse.js';
import { defaultDeviceRules } from '../../source/runtime/cgroups/parse.js';
import { containerResources } from '../../source/runtime/containers/create.js';
import { mergeResources } from '../../source/runtime/containers/update.js';
import { InvalidArgumentError, NotFoundError } from '../../source/runtime/errors.js';

const MiB = 1024 * 1024;

/** A host with /dev/sda (8:0, block), /dev/fuse (10:229, char) and a plain file. */
const stat: DeviceStat = (file) => {
  const devices: Record<string, { block: boolean; rdev: number; mode: number }> = {
    '/dev/sda': { block: true, rdev: (8 << 8) | 0, mode: 0o60660 },
    '/dev/fuse': { block: false, rdev: (10 << 8) | 229, mode: 0o20666 },
  };
  const device = devices[file];
  if (!device) {
    if (file === '/etc/passwd') {
      return {
        isBlockDevice: () => false,
        isCharacterDevice: () => false,
        rdev: 0,
        mode: 0o100644,
        uid: 0,
        gid: 0,
      };
    }
    throw Object.assign(new Error(`ENOENT: ${file}`), { code: 'ENOENT' });
  }
  return {
    isBlockDevice: () => device.block,
    isCharacterDevice: () => !device.block,
    rdev: device.rdev,
    mode: device.mode,
    uid: 0,
    gid: 6,
  };
};

const host: HostFacts = { cpus: [0, 1], mems: [0], stat };

const run: CommandSpec = {
  name: 'run',
  usage: 'run [OPTIONS] IMAGE',
  description: 'run',
  stopAtFirstPositional: true,
  options: RESOURCE_OPTIONS,
};
const update: CommandSpec = {
  name: 'update',
  usage: 'update',
  description: 'update',
  options: UPDATE_RESOURCE_OPTIONS,
};

function flags(argv: string[], spec = run) {
  return parseArgs(spec, [...argv, 'image']).options;
}

describe('resource flags to Resources', () => {
  it('reads every limit flag with docker units and names', () => {
    const options = flags([
      '-m',
      '32m',
      '--memory-reservation=16m',
      '--memory-swap',
      '64m',
      '--oom-kill-disable',
      '-c',
      '512',
      '--cpus',
      '0.5',
      '--cpuset-cpus',
      '0-1',
      '--cpuset-mems',
      '0',
      '--blkio-weight',
      '300',
      '--blkio-weight-device',
      '/dev/sda:200',
      '--device-read-bps',
      '/dev/sda:1mb',
      '--device-write-bps',
      '/dev/sda:2mb',
      '--device-read-iops',
      '/dev/sda:100',
      '--device-write-iops',
      '/dev/sda:200',
      '--pids-limit',
      '10',
      '--net-cls-classid',
      '0x100001',
      '--net-prio',
      'eth0=5',
      '--net-prio',
      'lo=1',
    ]);
    expect(resourcesFromOptions(options, { host })).toEqual({
      memory: 32 * MiB,
      memoryReservation: 16 * MiB,
      memorySwap: 64 * MiB,
      oomKillDisable: true,
      cpuShares: 512,
      cpuQuota: 50_000,
      cpuPeriod: 100_000,
      cpusetCpus: '0-1',
      cpusetMems: '0',
      blkioWeight: 300,
      blkioWeightDevice: [{ path: '/dev/sda', major: 8, minor: 0, weight: 200 }],
      blkioDeviceReadBps: [{ path: '/dev/sda', major: 8, minor: 0, rate: MiB }],
      blkioDeviceWriteBps: [{ path: '/dev/sda', major: 8, minor: 0, rate: 2 * MiB }],
      blkioDeviceReadIOps: [{ path: '/dev/sda', major: 8, minor: 0, rate: 100 }],
      blkioDeviceWriteIOps: [{ path: '/dev/sda', major: 8, minor: 0, rate: 200 }],
      pidsLimit: 10,
      netClsClassid: 0x100001,
      netPrioIfpriomap: { eth0: 5, lo: 1 },
    });
  });

  it('gives only what was asked for', () => {
    expect(resourcesFromOptions(flags([]), { host })).toEqual({});
    expect(resourcesFromOptions(flags(['--pids-limit', '-1']), { host })).toEqual({ pidsLimit: -1 });
    expect(resourcesFromOptions(flags(['--memory-swap', '-1', '-m', '1g']), { host })).toEqual({
      memory: 1024 * MiB,
      memorySwap: -1,
    });
    expect(resourcesFromOptions(flags(['--cpu-quota', '25000', '--cpu-period', '50000']), { host })).toEqual({
      cpuQuota: 25_000,
      cpuPeriod: 50_000,
    });
  });

  it('refuses bad values with the flag, the value and what is accepted', () => {
    const refuse = (argv: string[], message: RegExp) => {
      let error: unknown;
      try {
        resourcesFromOptions(flags(argv), { host });
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as Error).message).toMatch(message);
      return error as InvalidArgumentError;
    };
    expect(refuse(['-m', '1m'], /--memory 1m is below the minimum of 6m/).hint).toBe('give at least 6m');
    expect(refuse(['-m', 'lots'], /--memory: invalid size "lots"/).hint).toMatch(/512k, 32m/);
    refuse(['--cpus', '3'], /--cpus 3 is more than the 2 CPUs this host has/);
    refuse(
      ['--cpus', '0.5', '--cpu-quota', '1000'],
      /--cpus cannot be combined with --cpu-quota or --cpu-period/,
    );
    refuse(['--cpuset-cpus', '0,7'], /--cpuset-cpus 0,7: the host has no CPU 7/);
    refuse(['--cpuset-cpus', '3-1'], /runs backwards/);
    expect(refuse(['--cpu-shares', '1'], /^--cpu-shares 1 is out of range$/).hint).toBe(
      'the range is 2 to 262144 (default 1024)',
    );
    expect(refuse(['--blkio-weight', '5'], /^--blkio-weight 5 is out of range$/).hint).toBe(
      'the range is 10 to 1000',
    );
    refuse(['--device-write-bps', '/dev/sda'], /--device-write-bps: "\/dev\/sda" is not DEVICE:VALUE/);
    refuse(['--device-write-bps', '/etc/passwd:1mb'], /\/etc\/passwd is not a block device/);
    refuse(['--device-write-iops', '/dev/sda:fast'], /"fast" is not a whole number of operations per second/);
    refuse(['--pids-limit', '-5'], /--pids-limit -5 is negative/);
    refuse(['--net-prio', 'eth0'], /--net-prio: "eth0" is not INTERFACE=PRIORITY/);
    refuse(['--net-cls-classid', 'class'], /--net-cls-classid: "class" is not a class id/);
    expect(() => resourcesFromOptions(flags(['--device-read-bps', '/dev/nope:1mb']), { host })).toThrow(
      NotFoundError,
    );
  });

  it('keeps the last rate when a device is throttled twice', () => {
    const options = flags(['--device-write-bps', '/dev/sda:1mb', '--device-write-bps', '/dev/sda:3mb']);
    expect(resourcesFromOptions(options, { host }).blkioDeviceWriteBps).toEqual([
      { path: '/dev/sda', major: 8, minor: 0, rate: 3 * MiB },
    ]);
  });

  it('update takes the live limits only, and needs at least one', () => {
    const names = UPDATE_RESOURCE_OPTIONS.map((option) => option.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'memory',
        'memory-swap',
        'memory-reservation',
        'cpus',
        'cpu-shares',
        'pids-limit',
      ]),
    );
    for (const createOnly of [
      'device',
      'device-cgroup-rule',
      'net-prio',
      'net-cls-classid',
      'oom-kill-disable',
    ]) {
      expect(names).not.toContain(createOnly);
    }
    expect(() => parseArgs(update, ['--device', '/dev/fuse', 'c1'])).toThrow(/unknown flag: --device/);
    expect(anyGiven(parseArgs(update, ['c1']).options, UPDATE_RESOURCE_OPTIONS)).toBe(false);
    const options = parseArgs(update, ['-m', '64m', '--memory-swap', '128m', 'c1']).options;
    expect(anyGiven(options, UPDATE_RESOURCE_OPTIONS)).toBe(true);
    expect(resourcesFromOptions(options, { update: true, host })).toEqual({
      memory: 64 * MiB,
      memorySwap: 128 * MiB,
    });
  });

  it('passes --device and --device-cgroup-rule through as given', () => {
    expect(deviceOptionsFrom(flags(['--device', '/dev/fuse', '--device-cgroup-rule', 'c 1:3 r']))).toEqual({
      devices: ['/dev/fuse'],
      deviceCgroupRules: ['c 1:3 r'],
    });
    expect(deviceOptionsFrom(flags([]))).toEqual({});
  });
});

describe('the Resources a container is created with', () => {
  it("starts from docker's device allowlist and doubles --memory for memory+swap", () => {
    const { resources, devices, deviceCgroupRules } = containerResources(
      { resources: { memory: 32 * MiB } },
      stat,
    );
    expect(resources.memorySwap).toBe(64 * MiB);
    expect(resources.devices).toEqual(defaultDeviceRules());
    expect(resources.devices?.[0]).toEqual({ allow: false, type: 'a', major: -1, minor: -1, access: 'rwm' });
    expect(devices).toEqual([]);
    expect(deviceCgroupRules).toEqual([]);
    // An explicit swap value (or -1) is kept.
    expect(
      containerResources({ resources: { memory: 32 * MiB, memorySwap: -1 } }, stat).resources.memorySwap,
    ).toBe(-1);
  });

  it('adds a rule for each --device and --device-cgroup-rule after the defaults', () => {
    const { resources, devices } = containerResources(
      { devices: ['/dev/fuse:/dev/myfuse:rw'], deviceCgroupRules: ['b 8:* r'] },
      stat,
    );
    expect(resources.devices?.slice(-2)).toEqual([
      { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' },
      { allow: true, type: 'b', major: 8, minor: -1, access: 'r' },
    ]);
    expect(devices).toEqual([
      {
        PathOnHost: '/dev/fuse',
        PathInContainer: '/dev/myfuse',
        CgroupPermissions: 'rw',
        Type: 'c',
        Major: 10,
        Minor: 229,
        FileMode: 0o666,
        Uid: 0,
        Gid: 6,
      },
    ]);
  });

  it('allows every device for --privileged', () => {
    expect(containerResources({ privileged: true }, stat).resources.devices).toEqual([
      { allow: true, type: 'a', major: -1, minor: -1, access: 'rwm' },
    ]);
  });

  it('refuses combinations that cannot work, before anything exists', () => {
    expect(() => containerResources({ resources: { memorySwap: 64 * MiB } }, stat)).toThrow(
      /memory\+swap limit 64MiB is set without a memory limit/,
    );
    expect(() => containerResources({ resources: { memory: 64 * MiB, memorySwap: 32 * MiB } }, stat)).toThrow(
      /memory\+swap limit 32MiB is below the memory limit 64MiB/,
    );
    expect(() =>
      containerResources({ resources: { memory: 32 * MiB, memoryReservation: 64 * MiB } }, stat),
    ).toThrow(/memory reservation 64MiB is above the memory limit 32MiB/);
    expect(() => containerResources({ devices: ['/etc/passwd'] }, stat)).toThrow(
      /\/etc\/passwd is not a device node/,
    );
    expect(() => containerResources({ devices: ['/dev/fuse:/dev/x', '/dev/sda:/dev/x'] }, stat)).toThrow(
      /two devices are mapped to \/dev\/x/,
    );
    expect(() => containerResources({ deviceCgroupRules: ['c 1:3 rx'] }, stat)).toThrow(
      /--device-cgroup-rule: "c 1:3 rx" is not a device rule/,
    );
  });
});

describe('update merges a change into the stored limits', () => {
  const sda = { path: '/dev/sda', major: 8, minor: 0 };
  const sdb = { path: '/dev/sdb', major: 8, minor: 16 };

  it('replaces the fields given and keeps the rest', () => {
    expect(
      mergeResources({ memory: 32 * MiB, memorySwap: 64 * MiB, pidsLimit: 10 }, { pidsLimit: 20 }),
    ).toEqual({
      memory: 32 * MiB,
      memorySwap: 64 * MiB,
      pidsLimit: 20,
    });
  });

  it('takes 0 as "unchanged" for memory, CPU and weight values, as docker update does', () => {
    const stored = { memory: 64 * MiB, memoryReservation: 10 * MiB, cpuQuota: 50_000, cpuPeriod: 100_000 };
    expect(
      mergeResources(stored, { memory: 0, memoryReservation: 0, cpuQuota: 0, cpuPeriod: 0, cpuShares: 0 }),
    ).toEqual(stored);
    expect(mergeResources(stored, { memory: -1, memorySwap: -1 })).toMatchObject({
      memory: -1,
      memorySwap: -1,
    });
  });

  it('lifts memory+swap with the memory limit when no swap is given, as the driver does', () => {
    expect(mergeResources({ memory: 32 * MiB, memorySwap: 64 * MiB }, { memory: -1 })).toEqual({
      memory: -1,
      memorySwap: -1,
    });
  });

  it('merges per-device throttles by device; a rate of 0 removes one', () => {
    const stored = {
      blkioDeviceWriteBps: [
        { ...sda, rate: 1 },
        { ...sdb, rate: 2 },
      ],
    };
    expect(
      mergeResources(stored, { blkioDeviceWriteBps: [{ ...sda, rate: 5 }] }).blkioDeviceWriteBps,
    ).toEqual([
      { ...sda, rate: 5 },
      { ...sdb, rate: 2 },
    ]);
    expect(
      mergeResources(stored, { blkioDeviceWriteBps: [{ ...sda, rate: 0 }] }).blkioDeviceWriteBps,
    ).toEqual([{ ...sdb, rate: 2 }]);
    expect(
      mergeResources(
        { blkioDeviceWriteBps: [{ ...sda, rate: 1 }] },
        { blkioDeviceWriteBps: [{ ...sda, rate: 0 }] },
      ),
    ).toEqual({});
  });
});
