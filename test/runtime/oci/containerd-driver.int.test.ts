/**
 * containerd (Debian's 1.6) drives gantry-oci through its runc shim: `ctr run --runtime
 * io.containerd.runc.v2` with the shim's runc binary set to gantry-oci. The test starts its own
 * containerd with every socket and directory in a temporary directory; the host's containerd, if
 * any, is never touched.
 */
import { execa } from 'execa';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cgroupDirectories, GANTRY_OCI, testName, waitFor } from '../../support/engine.js';
import { busybox } from '../../support/oci-bundle.js';
import { describeUnless, needsCommand, needsFile, needsRoot } from '../../support/skip.js';

/** Processes whose command line names `text` (the shims of our containerd name its socket). */
function processesNaming(text: string): number[] {
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

describeUnless(
  [
    needsRoot(),
    needsCommand('containerd'),
    needsCommand('ctr', 'containerd'),
    needsCommand('containerd-shim-runc-v2', 'containerd'),
    needsFile(['/bin/busybox', '/usr/bin/busybox'], 'busybox', 'busybox-static'),
  ],
  'containerd (ctr) with the runc shim driving gantry-oci',
  () => {
    const cgroupParent = testName(`containerd-${process.pid}`);
    let base: string;
    let rootfs: string;
    let socket: string;
    let runtime: string;
    let containerd: ChildProcess;

    const ctr = async (args: string[], input?: string) => {
      const result = await execa('ctr', ['--address', socket, ...args], {
        reject: false,
        ...(input === undefined ? { stdin: 'ignore' as const } : { input }),
      });
      return {
        stdout: String(result.stdout),
        stderr: String(result.stderr),
        exitCode: result.exitCode ?? 128,
      };
    };
    const runOptions = (id: string) => [
      '--runtime',
      'io.containerd.runc.v2',
      '--runc-binary',
      runtime,
      '--runc-root',
      path.join(base, 'oci'),
      '--cgroup',
      `/${cgroupParent}/${id}`,
      '--rootfs',
      rootfs,
    ];
    const taskStatus = async (id: string) =>
      (await ctr(['task', 'ls'])).stdout
        .split('\n')
        .map((line) => line.trim().split(/\s+/))
        .find((fields) => fields[0] === id)?.[2];

    beforeAll(async () => {
      base = fs.mkdtempSync(path.join(os.tmpdir(), `${testName('ctrd')}-`));
      rootfs = path.join(base, 'rootfs');
      fs.mkdirSync(path.join(rootfs, 'bin'), { recursive: true });
      for (const dir of ['etc', 'tmp', 'proc', 'sys', 'dev']) fs.mkdirSync(path.join(rootfs, dir));
      fs.copyFileSync(busybox!, path.join(rootfs, 'bin', 'busybox'));
      fs.chmodSync(path.join(rootfs, 'bin', 'busybox'), 0o755);
      for (const applet of ['sh', 'sleep', 'echo', 'cat'])
        fs.symlinkSync('busybox', path.join(rootfs, 'bin', applet));
      runtime = path.join(base, 'gantry-oci');
      fs.writeFileSync(runtime, `#!/bin/sh\nexec '${GANTRY_OCI}' "$@"\n`, { mode: 0o755 });
      socket = path.join(base, 'containerd.sock');
      // Only what ctr needs: no CRI, no snapshotters this host cannot run, nothing on the host's paths.
      const config = [
        'version = 2',
        `root = "${path.join(base, 'root')}"`,
        `state = "${path.join(base, 'state')}"`,
        'disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]',
        '[grpc]',
        `  address = "${socket}"`,
        '[ttrpc]',
        `  address = "${socket}.ttrpc"`,
        '[debug]',
        `  address = "${path.join(base, 'debug.sock')}"`,
        '[metrics]',
        '  address = ""',
      ].join('\n');
      fs.writeFileSync(path.join(base, 'config.toml'), `${config}\n`);
      const log = fs.openSync(path.join(base, 'containerd.log'), 'w');
      containerd = spawn('containerd', ['--config', path.join(base, 'config.toml')], {
        stdio: ['ignore', log, log],
      });
      fs.closeSync(log);
      await waitFor(async () => (await ctr(['version'])).exitCode === 0, 60_000, 'containerd to answer');
    });

    afterAll(async () => {
      for (const id of ['exited', 'running']) {
        await ctr(['task', 'kill', '--signal', 'SIGKILL', id]);
        await ctr(['task', 'delete', '--force', id]);
        await ctr(['container', 'delete', id]);
      }
      // The shims end once their tasks are deleted; only then does containerd go.
      await waitFor(() => processesNaming(socket).length === 0 || undefined, 60_000, 'the shims to exit');
      containerd.kill('SIGTERM');
      await new Promise((resolve) =>
        containerd.exitCode === null ? containerd.once('exit', resolve) : resolve(0),
      );
      const parents = cgroupDirectories(cgroupParent);
      const left = parents.flatMap((parent) =>
        fs
          .readdirSync(parent, { withFileTypes: true })
          .filter((entry) => entry.isDirectory())
          .map((entry) => path.join(parent, entry.name)),
      );
      for (const dir of [...left, ...parents]) fs.rmdirSync(dir);
      const mounts = fs
        .readFileSync('/proc/mounts', 'utf8')
        .split('\n')
        .filter((line) => line.includes(base));
      fs.rmSync(base, { recursive: true, force: true });
      expect(left).toEqual([]);
      expect(mounts).toEqual([]);
    });

    it('ctr run --rm gives the exit code of the container and its output', async () => {
      const result = await ctr([
        'run',
        '--rm',
        ...runOptions('exited'),
        'exited',
        'sh',
        '-c',
        'echo hello from ctr; exit 7',
      ]);
      expect(result.stdout).toBe('hello from ctr');
      expect(result.exitCode).toBe(7);
      // The shim deleted it through gantry-oci: no state of it is left (a directory per namespace).
      expect(fs.readdirSync(path.join(base, 'oci', 'default'))).toEqual([]);
    });

    it('a detached task: exec, pause and resume, kill, delete with its status', async () => {
      expect((await ctr(['run', '-d', ...runOptions('running'), 'running', 'sleep', '600'])).exitCode).toBe(
        0,
      );
      await waitFor(async () => (await taskStatus('running')) === 'RUNNING', 60_000, 'the task to run');
      const exec = await ctr([
        'task',
        'exec',
        '--exec-id',
        'probe',
        'running',
        'sh',
        '-c',
        'echo in exec; exit 5',
      ]);
      expect(exec.stdout).toBe('in exec');
      expect(exec.exitCode).toBe(5);
      const pids = await ctr(['task', 'ps', 'running']);
      expect(pids.exitCode).toBe(0);
      expect(pids.stdout).toMatch(/^PID\s+INFO/);
      expect((await ctr(['task', 'pause', 'running'])).exitCode).toBe(0);
      expect(await taskStatus('running')).toBe('PAUSED');
      expect((await ctr(['task', 'resume', 'running'])).exitCode).toBe(0);
      expect(await taskStatus('running')).toBe('RUNNING');
      expect((await ctr(['task', 'kill', '--signal', 'SIGKILL', 'running'])).exitCode).toBe(0);
      await waitFor(async () => (await taskStatus('running')) === 'STOPPED', 60_000, 'the task to stop');
      const deleted = await ctr(['task', 'delete', 'running']);
      expect(deleted.exitCode).toBe(0);
      expect(deleted.stderr).toContain('exit code 137');
      expect((await ctr(['container', 'delete', 'running'])).exitCode).toBe(0);
    });
  },
);
