/**
 * net_cls and net_prio, the seed's network controllers, on the real kernel. This host's kernel has
 * them but does not mount them, and the host's mounts are never changed: a helper process made
 * with `unshare -m --propagation private` mounts their v1 hierarchy in a mount namespace of its
 * own, and gantry runs inside that namespace (nsenter), where detection finds the hierarchy from
 * mountinfo. The test reads the cgroup files through /proc/<helper>/root, and removes what it made
 * before the namespace goes (a hierarchy unmounted with cgroups in it lingers in the kernel).
 */
import { execa } from 'execa';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { engineForSuite, GANTRY, testName, waitFor, type RunResult } from '../../support/engine.js';
import { describeUnless, firstCause, needsCommand } from '../../support/skip.js';
import { skipUnlessV1Root } from './support.js';

/** Controllers the kernel has (/proc/cgroups), whether or not they are mounted. */
function kernelControllers(): Set<string> {
  try {
    return new Set(
      fs
        .readFileSync('/proc/cgroups', 'utf8')
        .split('\n')
        .filter((line) => line && !line.startsWith('#'))
        .map((line) => line.split('\t'))
        .filter((fields) => fields[3] === '1')
        .map((fields) => fields[0] as string),
    );
  } catch {
    return new Set();
  }
}

const kernel = kernelControllers();
const missing = firstCause(
  skipUnlessV1Root,
  needsCommand('unshare', 'util-linux'),
  needsCommand('nsenter', 'util-linux'),
  !(kernel.has('net_cls') && kernel.has('net_prio')) &&
    'this kernel has no net_cls/net_prio controllers (/proc/cgroups)',
);

describeUnless(missing, 'net_cls and net_prio in a private mount namespace', () => {
  const engine = engineForSuite('netcls');
  const mountParent = path.join('/tmp', testName(`netcls-${process.pid}`));
  const hierarchy = path.join(mountParent, 'net_cls,net_prio');
  let holder: ChildProcess | undefined;
  let holderPid = 0;

  /** A path of the namespace's mount tree, seen from outside it. */
  const inside = (file: string) => path.join(`/proc/${holderPid}/root`, file);
  /** `gantry ARGS` run in the namespace. */
  const gantry = async (args: readonly string[]): Promise<RunResult> => {
    const result = await execa(
      'nsenter',
      ['-t', String(holderPid), '-m', '--', process.execPath, GANTRY, ...args],
      { env: engine.env, reject: false, stdin: 'ignore', stripFinalNewline: false },
    );
    return { stdout: String(result.stdout), stderr: String(result.stderr), exitCode: result.exitCode ?? 128 };
  };
  /** The engine's directories in the hierarchy (its parent and below), deepest first. */
  const madeThere = (): string[] => {
    const found: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true }))
        if (entry.isDirectory()) walk(path.join(dir, entry.name));
      found.push(dir);
    };
    const parent = inside(path.join(hierarchy, engine.cgroupParent));
    if (fs.existsSync(parent)) walk(parent);
    return found;
  };

  beforeAll(async () => {
    fs.mkdirSync(hierarchy, { recursive: true });
    // The helper mounts the hierarchy in its own mount namespace (nothing propagates to the
    // host's), says so, and holds the namespace until it is killed.
    holder = spawn(
      'unshare',
      [
        '--mount',
        '--propagation',
        'private',
        '--',
        'sh',
        '-c',
        'mount -t cgroup -o net_cls,net_prio cgroup "$1" && echo mounted && exec sleep 3600',
        'sh',
        hierarchy,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    holder.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    holder.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise((resolve) => holder?.once('exit', resolve));
    await Promise.race([
      waitFor(() => output.includes('mounted'), 60_000, 'the private mount of net_cls,net_prio'),
      exited.then(() => {
        throw new Error(`the namespace helper ended: ${output}`);
      }),
    ]);
    holderPid = holder.pid as number;
  });

  afterAll(async () => {
    // Inside the namespace first: the engine's own cleanup runs outside it, where this
    // hierarchy is not mounted.
    if (holderPid) {
      const listed = await gantry(['ps', '-aq', '--no-trunc']);
      for (const id of listed.stdout.split('\n').filter(Boolean)) await gantry(['rm', '-f', id]);
      const left = madeThere();
      for (const dir of left) fs.rmdirSync(dir);
      await execa('nsenter', ['-t', String(holderPid), '-m', '--', 'umount', hierarchy]);
      holder?.kill('SIGKILL');
      await new Promise((resolve) =>
        holder?.exitCode !== null || holder?.signalCode !== null
          ? resolve(undefined)
          : holder?.once('exit', resolve),
      );
      expect(left).toEqual([]);
    }
    fs.rmSync(mountParent, { recursive: true, force: true });
    // The host's mount table never saw it.
    expect(fs.readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(mountParent);
  });

  it('is mounted only in the helper namespace', () => {
    expect(fs.readFileSync(`/proc/${holderPid}/mountinfo`, 'utf8')).toContain(` ${hierarchy} `);
    expect(fs.readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(hierarchy);
  });

  it('puts the container in a net_cls/net_prio cgroup with --net-cls-classid and --net-prio', async () => {
    const run = await gantry([
      'run',
      '-d',
      '--name',
      'classified',
      '--net-cls-classid',
      '0x100001',
      '--net-prio',
      'lo=5',
      'demo',
      'sh',
      '-c',
      'cat /sys/fs/cgroup/net_cls,net_prio/net_cls.classid; exec sleep 300',
    ]);
    expect(run.exitCode, run.stderr).toBe(0);
    const id = run.stdout.trim();
    const dir = inside(path.join(hierarchy, engine.cgroupParent, id));
    expect(fs.readFileSync(path.join(dir, 'net_cls.classid'), 'utf8').trim()).toBe(String(0x100001));
    expect(fs.readFileSync(path.join(dir, 'net_prio.ifpriomap'), 'utf8')).toMatch(/^lo 5$/m);

    // The container's process is in that cgroup, and sees the class id through its own mount.
    const pid = Number((await gantry(['inspect', '-f', '{{.State.Pid}}', 'classified'])).stdout.trim());
    expect(fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8')).toMatch(
      new RegExp(`^\\d+:net_cls,net_prio:/${engine.cgroupParent}/${id}$`, 'm'),
    );
    expect(fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n')).toContain(String(pid));
    await waitFor(
      async () => (await gantry(['logs', 'classified'])).stdout.trim() === String(0x100001),
      60_000,
      'the class id read inside the container',
    );
    const inspected = JSON.parse((await gantry(['inspect', 'classified'])).stdout)[0];
    expect(inspected.HostConfig).toMatchObject({ NetClsClassid: 0x100001, NetPrioIfpriomap: { lo: 5 } });

    // Removal takes the cgroup and the parent gantry made with it, in this hierarchy too.
    expect((await gantry(['rm', '-f', 'classified'])).exitCode).toBe(0);
    expect(madeThere()).toEqual([]);
  });

  it('refuses --net-prio for an interface the host does not have, leaving nothing', async () => {
    const refused = await gantry(['run', '--rm', '--net-prio', 'nosuchif0=3', 'demo', 'true']);
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stderr).toMatch(/the host has no interface nosuchif0/);
    expect(madeThere()).toEqual([]);
  });
});
