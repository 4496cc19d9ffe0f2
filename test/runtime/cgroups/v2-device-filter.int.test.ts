/**
 * The v2 device filter against the real kernel. BPF_CGROUP_DEVICE programs attach to any cgroup2
 * directory and are checked for the processes in it even on a hybrid (v1) host, so this runs
 * wherever a cgroup2 tree is mounted (/sys/fs/cgroup/unified on hybrid hosts): the v2 driver gets
 * a tree rooted at a cgroup of this test's own (gantry-test-bpf-<random>), a child process is
 * moved into it, and the child opens and creates device nodes. Everything is removed in afterAll.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createCgroupManager } from '../../../source/runtime/cgroups/create-manager.js';
import { detectCgroupLayout, type CgroupLayout } from '../../../source/runtime/cgroups/detect.js';
import { defaultDeviceRules, parseDeviceCgroupRule } from '../../../source/runtime/cgroups/parse.js';
import type { CgroupManager, DeviceRule } from '../../../source/runtime/cgroups/types.js';
import { deviceProgram, hostDeviceFilter } from '../../../source/runtime/cgroups/v2/devices.js';
import { encodeInstructions } from '../../../source/runtime/cgroups/v2/device-filter.js';
import { GantryError, SyscallError, UnsupportedError } from '../../../source/runtime/errors.js';
import * as bpf from '../../../source/runtime/sys/bpf.js';
import { mknod, S_IFBLK, S_IFCHR } from '../../../source/runtime/sys/libc.js';
import { testName } from '../../support/engine.js';
import { describeUnless, firstCause, needsRoot, skipIf } from '../../support/skip.js';

const PREFIX = `${testName('bpf')}-`;
const unifiedMount: string | undefined = (() => {
  try {
    return detectCgroupLayout().unified?.mountPoint;
  } catch {
    return undefined;
  }
})();
const missing = firstCause(
  needsRoot(),
  unifiedMount === undefined &&
    'no cgroup2 tree is mounted (BPF device programs attach to cgroup2 directories)',
);
const runsHere = missing === undefined;
const testRootName = `${PREFIX}${randomBytes(4).toString('hex')}`;
const testRoot = path.join(unifiedMount ?? '/nonexistent', testRootName);

let skipReason: string | undefined;
let madeRoot = false;
let scratch = '';
const managers: CgroupManager[] = [];
const children = new Set<ChildProcess>();

/** Nodes made in scratch by the test process, outside any filtered cgroup. */
const nodes = {
  null: '', // c 1:3
  kmsg: '', // c 1:11, outside docker's list
  fuse: '', // c 10:229, what --device /dev/fuse allows
  loop: '', // b 7:0
};

/** A v2 driver whose tree is this test's cgroup, so nothing above it is ever written. */
function manager(name: string): CgroupManager {
  const layout: CgroupLayout = {
    kind: 'v2',
    driver: 2,
    hierarchies: [],
    unified: { mountPoint: testRoot, controllers: [] },
  };
  const created = createCgroupManager({ layout, parent: '', name, destroyTimeoutMs: 3000 });
  managers.push(created);
  return created;
}

/** A process in `cgroup` that runs device operations on request and answers with the outcome. */
interface Prober {
  pid: number;
  open(file: string, flags: 'r' | 'w' | 'r+'): Promise<string>;
  mknod(file: string, type: 'b' | 'c', major: number, minor: number): Promise<string>;
  cgroup(): Promise<string>;
}

const PROBER = `
const fs = require('node:fs');
const { spawnSync } = require('node:child_process');
require('node:readline').createInterface({ input: process.stdin }).on('line', (line) => {
  const request = JSON.parse(line);
  let outcome;
  try {
    if (request.op === 'open') {
      fs.closeSync(fs.openSync(request.path, request.flags));
      outcome = 'ok';
    } else if (request.op === 'mknod') {
      const args = [request.path, request.type, String(request.major), String(request.minor)];
      const result = spawnSync('mknod', args, { encoding: 'utf8' });
      outcome = result.status === 0 ? 'ok' : /Operation not permitted/.test(result.stderr) ? 'EPERM' : result.stderr.trim();
    } else {
      outcome = fs.readFileSync('/proc/self/cgroup', 'utf8');
    }
  } catch (error) {
    outcome = error.code || String(error);
  }
  process.stdout.write(JSON.stringify(outcome) + '\\n');
});
`;

async function proberIn(cgroup: CgroupManager): Promise<Prober> {
  const child = spawn(process.execPath, ['-e', PROBER], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.add(child);
  child.on('exit', () => children.delete(child));
  const pid = child.pid as number;
  for (const file of cgroup.procsFiles()) await fsp.writeFile(file, String(pid));
  const answers = createInterface({ input: child.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator]();
  const ask = async (request: object): Promise<string> => {
    child.stdin?.write(`${JSON.stringify(request)}\n`);
    const answer = await answers.next();
    if (answer.done) throw new Error('the prober exited');
    return JSON.parse(answer.value) as string;
  };
  return {
    pid,
    open: (file, flags) => ask({ op: 'open', path: file, flags }),
    mknod: (file, type, major, minor) => ask({ op: 'mknod', path: file, type, major, minor }),
    cgroup: () => ask({ op: 'cgroup' }),
  };
}

/** Ids of the device programs attached to `dir` itself. */
function attachedIds(dir: string): number[] {
  const fd = bpf.openCgroupDirectory(dir);
  try {
    return bpf.queryPrograms(fd, bpf.BPF_CGROUP_DEVICE, dir);
  } finally {
    bpf.closeFd(fd);
  }
}

/** Waits until the kernel has freed program `id` (no fd, no attachment holds it). */
async function programFreed(id: number): Promise<boolean> {
  for (let round = 0; round < 100; round += 1) {
    try {
      bpf.closeFd(bpf.programFdById(id));
    } catch (error) {
      if (error instanceof SyscallError && error.code === 'ENOENT') return true;
      throw error;
    }
    await sleep(50);
  }
  return false;
}

function leftovers(): string[] {
  const found: string[] = [];
  const walk = (dir: string, depth: number): void => {
    let entries: fs.Dirent[] = [];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (!entry.isDirectory()) continue;
      if (entry.name.startsWith(testRootName)) found.push(path.join(dir, entry.name));
      else if (depth < 2) walk(path.join(dir, entry.name), depth + 1);
    }
  };
  walk('/sys/fs/cgroup', 0);
  return found;
}

const fuseRule: DeviceRule = { allow: true, type: 'c', major: 10, minor: 229, access: 'rwm' };

beforeAll(async () => {
  if (!runsHere) return;
  try {
    await hostDeviceFilter.check(deviceProgram(defaultDeviceRules()));
  } catch (error) {
    if (!(error instanceof UnsupportedError)) throw error;
    skipReason = `this host refuses BPF device programs: ${error.message}`;
    return;
  }
  fs.mkdirSync(testRoot);
  madeRoot = true;
  scratch = await fsp.mkdtemp(path.join(os.tmpdir(), 'gantry-bpftest-'));
  nodes.null = path.join(scratch, 'null');
  nodes.kmsg = path.join(scratch, 'kmsg');
  nodes.fuse = path.join(scratch, 'fuse');
  nodes.loop = path.join(scratch, 'loop');
  mknod(nodes.null, S_IFCHR | 0o666, 1, 3);
  mknod(nodes.kmsg, S_IFCHR | 0o644, 1, 11);
  mknod(nodes.fuse, S_IFCHR | 0o600, 10, 229);
  mknod(nodes.loop, S_IFBLK | 0o600, 7, 0);
});

afterAll(async () => {
  if (!runsHere) return;
  for (const child of children) {
    child.kill('SIGKILL');
    await new Promise((resolve) =>
      child.exitCode !== null || child.signalCode !== null ? resolve(undefined) : child.on('exit', resolve),
    );
  }
  for (const cgroup of managers) await cgroup.destroy().catch(() => undefined);
  // What the driver's destroy left below the test's own root is the finding; the root (made by
  // this test) goes whatever it was.
  const left: string[] = [];
  if (madeRoot) {
    for (const entry of fs.readdirSync(testRoot, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      left.push(path.join(testRoot, entry.name));
      await fsp.rmdir(path.join(testRoot, entry.name)).catch(() => undefined);
    }
    await fsp.rmdir(testRoot).catch(() => undefined);
  }
  if (scratch) await fsp.rm(scratch, { recursive: true, force: true });
  expect(left).toEqual([]);
  expect(leftovers()).toEqual([]);
});

describeUnless(missing, 'v2 device filter on the real kernel', () => {
  it('enforces docker default rules on a process in the cgroup', async (context) => {
    skipIf(context, skipReason);
    // Outside the cgroup these open, so a refusal below is the filter's.
    fs.closeSync(fs.openSync(nodes.kmsg, 'r'));
    fs.closeSync(fs.openSync(nodes.fuse, 'r+'));

    const cgroup = manager('defaults');
    await cgroup.create({ devices: defaultDeviceRules() });
    expect(cgroup.deviceEnforcement).toBe('ebpf');
    const dir = path.dirname(cgroup.procsFiles()[0] as string);
    expect(attachedIds(dir)).toHaveLength(1);

    const probe = await proberIn(cgroup);
    expect(await probe.cgroup()).toContain(`0::/${testRootName}/defaults\n`);
    expect(await probe.open(nodes.null, 'r')).toBe('ok');
    expect(await probe.open(nodes.null, 'r+')).toBe('ok');
    expect(await probe.open('/dev/null', 'w')).toBe('ok');
    expect(await probe.open(nodes.kmsg, 'r')).toBe('EPERM');
    expect(await probe.open('/dev/kmsg', 'r')).toBe('EPERM');
    expect(await probe.open(nodes.fuse, 'r+')).toBe('EPERM');
    // A block device is refused before its driver is asked whether it exists.
    expect(await probe.open(nodes.loop, 'r')).toBe('EPERM');
    // "c *:* m" and "b *:* m": any node may be made, but not opened.
    expect(await probe.mknod(path.join(scratch, 'made-kmsg'), 'c', 1, 11)).toBe('ok');
    expect(await probe.open(path.join(scratch, 'made-kmsg'), 'r')).toBe('EPERM');
    expect(await probe.mknod(path.join(scratch, 'made-loop'), 'b', 7, 1)).toBe('ok');
    expect(await probe.open(path.join(scratch, 'made-loop'), 'r')).toBe('EPERM');
  });

  it('replaces the program on update, leaving exactly one attached', async (context) => {
    skipIf(context, skipReason);
    const cgroup = manager('update');
    await cgroup.create({ devices: defaultDeviceRules() });
    const dir = path.dirname(cgroup.procsFiles()[0] as string);
    const [first] = attachedIds(dir);
    const probe = await proberIn(cgroup);
    expect(await probe.open(nodes.kmsg, 'r')).toBe('EPERM');
    expect(await probe.open(nodes.fuse, 'r+')).toBe('EPERM');

    // --device /dev/fuse and --device-cgroup-rule 'c 1:11 r'
    await cgroup.update({ devices: [...defaultDeviceRules(), fuseRule, parseDeviceCgroupRule('c 1:11 r')] });
    const ids = attachedIds(dir);
    expect(ids).toHaveLength(1);
    expect(ids[0]).not.toBe(first);
    expect(await programFreed(first as number)).toBe(true);
    expect(await probe.open(nodes.fuse, 'r+')).toBe('ok');
    expect(await probe.open(nodes.kmsg, 'r')).toBe('ok');
    expect(await probe.open(nodes.kmsg, 'w')).toBe('EPERM');
    expect(await probe.open(nodes.null, 'r+')).toBe('ok');

    // Without the mknod wildcards, only nodes a rule names with "m" can be made.
    await cgroup.update({
      devices: [defaultDeviceRules()[0] as DeviceRule, parseDeviceCgroupRule('c 1:3 rwm')],
    });
    expect(attachedIds(dir)).toHaveLength(1);
    expect(await probe.mknod(path.join(scratch, 'denied-kmsg'), 'c', 1, 11)).toBe('EPERM');
    expect(await probe.mknod(path.join(scratch, 'denied-loop'), 'b', 7, 2)).toBe('EPERM');
    expect(await probe.mknod(path.join(scratch, 'made-null'), 'c', 1, 3)).toBe('ok');
    expect(await probe.open(path.join(scratch, 'made-null'), 'r+')).toBe('ok');
    expect(await probe.open(nodes.fuse, 'r+')).toBe('EPERM');
    expect(fs.existsSync(path.join(scratch, 'denied-kmsg'))).toBe(false);
  });

  it('frees the program when the cgroup is removed', async (context) => {
    skipIf(context, skipReason);
    const cgroup = manager('destroy');
    await cgroup.create({ devices: defaultDeviceRules() });
    const [id] = attachedIds(path.dirname(cgroup.procsFiles()[0] as string));
    expect(id).toBeGreaterThan(0);
    await cgroup.destroy();
    expect(await cgroup.exists()).toBe(false);
    expect(await programFreed(id as number)).toBe(true);
  });

  it("reports the verifier's refusal with its log", async (context) => {
    skipIf(context, skipReason);
    // w0 = w6: R6 is never written, which the verifier refuses.
    const broken = encodeInstructions([
      { code: 0xbc, dst: 0, src: 6, off: 0, imm: 0 },
      { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 },
    ]);
    const error = await hostDeviceFilter.check(broken).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GantryError);
    expect((error as Error).message).toMatch(
      /^loading the device filter: bpf\(BPF_PROG_LOAD\): EACCES \(verifier: .*R6 !read_ok/,
    );
    expect((error as Error).cause).toBeInstanceOf(bpf.BpfVerifierError);
    expect(((error as Error).cause as bpf.BpfVerifierError).log).toContain('R6 !read_ok');
  });
});
