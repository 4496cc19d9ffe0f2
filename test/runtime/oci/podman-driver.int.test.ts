/**
 * podman (Debian's 4.3, with conmon) drives gantry-oci as its OCI runtime: `--runtime` points at
 * it, storage and state stay in a temporary directory, cgroups under a parent of the test's own.
 * Exit codes are what conmon reads from the container's init as its subreaper, so they are only
 * right when gantry-oci leaves the init to conmon as runc does.
 */
import { execa } from 'execa';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cgroupDirectories, GANTRY_OCI, testName, waitFor } from '../../support/engine.js';
import { busybox } from '../../support/oci-bundle.js';
import { describeUnless, needsCommand, needsFile, needsRoot } from '../../support/skip.js';

describeUnless(
  [
    needsRoot(),
    needsCommand('podman'),
    needsCommand('conmon'),
    needsCommand('script', 'bsdutils'),
    needsFile(['/bin/busybox', '/usr/bin/busybox'], 'busybox', 'busybox-static'),
  ],
  'podman --runtime gantry-oci',
  () => {
    const cgroupParent = testName(`podman-${process.pid}`);
    let base: string;
    let rootfs: string;
    let env: Record<string, string>;
    let global: string[];

    const podman = async (...args: string[]) => {
      const result = await execa('podman', [...global, ...args], { env, reject: false, stdin: 'ignore' });
      return {
        stdout: String(result.stdout),
        stderr: String(result.stderr),
        exitCode: result.exitCode ?? 128,
      };
    };
    // podman here needs cgroupfs and ulimits under the sandbox's hard limits; no network at all.
    const runOptions = () => [
      '--network',
      'none',
      '--cgroup-parent',
      `/${cgroupParent}`,
      '--ulimit',
      'nofile=1024:1024',
      '--ulimit',
      'nproc=4096:4096',
      '--rootfs',
      rootfs,
    ];
    const inspect = async (name: string, format: string) =>
      (await podman('inspect', '--format', format, name)).stdout.trim();

    beforeAll(() => {
      base = fs.mkdtempSync(path.join(os.tmpdir(), `${testName('podman')}-`));
      rootfs = path.join(base, 'rootfs');
      fs.mkdirSync(path.join(rootfs, 'bin'), { recursive: true });
      for (const dir of ['etc', 'tmp', 'proc', 'sys', 'dev']) fs.mkdirSync(path.join(rootfs, dir));
      fs.copyFileSync(busybox!, path.join(rootfs, 'bin', 'busybox'));
      fs.chmodSync(path.join(rootfs, 'bin', 'busybox'), 0o755);
      for (const applet of ['sh', 'sleep', 'echo', 'cat', 'tty', 'true', 'stat'])
        fs.symlinkSync('busybox', path.join(rootfs, 'bin', applet));
      fs.writeFileSync(path.join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
      fs.writeFileSync(path.join(rootfs, 'etc', 'group'), 'root:x:0:\n');
      // What a --tmpfs on /seeded starts with: podman asks for it with the tmpcopyup option.
      fs.mkdirSync(path.join(rootfs, 'seeded'));
      fs.writeFileSync(path.join(rootfs, 'seeded', 'from-image'), 'seed\n');
      // File locks, not the host's shared-memory segment: nothing shared with another podman.
      fs.writeFileSync(path.join(base, 'containers.conf'), '[engine]\nlock_type = "file"\n');
      // gantry-oci's state of these containers stays in the test's directory too. Not through
      // --runtime-flag: podman 4.3 leaves it out of the cleanup it runs when a container exits.
      const runtime = path.join(base, 'gantry-oci');
      fs.writeFileSync(runtime, `#!/bin/sh\nexec '${GANTRY_OCI}' --root '${path.join(base, 'oci')}' "$@"\n`, {
        mode: 0o755,
      });
      env = {
        ...(process.env as Record<string, string>),
        CONTAINERS_CONF: path.join(base, 'containers.conf'),
      };
      global = [
        '--root',
        path.join(base, 'storage'),
        '--runroot',
        path.join(base, 'run'),
        '--tmpdir',
        path.join(base, 'tmp'),
        '--storage-driver',
        'vfs',
        '--cgroup-manager=cgroupfs',
        '--events-backend=file',
        '--runtime',
        runtime,
      ];
    });

    afterAll(async () => {
      await podman('rm', '--all', '--force', '--time', '0');
      // What is left of the containers' cgroups is the finding (conmon's own cgroup is podman's).
      const parents = cgroupDirectories(cgroupParent);
      const children = parents.flatMap((parent) =>
        fs
          .readdirSync(parent, { withFileTypes: true })
          .filter((entry) => entry.isDirectory())
          .map((entry) => path.join(parent, entry.name)),
      );
      const containers = children.filter((dir) => path.basename(dir) !== 'conmon');
      for (const dir of [...children, ...parents]) {
        // conmon's cgroup empties as the last conmon exits.
        await waitFor(
          () => {
            try {
              fs.rmdirSync(dir);
              return true;
            } catch (error) {
              if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
              if ((error as NodeJS.ErrnoException).code !== 'EBUSY') throw error;
              return undefined;
            }
          },
          60_000,
          `${dir} to empty`,
        );
      }
      await podman('system', 'reset', '--force');
      fs.rmSync(base, { recursive: true, force: true });
      expect(containers).toEqual([]);
    });

    it('run --rm gives the exit code of the container (3 for exit 3)', async () => {
      const result = await podman(
        'run',
        '--rm',
        ...runOptions(),
        'sh',
        '-c',
        'echo out; echo err >&2; exit 3',
      );
      expect(result.stdout).toBe('out');
      expect(result.stderr).toContain('err');
      expect(result.exitCode).toBe(3);
      expect((await podman('ps', '-aq')).stdout).toBe('');
      // gantry-oci deleted it: no state of it is left.
      expect(fs.readdirSync(path.join(base, 'oci'))).toEqual([]);
    });

    it('run --tmpfs (tmpcopyup, without :notmpcopyup): the tmpfs starts with the files of the root', async () => {
      const result = await podman(
        'run',
        '--name',
        'seeded',
        '--tmpfs',
        '/seeded',
        ...runOptions(),
        'sh',
        '-c',
        'cat /seeded/from-image; stat -f -c %T /seeded; echo new > /seeded/from-image',
      );
      expect(result.stderr).toBe('');
      expect(result.stdout).toBe('seed\ntmpfs');
      expect(result.exitCode).toBe(0);
      // podman did ask for the copy: the option is in the bundle it gave gantry-oci.
      const config = JSON.parse(fs.readFileSync(await inspect('seeded', '{{.OCIConfigPath}}'), 'utf8'));
      const mount = config.mounts.find((m: { destination: string }) => m.destination === '/seeded');
      expect(mount.options).toContain('tmpcopyup');
      expect(fs.readFileSync(path.join(rootfs, 'seeded', 'from-image'), 'utf8')).toBe('seed\n');
      expect((await podman('rm', 'seeded')).exitCode).toBe(0);
      // --read-only: podman's tmpfs on /run, /tmp and /var/tmp carry tmpcopyup too; the root stays read-only.
      const readOnly = await podman(
        'run',
        '--rm',
        '--read-only',
        ...runOptions(),
        'sh',
        '-c',
        'echo x > /tmp/x && cat /tmp/x && stat -f -c %T /tmp; echo y > /seeded/y || echo root-read-only',
      );
      expect(readOnly.exitCode, readOnly.stderr).toBe(0);
      expect(readOnly.stdout).toBe('x\ntmpfs\nroot-read-only');
    });

    it('run -d, kill: 137, as SIGKILL ends it', async () => {
      expect((await podman('run', '-d', '--name', 'killed', ...runOptions(), 'sleep', '600')).exitCode).toBe(
        0,
      );
      expect(await inspect('killed', '{{.State.Status}}')).toBe('running');
      const pid = Number(await inspect('killed', '{{.State.Pid}}'));
      // The pid podman knows is the container's own process, a child of conmon.
      expect(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toBe('sleep\u0000600\u0000');
      const parent = Number(/^PPid:\s*(\d+)$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
      expect(fs.readFileSync(`/proc/${parent}/comm`, 'utf8').trim()).toBe('conmon');
      expect((await podman('kill', 'killed')).exitCode).toBe(0);
      expect((await podman('wait', 'killed')).stdout).toBe('137');
      expect(await inspect('killed', '{{.State.ExitCode}}')).toBe('137');
      expect((await podman('rm', 'killed')).exitCode).toBe(0);
    });

    it('stop: 0 when the container ends on SIGTERM; logs keeps its output; rm removes it', async () => {
      const script = 'echo started; trap "echo stopping; exit 0" TERM; while true; do sleep 0.1; done';
      expect(
        (await podman('run', '-d', '--name', 'stopped', ...runOptions(), 'sh', '-c', script)).exitCode,
      ).toBe(0);
      await waitFor(
        async () => (await podman('logs', 'stopped')).stdout.includes('started'),
        60_000,
        'output',
      );
      expect((await podman('stop', '--time', '60', 'stopped')).exitCode).toBe(0);
      expect(await inspect('stopped', '{{.State.ExitCode}}')).toBe('0');
      expect((await podman('logs', 'stopped')).stdout).toBe('started\nstopping');
      expect((await podman('rm', 'stopped')).exitCode).toBe(0);
      expect((await podman('ps', '-aq')).stdout).toBe('');
    });

    it('pause freezes the container, unpause thaws it', async () => {
      expect((await podman('run', '-d', '--name', 'paused', ...runOptions(), 'sleep', '600')).exitCode).toBe(
        0,
      );
      const id = await inspect('paused', '{{.Id}}');
      const freezer = cgroupDirectories(cgroupParent)
        .map((parent) => path.join(parent, `libpod-${id}`, 'freezer.state'))
        .find((file) => fs.existsSync(file))!;
      expect(fs.readFileSync(freezer, 'utf8').trim()).toBe('THAWED');
      expect((await podman('pause', 'paused')).exitCode).toBe(0);
      expect(fs.readFileSync(freezer, 'utf8').trim()).toBe('FROZEN');
      expect(await inspect('paused', '{{.State.Status}}')).toBe('paused');
      // podman asks the runtime again (ps syncs the state): it must still say paused.
      expect((await podman('ps', '-a', '--filter', 'name=paused', '--format', '{{.Status}}')).stdout).toMatch(
        /^Paused/,
      );
      expect((await podman('unpause', 'paused')).exitCode).toBe(0);
      expect(fs.readFileSync(freezer, 'utf8').trim()).toBe('THAWED');
      expect(await inspect('paused', '{{.State.Status}}')).toBe('running');
      expect((await podman('rm', '--force', '--time', '0', 'paused')).exitCode).toBe(0);
    });

    it('exec, with and without -it, gives the exit code of the process', async () => {
      expect((await podman('run', '-d', '--name', 'execd', ...runOptions(), 'sleep', '600')).exitCode).toBe(
        0,
      );
      const plain = await podman('exec', 'execd', 'sh', '-c', 'echo in exec; exit 4');
      expect(plain.stdout).toBe('in exec');
      expect(plain.exitCode).toBe(4);
      const piped = await execa('podman', [...global, 'exec', '-i', 'execd', 'sh', '-c', 'cat; exit 6'], {
        env,
        reject: false,
        input: 'through stdin\n',
      });
      expect(piped.stdout).toBe('through stdin');
      expect(piped.exitCode).toBe(6);
      // -it needs a terminal on our side: script(1) gives podman one and returns its status.
      const command = ['podman', ...global, 'exec', '-it', 'execd', 'sh', '-c', 'tty; exit 5']
        .map((arg) => `'${arg}'`)
        .join(' ');
      const tty = await execa('script', ['-eqc', command, '/dev/null'], {
        env,
        reject: false,
        stdin: 'ignore',
      });
      expect(String(tty.stdout)).toMatch(/\/dev\/pts\/\d+/);
      expect(tty.exitCode).toBe(5);
      expect((await podman('rm', '--force', '--time', '0', 'execd')).exitCode).toBe(0);
    });
  },
);
