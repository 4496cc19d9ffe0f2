/** checkSupport(): what a host cannot enforce is refused before any container cgroup exists. */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createCgroupManager } from '../../../source/runtime/cgroups/create-manager.js';
import { InvalidArgumentError, UnsupportedError } from '../../../source/runtime/errors.js';
import { FakeCgroupFs, tempTree, type FakeV1Options } from './fake-cgroupfs.js';

const MiB = 1024 * 1024;
const roots: string[] = [];

afterEach(async () => {
  for (const root of roots.splice(0)) await fsp.rm(root, { recursive: true, force: true });
});

async function v1(options: FakeV1Options = { unified: true }) {
  const root = await tempTree('check-v1');
  roots.push(root);
  const fake = await FakeCgroupFs.v1(root, options);
  return {
    fake,
    root,
    manager: createCgroupManager({ cgroupRoot: root, parent: 'gantry', name: 'c1', fs: fake }),
  };
}

async function v2(controllers?: string[]) {
  const root = await tempTree('check-v2');
  roots.push(root);
  const fake = await FakeCgroupFs.v2(root, controllers);
  return {
    fake,
    root,
    manager: createCgroupManager({ cgroupRoot: root, parent: 'gantry', name: 'c1', fs: fake }),
  };
}

async function failure(action: Promise<unknown>): Promise<Error> {
  try {
    await action;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}

/** Directories under the tree's hierarchies other than the roots themselves. */
function cgroupDirs(root: string): string[] {
  const found: string[] = [];
  for (const hierarchy of fs.readdirSync(root)) {
    const dir = path.join(root, hierarchy);
    if (!fs.statSync(dir).isDirectory()) continue;
    for (const entry of fs.readdirSync(dir, { withFileTypes: true }))
      if (entry.isDirectory()) found.push(entry.name);
  }
  return found;
}

describe('checkSupport on cgroup v1', () => {
  it('refuses --memory-high and controllers the host lacks, writing nothing', async () => {
    const { fake, root, manager } = await v1();
    const high = await failure(manager.checkSupport({ memoryHigh: 64 * MiB }));
    expect(high).toBeInstanceOf(UnsupportedError);
    expect(high.message).toBe('--memory-high needs cgroup v2, and this host uses cgroup v1');
    const prio = await failure(manager.checkSupport({ netPrioIfpriomap: { eth0: 1 } }));
    expect(prio).toBeInstanceOf(UnsupportedError);
    expect(prio.message).toMatch(/the host has no net_prio cgroup controller/);
    await expect(
      manager.checkSupport({ memory: 32 * MiB, pidsLimit: 5, cpuShares: 512 }),
    ).resolves.toBeUndefined();
    expect(fake.writes).toEqual([]);
    expect(cgroupDirs(root)).toEqual([]);
  });

  it('runs the validators (the update form allows --memory-swap alone)', async () => {
    const { manager } = await v1();
    expect(await failure(manager.checkSupport({ memorySwap: 64 * MiB }))).toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(manager.checkSupport({ memorySwap: 64 * MiB }, { update: true })).resolves.toBeUndefined();
  });

  it('finds out with a throwaway cgroup whether the kernel enforces --kernel-memory', async () => {
    const enforcing = await v1();
    await expect(enforcing.manager.checkSupport({ kernelMemory: 64 * MiB })).resolves.toBeUndefined();
    expect(enforcing.fake.writesTo(/kmem\.limit_in_bytes$/)).toEqual([String(64 * MiB)]);
    expect(cgroupDirs(enforcing.root)).toEqual([]);

    const ignoring = await v1();
    ignoring.fake.ignore(/kmem\.limit_in_bytes$/);
    const ignored = await failure(ignoring.manager.checkSupport({ kernelMemory: 32 * MiB }));
    expect(ignored).toBeInstanceOf(UnsupportedError);
    expect(ignored.message).toBe(
      'this kernel has no kernel-memory accounting, so --kernel-memory 33554432 cannot be enforced (it accepts memory.kmem.limit_in_bytes but ignores the value)',
    );
    expect(cgroupDirs(ignoring.root)).toEqual([]);

    const lacking = await v1({ unified: true, missing: ['memory.kmem.limit_in_bytes'] });
    expect((await failure(lacking.manager.checkSupport({ kernelMemory: 32 * MiB }))).message).toMatch(
      /memory\.kmem\.limit_in_bytes is missing/,
    );
  });

  it('refuses --blkio-weight up front where no I/O scheduler has weights, probing with a throwaway cgroup', async () => {
    const weighted = await v1();
    await expect(weighted.manager.checkSupport({ blkioWeight: 300 })).resolves.toBeUndefined();
    expect(cgroupDirs(weighted.root)).toEqual([]);

    // Neither CFQ's blkio.weight nor BFQ's blkio.bfq.weight (mq-deadline, kyber or none).
    const unweighted = await v1({ unified: true, missing: ['blkio.weight', 'blkio.weight_device'] });
    for (const resources of [
      { blkioWeight: 300 },
      { blkioWeightDevice: [{ path: '/dev/sda', major: 8, minor: 0, weight: 200 }] },
    ]) {
      const refused = await failure(unweighted.manager.checkSupport(resources));
      expect(refused).toBeInstanceOf(UnsupportedError);
      expect(refused.message).toMatch(/no blkio weight files .* so --blkio-weight cannot be set/);
    }
    // 0 leaves the weight unset, as docker.
    await expect(unweighted.manager.checkSupport({ blkioWeight: 0 })).resolves.toBeUndefined();
    expect(cgroupDirs(unweighted.root)).toEqual([]);
    expect(unweighted.fake.writes).toEqual([]);
  });
});

describe('checkSupport on cgroup v2', () => {
  it('refuses what v2 has no controller for, and controllers the root does not offer', async () => {
    const { fake, root, manager } = await v2(['cpu', 'memory']);
    expect((await failure(manager.checkSupport({ netClsClassid: 1 }))).message).toMatch(
      /no net_cls\/net_prio controller/,
    );
    expect((await failure(manager.checkSupport({ kernelMemory: 32 * MiB }))).message).toMatch(
      /no separate kernel-memory limit/,
    );
    const pids = await failure(manager.checkSupport({ pidsLimit: 10 }));
    expect(pids).toBeInstanceOf(UnsupportedError);
    expect(pids.message).toMatch(/has no pids controller available/);
    await expect(manager.checkSupport({ memoryHigh: 64 * MiB, cpuShares: 512 })).resolves.toBeUndefined();
    expect(fake.writes).toEqual([]);
    expect(fs.existsSync(path.join(root, 'gantry'))).toBe(false);
  });
});
