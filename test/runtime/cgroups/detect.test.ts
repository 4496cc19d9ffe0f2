import fsp from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  detectCgroupLayout,
  detectFromTree,
  hierarchyOf,
  parseMountinfo,
} from '../../../source/runtime/cgroups/detect.js';
import { UnsupportedError } from '../../../source/runtime/errors.js';
import { FakeCgroupFs, tempTree } from './fake-cgroupfs.js';

// This machine's mountinfo: v1 with cpu and cpuacct mounted apart, cgroup2 with nothing in it.
const HYBRID = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw
`;

const COMOUNTED = `25 20 0:21 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct
26 20 0:22 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid - cgroup cgroup rw,net_cls,net_prio
27 20 0:23 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory
28 20 0:23 / /mnt/elsewhere rw,nosuid - cgroup cgroup rw,memory
29 20 0:24 / /sys/fs/cgroup/cpuset rw,nosuid - cgroup cgroup rw,clone_children,cpuset
`;

const UNIFIED = `30 24 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
`;

describe('parseMountinfo', () => {
  it('reads mount point, type and super options, unescaping spaces', () => {
    const [entry] = parseMountinfo(
      '40 31 0:37 / /a\\040b rw,relatime shared:1 master:2 - cgroup cgroup rw,name=systemd\n',
    );
    expect(entry).toEqual({
      root: '/',
      mountPoint: '/a b',
      fsType: 'cgroup',
      superOptions: ['rw', 'name=systemd'],
    });
  });
});

describe('detectCgroupLayout', () => {
  it('uses v1 on a hybrid host whose cgroup2 tree offers no controllers', () => {
    const layout = detectCgroupLayout({ mountinfo: HYBRID });
    expect(layout.kind).toBe('hybrid');
    expect(layout.driver).toBe(1);
    expect(hierarchyOf(layout, 'cpu')?.mountPoint).toBe('/sys/fs/cgroup/cpu');
    expect(hierarchyOf(layout, 'cpuacct')?.mountPoint).toBe('/sys/fs/cgroup/cpuacct');
    expect(hierarchyOf(layout, 'name=systemd')?.controllers).toEqual(['name=systemd']);
    expect(hierarchyOf(layout, 'net_cls')).toBeUndefined();
    expect(layout.unified?.mountPoint).toBe('/sys/fs/cgroup/unified');
  });

  it('maps co-mounted controllers to one hierarchy and ignores a second mount of it', () => {
    const layout = detectCgroupLayout({ mountinfo: COMOUNTED });
    expect(layout.kind).toBe('v1');
    expect(hierarchyOf(layout, 'cpu')).toBe(hierarchyOf(layout, 'cpuacct'));
    expect(hierarchyOf(layout, 'cpu')?.controllers).toEqual(['cpu', 'cpuacct']);
    expect(hierarchyOf(layout, 'net_prio')?.mountPoint).toBe('/sys/fs/cgroup/net_cls,net_prio');
    expect(hierarchyOf(layout, 'cpuset')?.controllers).toEqual(['cpuset']);
    expect(layout.hierarchies.filter((h) => h.controllers.includes('memory'))).toHaveLength(1);
  });

  it('uses v2 on a unified host', () => {
    const layout = detectCgroupLayout({ mountinfo: UNIFIED });
    expect(layout).toMatchObject({ kind: 'v2', driver: 2, hierarchies: [] });
    expect(layout.unified?.mountPoint).toBe('/sys/fs/cgroup');
  });

  it('finds a v1 hierarchy mounted outside the root, where mountinfo says it is', () => {
    const mounted = `${HYBRID}90 27 0:50 / /tmp/t\\040x/net_cls,net_prio rw,relatime - cgroup cgroup rw,net_cls,net_prio
91 27 0:31 / /mnt/memory-again rw,relatime - cgroup cgroup rw,memory
`;
    const layout = detectCgroupLayout({ mountinfo: mounted });
    expect(layout.driver).toBe(1);
    expect(hierarchyOf(layout, 'net_cls')).toEqual({
      mountPoint: '/tmp/t x/net_cls,net_prio',
      controllers: ['net_cls', 'net_prio'],
    });
    expect(hierarchyOf(layout, 'net_prio')).toBe(hierarchyOf(layout, 'net_cls'));
    // A second mount of a hierarchy already found under the root is the same hierarchy.
    expect(hierarchyOf(layout, 'memory')?.mountPoint).toBe('/sys/fs/cgroup/memory');
    // The v2 driver has no use for v1 hierarchies, wherever they are.
    const v2 = detectCgroupLayout({
      mountinfo: `${UNIFIED}90 27 0:50 / /tmp/x/net_cls,net_prio rw,relatime - cgroup cgroup rw,net_cls,net_prio\n`,
    });
    expect(v2).toMatchObject({ kind: 'v2', driver: 2, hierarchies: [] });
  });

  it('only counts mounts under the given root', () => {
    expect(() => detectCgroupLayout({ mountinfo: HYBRID, cgroupRoot: '/elsewhere' })).toThrow(
      UnsupportedError,
    );
  });

  it('reads the real host', () => {
    const layout = detectCgroupLayout();
    expect(['v1', 'v2', 'hybrid']).toContain(layout.kind);
  });
});

describe('detectFromTree', () => {
  const roots: string[] = [];
  afterEach(async () => {
    for (const root of roots.splice(0)) await fsp.rm(root, { recursive: true, force: true });
  });

  it('finds v1 hierarchies and a unified dir in a fake tree', async () => {
    const root = await tempTree('detect');
    roots.push(root);
    await FakeCgroupFs.v1(root, {
      hierarchies: [['cpu', 'cpuacct'], ['memory'], ['name=systemd']],
      unified: true,
    });
    const layout = detectCgroupLayout({ cgroupRoot: root });
    expect(layout.kind).toBe('hybrid');
    expect(layout.driver).toBe(1);
    expect(hierarchyOf(layout, 'cpuacct')?.mountPoint).toBe(path.join(root, 'cpu,cpuacct'));
    expect(hierarchyOf(layout, 'name=systemd')?.mountPoint).toBe(path.join(root, 'systemd'));
  });

  it('finds a v2 tree and its controllers', async () => {
    const root = await tempTree('detect');
    roots.push(root);
    await FakeCgroupFs.v2(root, ['cpu', 'memory']);
    expect(detectFromTree(root)).toEqual({
      kind: 'v2',
      driver: 2,
      hierarchies: [],
      unified: { mountPoint: root, controllers: ['cpu', 'memory'] },
    });
  });
});
