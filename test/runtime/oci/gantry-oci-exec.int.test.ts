/**
 * `gantry-oci exec` as conmon and containerd's shim call runc's: the bundle's process with flags
 * on top or a --process file, exit codes kept, --detach keeping the caller's descriptors with a
 * --pid-file, and a terminal sent to --console-socket; attached, the process gets pipes of the
 * relay, never the caller's descriptors.
 */
import { execa } from 'execa';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { GANTRY_OCI, testName, waitFor } from '../../support/engine.js';
import {
  editSpec,
  makeOciBundle,
  ociRunner,
  ociSuiteNeeds,
  RECVTTY_C,
  tearDownOci,
} from '../../support/oci-bundle.js';
import { describeUnless } from '../../support/skip.js';

describeUnless(ociSuiteNeeds(), 'gantry-oci exec', () => {
  let base: string;
  let bundle: string;
  let stateRoot: string;
  const cgroupParent = testName(`oci-exec-${process.pid}`);
  const env = { GANTRY_CGROUP_PARENT: cgroupParent, SECRET: 'of-the-host' };
  const oci = ociRunner(() => ({ base, bundle, stateRoot }), env);

  beforeAll(async () => {
    ({ base, bundle, stateRoot } = await makeOciBundle('oci-exec', ['pwd', 'readlink', 'tty', 'kill', 'id']));
    editSpec(bundle, (spec) => {
      spec.process.terminal = false;
      spec.process.args = ['sleep', '600'];
      spec.process.env = [...spec.process.env, 'FROMSPEC=1'];
    });
    expect((await oci('create', '--bundle', bundle, 'x1')).exitCode).toBe(0);
    expect((await oci('start', 'x1')).exitCode).toBe(0);
  });

  afterAll(async () => {
    expect(await tearDownOci(oci, { base, bundle, stateRoot }, cgroupParent)).toEqual([]);
  });

  it("runs in the container with the bundle's process and the flags on top, never the caller's env", async () => {
    const result = await oci(
      'exec',
      '-e',
      'EXTRA=2',
      '--cwd',
      '/bin',
      'x1',
      'sh',
      '-c',
      'echo "$FROMSPEC $EXTRA $(pwd) [$SECRET] $(cat /proc/1/comm)"; exit 3',
    );
    expect(result.stdout).toBe('1 2 /bin [] sleep\n');
    expect(result.exitCode).toBe(3);
    expect((await oci('exec', 'x1', 'sh', '-c', 'kill -9 $$')).exitCode).toBe(137);
  });

  it('takes the whole process from --process, as runc does', async () => {
    const file = path.join(base, 'process.json');
    fs.writeFileSync(
      file,
      JSON.stringify({
        args: ['sh', '-c', 'echo "$A $FROMSPEC $(id -u):$(id -g)"'],
        env: ['A=from-file'],
        cwd: '/',
        user: { uid: 7, gid: 8 },
      }),
    );
    const result = await oci('exec', '--process', file, 'x1');
    expect(result.stdout).toBe('from-file  7:8\n');
    expect(result.exitCode).toBe(0);
  });

  it("gives an attached process the relay's pipes, not the file the caller's stdout is", async () => {
    const out = path.join(base, 'attached.out');
    const fd = fs.openSync(out, 'w');
    try {
      const child = spawn(
        process.execPath,
        [
          GANTRY_OCI,
          '--root',
          stateRoot,
          'exec',
          'x1',
          'sh',
          '-c',
          'for fd in 0 1 2; do readlink /proc/self/fd/$fd; done',
        ],
        { env: { ...process.env, ...env }, stdio: ['ignore', fd, fd] },
      );
      expect(await new Promise((resolve) => child.on('exit', resolve))).toBe(0);
    } finally {
      fs.closeSync(fd);
    }
    const links = fs.readFileSync(out, 'utf8').trim().split('\n');
    expect(links).toHaveLength(3);
    for (const link of links) expect(link).toMatch(/^pipe:\[\d+\]$/);
  });

  it("--detach: the process keeps the caller's descriptors and --pid-file names it on the host", async () => {
    const pidFile = path.join(base, 'exec.pid');
    const result = await oci(
      'exec',
      '-d',
      '--pid-file',
      pidFile,
      'x1',
      'sh',
      '-c',
      'echo detached-out; exec sleep 600',
    );
    expect(result.exitCode, result.stderr).toBe(0);
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    // The caller's stdout was a file (as conmon's is a pipe): the process writes there itself.
    await waitFor(
      () => fs.readFileSync(path.join(base, 'detached.out'), 'utf8') === 'detached-out\n',
      60_000,
      'output',
    );
    expect(fs.readlinkSync(`/proc/${pid}/fd/1`)).toBe(path.join(base, 'detached.out'));
    expect(fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8')).toContain(cgroupParent);
    // In the container's pid namespace: two pids, the host's and the container's.
    const nspid = /^NSpid:\s+(.*)$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]!.split(/\s+/);
    expect(nspid).toHaveLength(2);
    expect(Number(nspid[0])).toBe(pid);
    process.kill(pid, 'SIGKILL');
  });

  it('sends the pty of --tty to --console-socket, and waits for the process unless detached', async () => {
    const source = path.join(base, 'recvtty.c');
    fs.writeFileSync(source, RECVTTY_C);
    const receiver = path.join(base, 'recvtty');
    await execa('cc', ['-o', receiver, source]);
    const socket = path.join(base, 'exec-console.sock');
    const reader = execa(receiver, [socket], { reject: false });
    await waitFor(() => fs.existsSync(socket), 60_000, 'the console socket');
    const result = await oci('exec', '-t', '--console-socket', socket, 'x1', 'sh', '-c', 'tty; exit 5');
    expect(result.exitCode, result.stderr).toBe(5);
    expect(String((await reader).stdout)).toMatch(/\/dev\/pts\/\d+/);
  });

  it('refuses what runc refuses, saying what is accepted', async () => {
    const tty = await oci('exec', '-t', '-d', 'x1', 'true');
    expect(tty.exitCode).toBe(1);
    expect(tty.stderr).toContain('without --console-socket');
    const user = await oci('exec', '-u', 'nobody', 'x1', 'true');
    expect(user.exitCode).toBe(1);
    expect(user.stderr).toMatch(/invalid uid "nobody": a number is expected/);
    const none = await oci('exec', 'x1');
    expect(none.exitCode).toBe(1);
    expect(none.stderr).toContain('exec needs a command');
    const missing = await oci('exec', 'nope', 'true');
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain('does not exist');
    expect((await oci('kill', 'x1', 'KILL')).exitCode).toBe(0);
    await waitFor(
      async () => JSON.parse((await oci('state', 'x1')).stdout).status === 'stopped',
      60_000,
      'stopped',
    );
    const stopped = await oci('exec', 'x1', 'true');
    expect(stopped.exitCode).toBe(1);
    expect(stopped.stderr).toContain('cannot exec in a stopped container');
  });
});
