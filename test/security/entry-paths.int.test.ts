/**
 * Issue 8.2 for the ways into a container other than `gantry exec`: a run the restart policy
 * starts under --userns=auto (the monitor clones it through a child that joins the container's
 * first user namespace), a health check (an exec started by the monitor), the init that
 * `gantry-oci create` leaves waiting at its exec fifo, and the intermediate process gantry-oci
 * forks to join a user namespace given by path (and the namespaces beside it) before the clone. Each is stopped before its execve and
 * attacked from a process in the container's own namespaces: its binary, environment (the CLI's
 * holds a secret), memory and descriptors must be out of reach, and it must hold no host fd.
 */
import { execa } from 'execa';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { engineForSuite, GANTRY_OCI, testName, waitFor } from '../support/engine.js';
import { editSpec, makeOciBundle, ociRunner, ociSuiteNeeds, tearDownOci } from '../support/oci-bundle.js';
import { describeUnless, needsCommand, needsRoot } from '../support/skip.js';
import { mapBundle } from '../support/userns.js';
import { attempts, buildAttackTool, expectOutOfReach, pauseFifos } from './support.js';

const SECRET = `gantry-secret-${crypto.randomBytes(8).toString('hex')}`;
function expectRefused(output: string): void {
  expectOutOfReach(output, SECRET);
}

function parentOf(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/** Every descriptor of `pid` (seen from the host) as "fd -> target". */
function descriptors(pid: number): Map<number, string> {
  const found = new Map<number, string>();
  for (const name of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      found.set(Number(name), fs.readlinkSync(`/proc/${pid}/fd/${name}`));
    } catch {
      // closed meanwhile
    }
  }
  return found;
}

/** A descriptor that names no file of the host: a pipe, a socket, an anonymous inode. */
const NOT_A_HOST_FILE = /^(pipe|socket|anon_inode):/;

describeUnless(
  [needsRoot(), needsCommand('nsenter')],
  'restarts and health checks are out of the container’s reach',
  () => {
    const engine = engineForSuite('sec-entry');
    const base = fs.mkdtempSync(path.join(os.tmpdir(), `${testName('sec-entry')}-`));
    // The engine's gantry processes inherit these: the host's /etc/subuid is never touched.
    process.env.GANTRY_SUBUID_FILE = path.join(base, 'subuid');
    process.env.GANTRY_SUBGID_FILE = path.join(base, 'subgid');
    let tools = '';

    beforeAll(() => {
      tools = buildAttackTool();
    });
    afterAll(() => {
      for (const dir of [tools, base]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    /** Runs the attack on PID 1 of the pid namespace of `hostPid`, as root of its user namespace
     * (every capability there, CAP_SYS_PTRACE included) in its mount namespace. */
    const attackFromInside = async (hostPid: number) => {
      const result = await execa(
        'nsenter',
        ['-t', String(hostPid), '-U', '-p', '-m', '--', '/attack/attack', 'proc', '1'],
        { reject: false, stdin: 'ignore' },
      );
      expect(result.exitCode, result.stderr).toBe(0);
      return result.stdout;
    };

    it('a run restarted under --userns=auto: non-dumpable, sealed copy, no environment, no host fd until its execve', async () => {
      const pause = await pauseFifos();
      try {
        const run = await engine.gantry(
          [
            'run',
            '-d',
            '--name',
            'restarting',
            '--network',
            'none',
            '--restart',
            'on-failure:1',
            '--userns=auto',
            '-v',
            `${tools}:/attack:ro`,
            'demo',
            'sh',
            '-c',
            // The first run fails; the restarted one stays, to attack once it has exec'd.
            'test -e /ran && exec sleep 1000; touch /ran; exit 3',
          ],
          {
            env: {
              ...engine.env,
              GANTRY_TEST_HELPER_PAUSE: pause.env('restarted'),
              GANTRY_TEST_SECRET: SECRET,
            },
          },
        );
        expect(run.exitCode, run.stderr).toBe(0);
        const stopped = await pause.stopped('restarted');
        const inspect = JSON.parse((await engine.gantry(['inspect', 'restarting'])).stdout) as [
          { HostConfig: { IDMappings: { UidMap: string[] } } },
        ];
        const hostRoot = inspect[0].HostConfig.IDMappings.UidMap[0]!.split(':')[1];
        try {
          expect(stopped.nsPid).toBe(1);
          // Seen from the host: already the container's root (the attacker's own uid: only
          // dumpability stands between them), from the sealed copy, with no environment ...
          expect(fs.readFileSync(`/proc/${stopped.hostPid}/status`, 'utf8')).toMatch(
            new RegExp(`^Uid:\\s+${hostRoot}\\s+${hostRoot}\\s+${hostRoot}\\s+${hostRoot}$`, 'm'),
          );
          expect(fs.readlinkSync(`/proc/${stopped.hostPid}/exe`)).toMatch(/^\/memfd:gantry-init/);
          expect(fs.readFileSync(`/proc/${stopped.hostPid}/environ`).length).toBe(0);
          expect(fs.readFileSync(`/proc/${parentOf(stopped.hostPid)}/environ`).length).toBe(0);
          // ... holding no host file but the test's own fifos.
          for (const [fd, target] of descriptors(stopped.hostPid))
            if (!target.startsWith(`${pause.dir}/`)) expect(target, `fd ${fd}`).toMatch(NOT_A_HOST_FILE);
          expectRefused(await attackFromInside(stopped.hostPid));
        } finally {
          pause.release();
        }
        // Control: once it has exec'd, the same attack from the same place reaches the process.
        const running = await waitFor(
          async () => {
            const state = JSON.parse((await engine.gantry(['inspect', 'restarting'])).stdout) as [
              { RestartCount: number; State: { Pid: number; Running: boolean } },
            ];
            const { RestartCount, State } = state[0];
            return RestartCount === 1 && State.Running && State.Pid > 0 ? State.Pid : undefined;
          },
          120_000,
          'the restarted run',
        );
        await waitFor(
          () => fs.readFileSync(`/proc/${running}/cmdline`, 'utf8').startsWith('sleep'),
          60_000,
          'its exec',
        );
        const control = attempts(await attackFromInside(running));
        expect(control.get('exe-readlink')).toBe('ok');
        expect(control.get('environ-read')).toBe('ok');
      } finally {
        pause.close();
      }
      expect((await engine.gantry(['rm', '-f', 'restarting'])).exitCode).toBe(0);
    });

    it('a health check: its helper is out of reach before execve and the check runs on pipes in a session of its own', async () => {
      const pause = await pauseFifos();
      try {
        const run = await engine.gantry(
          [
            'run',
            '-d',
            '--name',
            'probed',
            '--network',
            'none',
            '-v',
            `${tools}:/attack:ro`,
            '--health-cmd',
            '/attack/attack fds',
            '--health-interval',
            '100ms',
            'demo',
            'sleep',
            '1000',
          ],
          {
            env: {
              ...engine.env,
              GANTRY_TEST_HELPER_PAUSE: pause.env('prepared'),
              GANTRY_TEST_SECRET: SECRET,
            },
          },
        );
        expect(run.exitCode, run.stderr).toBe(0);
        // Stopped once it has the container's user and capabilities: a process of the container
        // then differs from it in nothing the kernel checks but dumpability.
        const stopped = await pause.stopped('prepared');
        try {
          const relay = parentOf(stopped.hostPid);
          for (const pid of [stopped.hostPid, relay]) {
            expect(fs.readlinkSync(`/proc/${pid}/exe`)).toMatch(/^\/memfd:gantry-init/);
            expect(fs.readFileSync(`/proc/${pid}/environ`).length).toBe(0);
          }
          // From a process of the container, as the container's own processes are.
          const attack = await engine.gantry([
            'exec',
            'probed',
            '/attack/attack',
            'proc',
            String(stopped.nsPid),
          ]);
          expect(attack.exitCode, attack.stderr).toBe(0);
          expectRefused(attack.stdout);
        } finally {
          pause.release();
        }
        const output = await waitFor(
          async () => {
            const state = JSON.parse((await engine.gantry(['inspect', 'probed'])).stdout) as [
              { State: { Health?: { Log: { Output: string }[] } } },
            ];
            return state[0].State.Health?.Log[0]?.Output;
          },
          60_000,
          'the first check',
        );
        const seen = attempts(output);
        for (const fd of ['fd0', 'fd1', 'fd2']) expect(seen.get(fd), output).toMatch(/^pipe:\[\d+\]$/);
        expect(seen.get('devtty'), output).toBe('ENXIO');
        const [, sid, pid] = /^sid (\d+) pid (\d+)$/m.exec(output) ?? [];
        expect(sid, output).toBe(pid);
      } finally {
        pause.close();
      }
      expect((await engine.gantry(['rm', '-f', 'probed'])).exitCode).toBe(0);
    });
  },
);

describeUnless(
  ociSuiteNeeds(),
  'gantry-oci create: the init waiting at its exec fifo is out of reach',
  () => {
    let base: string;
    let bundle: string;
    let stateRoot: string;
    const cgroupParent = testName(`sec-oci-${process.pid}`);
    const env = { GANTRY_CGROUP_PARENT: cgroupParent, SECRET };
    const oci = ociRunner(() => ({ base, bundle, stateRoot }), env);

    beforeAll(async () => {
      ({ base, bundle, stateRoot } = await makeOciBundle('sec-oci'));
      const tools = buildAttackTool();
      fs.copyFileSync(path.join(tools, 'attack'), path.join(bundle, 'rootfs', 'attack'));
      fs.chmodSync(path.join(bundle, 'rootfs', 'attack'), 0o755);
      fs.rmSync(tools, { recursive: true, force: true });
      editSpec(bundle, (spec) => {
        spec.process.terminal = false;
        spec.process.args = ['sleep', '600'];
        spec.process.env = [...spec.process.env, 'FROMSPEC=1'];
      });
    });
    afterAll(async () => {
      expect(await tearDownOci(oci, { base, bundle, stateRoot }, cgroupParent)).toEqual([]);
    });

    it('not dumpable, no caller environment, a sealed copy behind /proc/1/exe, no host fd but the fifo', async () => {
      const created = await oci('create', '--bundle', bundle, 'waiting');
      expect(created.exitCode, created.stderr).toBe(0);
      const state = JSON.parse((await oci('state', 'waiting')).stdout) as { status: string; pid: number };
      expect(state.status).toBe('created');
      const pid = state.pid;
      expect(fs.readlinkSync(`/proc/${pid}/exe`)).toMatch(/^\/memfd:gantry-init/);
      expect(fs.readFileSync(`/proc/${pid}/environ`).length).toBe(0);
      // Its stdio is what the caller handed to create (runc's contract with conmon and the shim);
      // beyond it, only sockets and the exec fifo, held O_PATH as runc's init holds it.
      const fifo = path.join(stateRoot, 'waiting', 'exec.fifo');
      const held = descriptors(pid);
      expect(held.get(0)).toBe('/dev/null');
      expect(held.get(1)).toBe(path.join(base, 'detached.out'));
      expect(held.get(2)).toBe(path.join(base, 'detached.err'));
      for (const [fd, target] of held) {
        if (fd <= 2) continue;
        if (target === fifo) {
          const flags = Number.parseInt(
            /^flags:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'))![1]!,
            8,
          );
          expect(flags & 0o10000000, 'the fifo is held O_PATH').not.toBe(0);
        } else {
          expect(target, `fd ${fd}`).toMatch(NOT_A_HOST_FILE);
        }
      }
      // From inside the container: its PID 1 is out of reach.
      const attack = await oci('exec', 'waiting', '/attack', 'proc', '1');
      expect(attack.exitCode, attack.stderr).toBe(0);
      expectRefused(attack.stdout);

      // Started: the process has the spec's environment and nothing of the caller's.
      expect((await oci('start', 'waiting')).exitCode).toBe(0);
      const environ = await waitFor(
        async () => {
          const result = await oci('exec', 'waiting', '/attack', 'proc', '1');
          return attempts(result.stdout).get('environ-read') === 'ok' ? result.stdout : undefined;
        },
        60_000,
        'the started process',
      );
      const data = /environ-data-begin\n([\s\S]*)\nenviron-data-end/
        .exec(environ)![1]!
        .split('\n')
        .filter(Boolean);
      const spec = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8')) as {
        process: { env: string[] };
      };
      // HOME=/ comes with it when the spec sets none (this root has no /etc/passwd), as with runc.
      expect(data.sort()).toEqual([...spec.process.env, 'HOME=/'].sort());
      expect(environ).not.toContain(SECRET);
      expect(environ).toMatch(/^exe-target \/bin\/busybox$/m);
    });

    it('gantry-oci exec runs on the same hardened helper: out of reach from the container until its execve', async () => {
      const pause = await pauseFifos();
      try {
        const exec = execa(process.execPath, [GANTRY_OCI, '--root', stateRoot, 'exec', 'waiting', 'true'], {
          env: { ...env, GANTRY_TEST_HELPER_PAUSE: pause.env('prepared') },
          reject: false,
          stdin: 'ignore',
        });
        // As for a health check: the container's user and capabilities taken, dumpability left.
        const stopped = await pause.stopped('prepared');
        try {
          for (const pid of [stopped.hostPid, parentOf(stopped.hostPid)]) {
            expect(fs.readlinkSync(`/proc/${pid}/exe`)).toMatch(/^\/memfd:gantry-init/);
            expect(fs.readFileSync(`/proc/${pid}/environ`).length).toBe(0);
          }
          const attack = await oci('exec', 'waiting', '/attack', 'proc', String(stopped.nsPid));
          expect(attack.exitCode, attack.stderr).toBe(0);
          expectRefused(attack.stdout);
        } finally {
          pause.release();
        }
        const result = await exec;
        expect(result.exitCode, String(result.stderr)).toBe(0);
      } finally {
        pause.close();
      }
    });
  },
);

describeUnless(
  [...ociSuiteNeeds(), needsCommand('nsenter')],
  'gantry-oci create joining a user namespace by path: the intermediate process is out of reach',
  () => {
    let base: string;
    let bundle: string;
    let stateRoot: string;
    let tools = '';
    const cgroupParent = testName(`sec-middle-${process.pid}`);
    const env = { GANTRY_CGROUP_PARENT: cgroupParent, SECRET };
    const oci = ociRunner(() => ({ base, bundle, stateRoot }), env);

    beforeAll(async () => {
      ({ base, bundle, stateRoot } = await makeOciBundle('sec-middle'));
      // The container's root reaches its rootfs through the path, as under runc.
      fs.chmodSync(base, 0o711);
      await mapBundle(bundle);
      editSpec(bundle, (spec) => {
        spec.process.terminal = false;
        spec.process.args = ['sleep', '600'];
      });
      tools = buildAttackTool();
    });
    afterAll(async () => {
      if (tools) fs.rmSync(tools, { recursive: true, force: true });
      expect(await tearDownOci(oci, { base, bundle, stateRoot }, cgroupParent)).toEqual([]);
    });

    /** The host pid of a created container's process. */
    const pidOf = async (id: string): Promise<number> => {
      const state = await oci('state', id);
      expect(state.exitCode, state.stderr).toBe(0);
      return (JSON.parse(state.stdout) as { pid: number }).pid;
    };

    /**
     * The attack from the container's user namespace, as its root (every capability there,
     * CAP_SYS_PTRACE included), seeing the host's /proc: the intermediate process lives in the
     * host's pid namespace, so this is the one place in the container's reach that sees it at all,
     * and its credentials are in that user namespace: only non-dumpability stands in the way.
     */
    const attackFromUserns = async (usernsPid: number, target: number) => {
      const result = await execa(
        'nsenter',
        ['-t', String(usernsPid), '-U', '--', path.join(tools, 'attack'), 'proc', String(target)],
        { reject: false, stdin: 'ignore' },
      );
      expect(result.exitCode, result.stderr).toBe(0);
      return result.stdout;
    };

    it('joining the infra container’s user, network, ipc and uts namespaces: not dumpable, sealed, no environment until the clone', async () => {
      // The "infra" container of a pod: its namespaces are what the next one joins by path.
      expect((await oci('create', '--bundle', bundle, 'infra')).exitCode).toBe(0);
      const infra = await pidOf('infra');
      const infraUserns = fs.readlinkSync(`/proc/${infra}/ns/user`);
      editSpec(bundle, (spec) => {
        const joined: Record<string, string> = { user: 'user', network: 'net', ipc: 'ipc', uts: 'uts' };
        spec.linux.namespaces = spec.linux.namespaces.map((ns: { type: string }) =>
          joined[ns.type] ? { type: ns.type, path: `/proc/${infra}/ns/${joined[ns.type]}` } : ns,
        );
        // The joined user namespace has its mapping; the bundle gives none.
        delete spec.linux.uidMappings;
        delete spec.linux.gidMappings;
        delete spec.hostname;
      });
      const pause = await pauseFifos();
      try {
        const paused = ociRunner(() => ({ base, bundle, stateRoot }), {
          ...env,
          GANTRY_TEST_HELPER_PAUSE: pause.env('middle'),
        });
        const creating = paused('create', '--bundle', bundle, 'joiner');
        const stopped = await pause.stopped('middle');
        try {
          const middle = stopped.hostPid;
          // Seen from the host: in the container's user namespace already, from a sealed copy of
          // the helper (never the host's binary), with no environment.
          expect(fs.readlinkSync(`/proc/${middle}/ns/user`)).toBe(infraUserns);
          expect(fs.readlinkSync(`/proc/${middle}/exe`)).toMatch(/^\/memfd:gantry-init/);
          expect(fs.readFileSync(`/proc/${middle}/environ`).length).toBe(0);
          // Not ptrace-able; exe, environ, mem, cwd, root and fds out of reach.
          expectRefused(await attackFromUserns(infra, middle));
        } finally {
          pause.release();
        }
        const created = await creating;
        expect(created.exitCode, created.stderr).toBe(0);
      } finally {
        pause.close();
      }
      // Control: the same attack from the same place reaches the container's process once it has
      // exec'd (dumpable, in that user namespace).
      const joiner = await pidOf('joiner');
      expect(fs.readlinkSync(`/proc/${joiner}/ns/user`)).toBe(infraUserns);
      expect((await oci('start', 'joiner')).exitCode).toBe(0);
      await waitFor(
        () => fs.readFileSync(`/proc/${joiner}/cmdline`, 'utf8').startsWith('sleep'),
        60_000,
        'its exec',
      );
      const control = attempts(await attackFromUserns(infra, joiner));
      expect(control.get('exe-readlink')).toBe('ok');
      expect(control.get('environ-read')).toBe('ok');
      expect((await oci('delete', '--force', 'joiner')).exitCode).toBe(0);
      expect((await oci('delete', '--force', 'infra')).exitCode).toBe(0);
    });
  },
);
