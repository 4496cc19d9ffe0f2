import { describe, expect, it } from 'vitest';
import type { CgroupManager } from '../../../source/runtime/cgroups/types.js';
import {
  execPlanFromSpec,
  planFromSpec,
  sessionKeyringName,
} from '../../../source/runtime/init/from-spec.js';
import { DEFAULT_MOUNTS } from '../../../source/runtime/spec/defaults.js';
import type { OciNamespace, OciSpec } from '../../../source/runtime/spec/types.js';

const base: OciSpec = {
  ociVersion: '1.0.2',
  process: {
    args: ['sh'],
    cwd: '/',
    user: { uid: 1000, gid: 1000, additionalGids: [5] },
    env: ['PATH=/bin'],
    capabilities: { bounding: ['CAP_KILL', 'CAP_CHOWN'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'] },
    // RLIM_INFINITY as JSON.parse reads it from a config.json (2^64 - 1 rounds to 2^64).
    rlimits: [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 2 ** 64 }],
    noNewPrivileges: true,
  },
  root: { path: 'rootfs', readonly: true },
  hostname: 'box',
  mounts: [
    ...DEFAULT_MOUNTS,
    { destination: '/data', source: '/srv/data', type: 'bind', options: ['rbind', 'ro'] },
  ],
  linux: {
    namespaces: [
      { type: 'pid' },
      { type: 'mount' },
      { type: 'uts' },
      { type: 'network' },
      { type: 'ipc', path: '/proc/1/ns/ipc' },
    ],
    maskedPaths: ['/proc/kcore'],
    readonlyPaths: ['/proc/sys'],
  },
};

const v1Cgroup = {
  procsFiles: () => ['/sys/fs/cgroup/memory/g/x/cgroup.procs'],
  oomCounter: () => ({ file: '/sys/fs/cgroup/memory/g/x/memory.oom_control', key: 'oom_kill' }),
  containerMounts: () => [
    { destination: '/sys/fs/cgroup/memory', type: 'cgroup', source: 'cgroup', options: ['memory'] },
    { destination: '/sys/fs/cgroup/unified', type: 'cgroup2', source: 'cgroup2', options: [] },
  ],
} as unknown as CgroupManager;

describe('plan from spec', () => {
  const plan = planFromSpec(base, {
    bundle: '/bundle',
    stateDir: '/state',
    cgroup: v1Cgroup,
    monitor: { fifoPath: 'exec.fifo' },
  });

  it('resolves the root against the bundle and keeps it read-only', () => {
    expect(plan.rootfs).toBe('/bundle/rootfs');
    expect(plan.rootReadonly).toBe(true);
  });

  it('creates new namespaces and joins the ones given by path', () => {
    expect(plan.namespaces).toEqual([
      { type: 'pid' },
      { type: 'mnt' },
      { type: 'uts' },
      { type: 'net' },
      { type: 'ipc', path: '/proc/1/ns/ipc' },
    ]);
    expect(plan.loopback).toBe(true);
    expect(plan.hostname).toBe('box');
  });

  it('turns options into flags and expands the cgroup mount into one per hierarchy', () => {
    const proc = plan.mounts.find((m) => m.destination === '/proc')!;
    expect(proc.flags).toBe(0x2 | 0x4 | 0x8);
    const bind = plan.mounts.find((m) => m.destination === '/data')!;
    expect(bind).toMatchObject({ type: 'bind', source: '/srv/data', flags: 0x1000 | 0x4000 | 0x1 });
    const cgroupMounts = plan.mounts.filter((m) => m.destination.startsWith('/sys/fs/cgroup'));
    expect(cgroupMounts.map((m) => [m.destination, m.type, m.data])).toEqual([
      ['/sys/fs/cgroup', 'tmpfs', 'mode=755'],
      ['/sys/fs/cgroup/memory', 'cgroup', 'memory'],
      ['/sys/fs/cgroup/unified', 'cgroup2', ''],
      ['/sys/fs/cgroup', 'remount', ''],
    ]);
    const devpts = plan.mounts.find((m) => m.destination === '/dev/pts')!;
    expect(devpts.data).toBe('newinstance,ptmxmode=0666,mode=0620,gid=5');
  });

  it('adds the standard devices and /dev links when /dev is a tmpfs', () => {
    expect(plan.devices.map((d) => d.path)).toEqual([
      '/dev/null',
      '/dev/zero',
      '/dev/full',
      '/dev/random',
      '/dev/urandom',
      '/dev/tty',
    ]);
    expect(plan.symlinks).toContainEqual({ target: 'pts/ptmx', path: '/dev/ptmx' });
  });

  it('creates no device node or link in a /dev that is a bind mount (a volume others may share)', () => {
    const bound = planFromSpec(
      {
        ...base,
        mounts: [
          ...DEFAULT_MOUNTS,
          { destination: '/dev/', source: '/srv/shared', type: 'bind', options: ['rbind'] },
        ],
        linux: { ...base.linux, devices: [{ type: 'c', path: '/dev/fuse', major: 10, minor: 229 }] },
      },
      { bundle: '/b', stateDir: '/s', monitor: {} },
    );
    expect(bound.devices).toEqual([]);
    expect(bound.symlinks).toEqual([]);
  });

  it('maps capabilities to masks and unlimited rlimits to infinity', () => {
    expect(plan.process.capabilities).toEqual({
      bounding: (1n << 5n) | 1n,
      effective: 1n << 5n,
      permitted: 1n << 5n,
      inheritable: 0n,
      ambient: 0n,
    });
    expect(plan.process.rlimits).toEqual([{ resource: 7, soft: 1024, hard: undefined }]);
    expect(plan.process).toMatchObject({ uid: 1000, gid: 1000, additionalGids: [5], noNewPrivileges: true });
  });

  it('puts the container in its cgroup and reads OOM kills from it', () => {
    expect(plan.cgroupProcs).toEqual(['/sys/fs/cgroup/memory/g/x/cgroup.procs']);
    expect(plan.oomCounter).toEqual({
      file: '/sys/fs/cgroup/memory/g/x/memory.oom_control',
      key: 'oom_kill',
    });
    expect(plan.fifoPath).toBe('exec.fifo');
  });

  it('binds the host /sys when the container shares the host network namespace', () => {
    const host = planFromSpec(
      { ...base, linux: { ...base.linux, namespaces: [{ type: 'mount' }] } },
      { bundle: '/b', stateDir: '/s', monitor: {} },
    );
    expect(host.mounts.find((m) => m.destination === '/sys')).toMatchObject({ type: 'bind', source: '/sys' });
    expect(host.loopback).toBe(false);
    expect(host.hostname).toBeUndefined();
  });

  it("mounts cgroup2 in a network namespace of its own, and binds the container's cgroup without one", () => {
    const v2Cgroup = {
      procsFiles: () => ['/sys/fs/cgroup/g/x/cgroup.procs'],
      oomCounter: () => ({ file: '/sys/fs/cgroup/g/x/memory.events', key: 'oom_kill' }),
      containerMounts: () => [
        { destination: '/sys/fs/cgroup', type: 'cgroup2', source: 'cgroup2', options: [] },
      ],
    } as unknown as CgroupManager;
    const cgroupMount = (spec: OciSpec) =>
      planFromSpec(spec, { bundle: '/b', stateDir: '/s', monitor: {}, cgroup: v2Cgroup }).mounts.filter((m) =>
        m.destination.startsWith('/sys/fs/cgroup'),
      );
    expect(cgroupMount(base)).toMatchObject([
      { destination: '/sys/fs/cgroup', type: 'cgroup2', source: 'cgroup' },
    ]);
    // The host's /sys (bound in) already has the host's cgroup2 tree at /sys/fs/cgroup.
    const shared = cgroupMount({ ...base, linux: { ...base.linux, namespaces: [{ type: 'mount' }] } });
    expect(shared).toMatchObject([
      { destination: '/sys/fs/cgroup', type: 'bind', source: '/sys/fs/cgroup/g/x' },
    ]);
    expect(shared[0]!.flags & 0x1).toBe(0x1); // MS_RDONLY, as the spec's cgroup mount says
  });

  it('in a user namespace binds the host’s device nodes and cgroup directories instead of making them', () => {
    const v1Pair = {
      procsFiles: () => ['/sys/fs/cgroup/memory/g/x/cgroup.procs', '/sys/fs/cgroup/pids/g/x/cgroup.procs'],
      oomCounter: () => undefined,
      containerMounts: () => [
        { destination: '/sys/fs/cgroup/memory', type: 'cgroup', source: 'cgroup', options: ['memory'] },
        { destination: '/sys/fs/cgroup/pids', type: 'cgroup', source: 'cgroup', options: ['pids'] },
      ],
    } as unknown as CgroupManager;
    const spec = (namespaces: OciNamespace[]): OciSpec => ({
      ...base,
      linux: {
        ...base.linux,
        namespaces: [{ type: 'mount' }, ...namespaces],
        uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
        gidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
      },
    });
    const userns = planFromSpec(spec([{ type: 'user' }, { type: 'network' }]), {
      bundle: '/b',
      stateDir: '/s',
      monitor: {},
      cgroup: v1Pair,
    });
    expect(userns.devices.find((d) => d.path === '/dev/null')).toMatchObject({
      type: 'c',
      major: 1,
      minor: 3,
      bindFrom: '/dev/null',
    });
    expect(userns.devices.every((d) => d.bindFrom === d.path)).toBe(true);
    expect(userns.mounts.filter((m) => m.destination.startsWith('/sys/fs/cgroup/'))).toMatchObject([
      { destination: '/sys/fs/cgroup/memory', type: 'bind', source: '/sys/fs/cgroup/memory/g/x' },
      { destination: '/sys/fs/cgroup/pids', type: 'bind', source: '/sys/fs/cgroup/pids/g/x' },
    ]);
    // A new network namespace made with the user namespace is its own: sysfs can be mounted.
    expect(userns.mounts.find((m) => m.destination === '/sys')).toMatchObject({ type: 'sysfs' });
    // A user namespace joined by path: the helper makes the new network namespace inside it (as
    // runc's nsexec does), so that one owns it and sysfs can be mounted too.
    const joined = planFromSpec(spec([{ type: 'user', path: '/proc/9/ns/user' }, { type: 'network' }]), {
      bundle: '/b',
      stateDir: '/s',
      monitor: {},
    });
    expect(joined.mounts.find((m) => m.destination === '/sys')).toMatchObject({ type: 'sysfs' });
    // A network namespace joined by path belongs to whoever made it: /sys is the host's, bound.
    const joinedNet = planFromSpec(spec([{ type: 'user' }, { type: 'network', path: '/proc/9/ns/net' }]), {
      bundle: '/b',
      stateDir: '/s',
      monitor: {},
    });
    expect(joinedNet.mounts.find((m) => m.destination === '/sys')).toMatchObject({
      type: 'bind',
      source: '/sys',
    });
    // Without a user namespace nodes are made, as before.
    const plain = planFromSpec(base, { bundle: '/b', stateDir: '/s', monitor: {} });
    expect(plain.devices.some((d) => d.bindFrom !== undefined)).toBe(false);
  });
});

describe('SELinux labels from spec', () => {
  const label = 'system_u:system_r:container_t:s0:c1,c2';
  const mountLabel = 'system_u:object_r:container_file_t:s0:c1,c2';
  const labelled: OciSpec = {
    ...base,
    process: { ...base.process!, selinuxLabel: label },
    linux: { ...base.linux!, mountLabel },
  };
  const plan = planFromSpec(labelled, {
    bundle: '/bundle',
    stateDir: '/state',
    cgroup: v1Cgroup,
    monitor: {},
  });
  const data = (destination: string) =>
    plan.mounts.filter((m) => m.destination === destination).map((m) => m.data);

  it('gives the process the label, and the masking tmpfs the mount label', () => {
    expect(plan.process.selinuxLabel).toBe(label);
    expect(plan.mountLabel).toBe(mountLabel);
  });

  it('puts context="LABEL" on the filesystems made anew (tmpfs, devpts, shm), as runc', () => {
    expect(data('/dev')).toEqual([`mode=755,size=65536k,context="${mountLabel}"`]);
    expect(data('/dev/pts')[0]).toMatch(
      new RegExp(`^newinstance,.*,context="${mountLabel.replace(/\./g, '\\.')}"$`),
    );
    expect(data('/dev/shm')[0]).toMatch(/,context="system_u:object_r:container_file_t:s0:c1,c2"$/);
    // Its superblock is the ipc namespace's: the helper labels its root instead (setxattr).
    expect(data('/dev/mqueue')).toEqual(['']);
    // The tmpfs that holds the v1 hierarchies, not the hierarchies themselves.
    expect(data('/sys/fs/cgroup')[0]).toBe(`mode=755,context="${mountLabel}"`);
  });

  it('never on proc, sysfs, cgroup or a bind, which the kernel labels itself or takes no options for', () => {
    for (const destination of ['/proc', '/sys', '/sys/fs/cgroup/memory', '/data'])
      for (const value of data(destination)) expect(value, destination).not.toContain('context=');
  });

  it('leaves every mount as it was without a mount label', () => {
    const plain = planFromSpec(base, {
      bundle: '/bundle',
      stateDir: '/state',
      cgroup: v1Cgroup,
      monitor: {},
    });
    expect(plain.mounts.some((m) => m.data.includes('context='))).toBe(false);
    expect(plain.mountLabel).toBeUndefined();
    expect(plain.process.selinuxLabel).toBeUndefined();
  });
});

describe('exec plan from spec', () => {
  const spec: OciSpec = { ...base, process: { ...base.process!, apparmorProfile: 'gantry-test' } };
  const context = {
    namespaces: [{ type: 'mnt' as const, path: '/proc/7/ns/mnt' }],
    cgroupProcs: ['/sys/fs/cgroup/pids/g/x/cgroup.procs'],
    detach: false,
  };

  it('joins the container’s session keyring by name, or keeps the caller’s without one', () => {
    expect(sessionKeyringName('abc')).toBe('_ses.abc');
    expect(execPlanFromSpec(spec, { ...context, sessionKeyring: '_ses.abc' }).sessionKeyring).toBe(
      '_ses.abc',
    );
    expect(execPlanFromSpec(spec, context).sessionKeyring).toBeUndefined();
  });

  it('runs the process under the spec’s AppArmor profile, as the init', () => {
    expect(execPlanFromSpec(spec, context).process.apparmorProfile).toBe('gantry-test');
    expect(execPlanFromSpec(base, context).process.apparmorProfile).toBeUndefined();
  });

  it('runs the process with the spec’s SELinux label, as the init', () => {
    const labelled = { ...base, process: { ...base.process!, selinuxLabel: 'u:r:t:s0:c1,c2' } };
    expect(execPlanFromSpec(labelled, context).process.selinuxLabel).toBe('u:r:t:s0:c1,c2');
    expect(execPlanFromSpec(base, context).process.selinuxLabel).toBeUndefined();
  });
});
