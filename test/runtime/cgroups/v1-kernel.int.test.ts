/**
 * The v1 driver against the real kernel: every limit is shown to be enforced on processes this
 * test spawns into a cgroup parent of its own (gantry-test-<random>), removed in afterAll.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createCgroupManager } from '../../../source/runtime/cgroups/create-manager.js';
import {
  detectCgroupLayout,
  parseMountinfo,
  type CgroupLayout,
} from '../../../source/runtime/cgroups/detect.js';
import { defaultDeviceRules } from '../../../source/runtime/cgroups/parse.js';
import type { CgroupManager, Resources } from '../../../source/runtime/cgroups/types.js';
import { InvalidArgumentError } from '../../../source/runtime/errors.js';
import { expectQuotaHolds, favourParent } from '../../support/cpu-quota.js';
import { testName, waitFor } from '../../support/engine.js';
import { describeUnless, firstCause, needsRoot, skipIf } from '../../support/skip.js';

const MiB = 1024 * 1024;
const CGROUP_ROOT = '/sys/fs/cgroup';
const layout: CgroupLayout | undefined = (() => {
  try {
    return detectCgroupLayout();
  } catch {
    return undefined;
  }
})();
const missing = firstCause(
  needsRoot(),
  layout?.driver !== 1 && 'the v1 driver needs the cgroup v1 hierarchies, and this host uses cgroup v2',
);
const runsHere = missing === undefined;
const parent = testName(randomBytes(4).toString('hex'));

const managers: CgroupManager[] = [];
const children = new Map<number, ChildProcess>();
let scratch = '';

function manager(name: string, parentName = parent): CgroupManager {
  const created = createCgroupManager({ parent: parentName, name });
  managers.push(created);
  return created;
}

interface Spawned {
  child: ChildProcess;
  pid: number;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Both pipes have ended, so output() holds everything ('exit' can come before the last read). */
  outputEnded: Promise<unknown>;
}

/**
 * Starts `script` under sh, held at a `read` until its pid is in every hierarchy of `cgroup`,
 * so the workload itself never runs outside the limits.
 */
async function spawnIn(cgroup: CgroupManager, script: string): Promise<Spawned> {
  const child = spawn('sh', ['-c', `read go; ${script}`], { stdio: ['pipe', 'pipe', 'pipe'] });
  const pid = child.pid as number;
  children.set(pid, child);
  let output = '';
  child.stdout?.on('data', (data: Buffer) => (output += data.toString()));
  child.stderr?.on('data', (data: Buffer) => (output += data.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      children.delete(pid);
      resolve({ code, signal });
    }),
  );
  for (const file of cgroup.procsFiles()) await fsp.writeFile(file, String(pid));
  child.stdin?.write('go\n');
  const outputEnded = Promise.all(
    [child.stdout, child.stderr].map((stream) => stream && finished(stream).catch(() => undefined)),
  );
  return { child, pid, output: () => output, exited, outputEnded };
}

/** Kills every process left in the cgroup (all started by this test) and waits for them. */
async function killAll(cgroup: CgroupManager): Promise<void> {
  for (let round = 0; round < 50; round += 1) {
    const pids = await cgroup.pids();
    if (pids.length === 0) break;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await sleep(20);
  }
}

async function cpuacctUsage(cgroup: CgroupManager): Promise<number> {
  return (await cgroup.stats()).cpu?.usageNanos ?? 0;
}

/** The whole block device (major:minor) holding `directory`, if it is a real disk. */
function blockDeviceOf(directory: string): { major: number; minor: number; reason?: string } {
  const mounts = parseMountinfo(fs.readFileSync('/proc/self/mountinfo', 'utf8'));
  const lines = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
  let best: { mountPoint: string; device: string } | undefined;
  for (const [index, mount] of mounts.entries()) {
    const relative = path.relative(mount.mountPoint, directory);
    if (relative.startsWith('..') || path.isAbsolute(relative)) continue;
    if (!best || mount.mountPoint.length >= best.mountPoint.length) {
      best = { mountPoint: mount.mountPoint, device: lines[index]?.split(' ')[2] ?? '' };
    }
  }
  const [major, minor] = (best?.device ?? '0:0').split(':').map(Number) as [number, number];
  const sys = `/sys/dev/block/${major}:${minor}`;
  if (major === 0 || !fs.existsSync(sys))
    return { major, minor, reason: `${directory} is not on a block device (${best?.device})` };
  if (fs.existsSync(path.join(sys, 'partition'))) {
    const [diskMajor, diskMinor] = fs
      .readFileSync(path.join(sys, '..', 'dev'), 'utf8')
      .trim()
      .split(':')
      .map(Number) as [number, number];
    return { major: diskMajor, minor: diskMinor };
  }
  return { major, minor };
}

function leftovers(): string[] {
  const found: string[] = [];
  for (const hierarchy of fs.readdirSync(CGROUP_ROOT)) {
    let entries: string[] = [];
    try {
      entries = fs.readdirSync(path.join(CGROUP_ROOT, hierarchy));
    } catch {
      continue;
    }
    for (const entry of entries)
      if (entry.startsWith(parent)) found.push(path.join(CGROUP_ROOT, hierarchy, entry));
  }
  return found;
}

beforeAll(async () => {
  if (!runsHere) return;
  scratch = await fsp.mkdtemp(path.join(os.tmpdir(), 'gantry-cgtest-'));
});

afterAll(async () => {
  if (!runsHere) return;
  for (const [pid, child] of children) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
    await new Promise((resolve) =>
      child.exitCode !== null || child.signalCode !== null ? resolve(undefined) : child.on('exit', resolve),
    );
  }
  for (const cgroup of managers) await killAll(cgroup);
  for (const cgroup of managers) await cgroup.destroy().catch(() => undefined);
  for (const cgroup of managers) await cgroup.removeParentIfEmpty().catch(() => undefined);
  // What the driver's own destroy and removeParentIfEmpty left is the finding; the parent is this
  // test's own (its name is random), so it is then removed whatever the finding was.
  const left = leftovers();
  for (const dir of left) {
    await fsp.rmdir(path.join(dir, 'nested')).catch(() => undefined);
    await fsp.rmdir(dir).catch(() => undefined);
  }
  if (scratch) await fsp.rm(scratch, { recursive: true, force: true });
  expect(left).toEqual([]);
});

describeUnless(missing, 'v1 driver on the real kernel', () => {
  it('OOM-kills a process that allocates beyond --memory 32m and counts the kill', async () => {
    const cgroup = manager('memory');
    await cgroup.create({ memory: 32 * MiB, memorySwap: 32 * MiB });
    const hog = await spawnIn(cgroup, 'exec tail /dev/zero');
    const result = await hog.exited;
    expect(result.signal).toBe('SIGKILL');
    const stats = await cgroup.stats();
    expect(stats.memory?.oomKills).toBeGreaterThan(0);
    expect(stats.memory?.limit).toBe(32 * MiB);
    expect(stats.memory?.maxUsage).toBeGreaterThan(30 * MiB);
    const counter = cgroup.oomCounter();
    expect(counter).toBeDefined();
    const line = (await fsp.readFile(counter?.file as string, 'utf8'))
      .split('\n')
      .find((l) => l.startsWith(`${counter?.key} `));
    expect(Number(line?.split(' ')[1])).toBeGreaterThan(0);
  });

  it('stops a fork loop at --pids-limit', async () => {
    const cgroup = manager('pids');
    await cgroup.create({ pidsLimit: 8 });
    const forker = await spawnIn(
      cgroup,
      'i=0; while [ $i -lt 20 ]; do sleep 30 & i=$((i+1)); done; echo forked; sleep 30',
    );
    // dash gives up at the first failed fork; either way the count must stop at the limit.
    await waitFor(() => /forked|fork/i.test(forker.output()), 60_000, 'the fork loop to end');
    const stats = await cgroup.stats();
    expect(stats.pids?.limit).toBe(8);
    expect(stats.pids?.current).toBeLessThanOrEqual(8);
    expect((await cgroup.pids()).length).toBeLessThanOrEqual(8);
    expect(forker.output()).toMatch(/fork|Resource temporarily unavailable/i);
    await killAll(cgroup);
  });

  it('holds a busy loop to half a CPU with --cpus 0.5 (the kernel throttles it at its quota)', async () => {
    const cgroup = manager('cpu');
    await cgroup.create({ cpuQuota: 50000, cpuPeriod: 100000 });
    await spawnIn(cgroup, 'while :; do :; done');
    favourParent(parent);
    await expectQuotaHolds(() => cgroup.stats(), { quotaMicros: 50000, periodMicros: 100000 });
    await killAll(cgroup);
  });

  it('pins a process to CPU 0 with --cpuset-cpus 0', async () => {
    const cgroup = manager('cpuset');
    await cgroup.create({ cpusetCpus: '0' });
    const sleeper = await spawnIn(cgroup, 'exec sleep 30');
    const status = await fsp.readFile(`/proc/${sleeper.pid}/status`, 'utf8');
    expect(status).toMatch(/^Cpus_allowed_list:\s+0$/m);
    await killAll(cgroup);
  });

  it('freezes a busy process so it uses no CPU, and thaws it', async () => {
    const cgroup = manager('freezer');
    await cgroup.create({});
    await spawnIn(cgroup, 'while :; do :; done');
    await waitFor(async () => (await cpuacctUsage(cgroup)) > 0, 60_000, 'the loop to run');
    await cgroup.freeze();
    expect(await cgroup.freezerState()).toBe('frozen');
    const frozenAt = await cpuacctUsage(cgroup);
    await sleep(500);
    expect(await cpuacctUsage(cgroup)).toBe(frozenAt);
    await cgroup.thaw();
    expect(await cgroup.freezerState()).toBe('thawed');
    await waitFor(async () => (await cpuacctUsage(cgroup)) > frozenAt, 60_000, 'the thawed loop to run');
    await killAll(cgroup);
  });

  it('throttles direct-IO writes with --device-write-bps 1mb', async (context) => {
    const device = blockDeviceOf(scratch);
    skipIf(context, device.reason);
    const cgroup = manager('blkio');
    await cgroup.create({
      blkioDeviceWriteBps: [{ path: 'scratch device', major: device.major, minor: device.minor, rate: MiB }],
    });
    const file = path.join(scratch, 'throttled');
    const started = Date.now();
    const writer = await spawnIn(cgroup, `exec dd if=/dev/zero of=${file} bs=64k count=48 oflag=direct`);
    const result = await writer.exited;
    const seconds = (Date.now() - started) / 1000;
    expect(result.code, writer.output()).toBe(0);
    // 3 MiB at 1 MiB/s: about 3 s (the kernel lets the first slice through at once).
    expect(seconds).toBeGreaterThan(1.5);
    expect((await cgroup.stats()).io?.writeBytes).toBeGreaterThanOrEqual(3 * MiB);
  });

  it('denies device nodes outside the default rules but allows /dev/null', async (context) => {
    const nul = path.join(scratch, 'null-like');
    spawnSync('mknod', [nul, 'c', '1', '3']);
    // A node outside docker's allowlist that opens on this kernel (open only; nothing is read):
    // /dev/mem (1:1), /dev/kmsg (1:11) or /dev/port (1:4), whichever the kernel has.
    let denied: string | undefined;
    for (const minor of ['1', '11', '4']) {
      const candidate = path.join(scratch, `mem-like-${minor}`);
      spawnSync('mknod', [candidate, 'c', '1', minor]);
      try {
        // Outside the cgroup the node opens, so a refusal below is the devices controller's.
        fs.closeSync(fs.openSync(candidate, 'r'));
        denied = candidate;
        break;
      } catch {
        // this kernel lacks that driver; try the next
      }
    }
    skipIf(context, !denied && `no character device 1:1, 1:11 or 1:4 opens in ${scratch}`);
    const mem = denied as string;
    const cgroup = manager('devices');
    await cgroup.create({ devices: defaultDeviceRules() });
    const probe = await spawnIn(cgroup, `(: < ${mem}); echo mem=$?; echo x > ${nul}; echo null=$?`);
    await probe.exited;
    await probe.outputEnded;
    expect(probe.output()).toMatch(/Operation not permitted/);
    expect(probe.output()).toMatch(/mem=[1-9]/);
    expect(probe.output()).toMatch(/null=0/);
  });

  it('updates a running container, and keeps the old values when the kernel refuses one', async () => {
    const cgroup = manager('update');
    await cgroup.create({ memory: 128 * MiB });
    const holder = await spawnIn(
      cgroup,
      `exec ${process.execPath} -e "globalThis.b = Buffer.alloc(24 << 20, 1); console.log('ready'); setInterval(() => {}, 1000)"`,
    );
    await waitFor(() => holder.output().includes('ready'), 60_000, 'the memory holder to be ready');
    expect(holder.output()).toContain('ready');
    const memoryFile = cgroup
      .oomCounter()
      ?.file.replace('memory.oom_control', 'memory.limit_in_bytes') as string;
    const cpusetFile = cgroup
      .procsFiles()
      .find((f) => f.includes('/cpuset/'))
      ?.replace('cgroup.procs', 'cpuset.cpus') as string;
    const cpusBefore = (await fsp.readFile(cpusetFile, 'utf8')).trim();

    await cgroup.update({ memory: 96 * MiB });
    expect((await fsp.readFile(memoryFile, 'utf8')).trim()).toBe(String(96 * MiB));

    // cpuset is applied before memory, so the refused memory limit must undo it.
    const error = await cgroup.update({ cpusetCpus: '0', memory: MiB }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as Error).message).toMatch(
      new RegExp(
        `memory limit 1MiB is below the container's current usage [\\d.]+[KMG]iB .*the old limit 96MiB stays`,
      ),
    );
    expect((await fsp.readFile(memoryFile, 'utf8')).trim()).toBe(String(96 * MiB));
    expect((await fsp.readFile(cpusetFile, 'utf8')).trim()).toBe(cpusBefore);
    await killAll(cgroup);
  });

  it('destroys idempotently and leaves nothing behind', async () => {
    const cgroup = manager('destroy');
    const resources: Resources = { memory: 64 * MiB, pidsLimit: 50 };
    await cgroup.create(resources);
    expect(await cgroup.exists()).toBe(true);
    await cgroup.destroy();
    await cgroup.destroy();
    expect(await cgroup.exists()).toBe(false);
    for (const file of cgroup.procsFiles()) expect(fs.existsSync(path.dirname(file))).toBe(false);
  });
});

describeUnless(missing, 'removing the parent on the real kernel', () => {
  it('removes a parent Gantry created once its last container is gone', async (context) => {
    const binding = await import('../../../source/runtime/sys/libc.js')
      .then((libc) => {
        libc.lgetxattr(os.tmpdir(), 'trusted.gantry.probe');
        return undefined;
      })
      .catch((error: unknown) => String(error));
    skipIf(
      context,
      binding && `the libc xattr binding does not load, so parents cannot be marked: ${binding}`,
    );
    const ownParent = `${parent}-own/nested`;
    const first = manager('a', ownParent);
    const second = manager('b', ownParent);
    await first.create({});
    await second.create({});
    await first.destroy();
    await first.removeParentIfEmpty();
    expect(fs.existsSync(path.join(CGROUP_ROOT, 'memory', ownParent))).toBe(true);
    await second.destroy();
    await second.removeParentIfEmpty();
    expect(fs.existsSync(path.join(CGROUP_ROOT, 'memory', `${parent}-own`))).toBe(false);
  });
});
