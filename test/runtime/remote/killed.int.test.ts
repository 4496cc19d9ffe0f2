/**
 * A remote command whose ssh connection is killed mid-operation. The remote service (a real
 * `gantry system service --stdio` in a session of a real OpenSSH server) stops itself at each
 * phase of a `run -d` (GANTRY_TRACE_STOP, set through the server's SetEnv); the test then kills
 * the user's ssh with SIGKILL. Either the service goes on (it finds its session gone, finishes
 * what it was doing and exits by itself) or it is killed too; in both cases the next remote
 * command leaves nothing half-made in the remote root, and the name is free or held by a whole
 * container. And what a process a remote client execs gets of the service: pipes of the relay,
 * never the ssh session's own, and none of the session's environment.
 */
import { execa } from 'execa';
import fs from 'node:fs';
import { beforeAll, expect, it } from 'vitest';
import { GANTRY, waitFor, type TestEngine } from '../../support/engine.js';
import { isGone, leftovers, phaseSoak, processState } from '../../support/faults.js';
import { describeUnless, needsRoot } from '../../support/skip.js';
import { remoteHostForSuite } from '../../support/remote-host.js';
import { needsSshd, startSshd, type TestSshd } from '../../support/sshd.js';

/** Children of `pid`, recursively (from /proc). */
function descendants(pid: number): number[] {
  let children: number[] = [];
  try {
    children = fs
      .readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
  return children.flatMap((child) => [child, ...descendants(child)]);
}

function comm(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

describeUnless([needsRoot(), needsSshd()], 'a remote command whose ssh is killed mid-operation', () => {
  const host = remoteHostForSuite('remote-killed');
  let remote: TestEngine;
  let sshd: TestSshd;
  beforeAll(() => ({ remote, sshd } = host));

  /** The client's environment for `server`: its own connection per command (no shared master,
   * so the ssh to kill is the command's own child). */
  const clientEnv = (server: TestSshd) =>
    host.clientEnv({ GANTRY_SSH_COMMAND: `${server.clientEnv.GANTRY_SSH_COMMAND} -o ControlMaster=no` });
  const client = async (server: TestSshd, args: readonly string[]) => {
    const result = await execa(GANTRY, ['--host', server.url(GANTRY), ...args], {
      env: clientEnv(server),
      reject: false,
      stdin: 'ignore',
    });
    return { stdout: String(result.stdout), stderr: String(result.stderr), exitCode: result.exitCode ?? 128 };
  };

  /** The service processes serving the remote root. */
  const services = (): number[] =>
    fs
      .readdirSync('/proc')
      .filter((entry) => /^\d+$/.test(entry))
      .filter((pid) => {
        try {
          const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
          const environ = fs.readFileSync(`/proc/${pid}/environ`, 'utf8');
          return (
            cmdline.includes('system\0service\0--stdio') && environ.includes(`GANTRY_ROOT=${remote.root}\0`)
          );
        } catch {
          return false;
        }
      })
      .map(Number);

  // A soak (its own timeout): an sshd and a remote run per phase, each killed and checked.
  it('run -d: at every phase, the next command leaves nothing, whether the service goes on or is killed too', async () => {
    const { phases } = phaseSoak(remote);
    const traced = await phases([
      'run',
      '-d',
      '--network',
      'none',
      '--name',
      'traced',
      'demo',
      'sleep',
      '1000',
    ]);
    expect((await remote.gantry(['rm', '-f', 'traced'])).exitCode).toBe(0);
    const killed = traced.filter((phase) => /^(create|launch|start|network): /.test(phase));
    expect(killed).toEqual(expect.arrayContaining(['create: name reserved', 'launch: monitor created']));
    let round = 0;
    for (const phase of killed) {
      const goesOn = round++ % 2 === 0;
      const what = `${phase}, service ${goesOn ? 'resumed' : 'killed'}`;
      // A server whose sessions stop at this phase.
      const stopping = await startSshd({
        ...remote.env,
        GANTRY_DEFAULT_NETWORK: 'none',
        GANTRY_TRACE_STOP: phase,
      });
      try {
        const command = execa(
          GANTRY,
          ['--host', stopping.url(GANTRY), 'run', '-d', '--name', 'victim', 'demo', 'sleep', '1000'],
          { env: clientEnv(stopping), reject: false, stdin: 'ignore' },
        );
        const service = await waitFor(
          () => services().find((pid) => processState(pid) === 'T'),
          120_000,
          `the remote service to stop at ${phase}`,
        );
        const ssh = descendants(command.pid!).filter((pid) => comm(pid) === 'ssh');
        expect(ssh.length, what).toBeGreaterThan(0);
        for (const pid of ssh) process.kill(pid, 'SIGKILL');
        const ended = await command;
        expect(ended.exitCode, `${what}: ${String(ended.stderr)}`).not.toBe(0);
        expect(String(ended.stderr), what).toContain('the connection was lost');
        process.kill(service, goesOn ? 'SIGCONT' : 'SIGKILL');
        // Resumed, it finds its session gone and exits by itself once its call is done.
        await waitFor(() => isGone(service) || undefined, 120_000, `the service to end (${what})`);
      } finally {
        await stopping.stop();
      }
      // The next remote command, of another kind, finishes or undoes what was cut short.
      const next = await client(sshd, ['ps', '-a', '--format', '{{.Names}} {{.Status}}']);
      expect(next.exitCode, `${what}: ${next.stderr}`).toBe(0);
      expect(leftovers(remote.root, remote.cgroupParent), what).toEqual([]);
      if (next.stdout.includes('victim')) {
        // It got as far as its record: a whole container, removed as any other.
        expect((await client(sshd, ['inspect', 'victim'])).exitCode, what).toBe(0);
        expect((await client(sshd, ['rm', '-f', 'victim'])).exitCode, what).toBe(0);
      }
      expect(leftovers(remote.root, remote.cgroupParent), what).toEqual([]);
      // The name is free.
      const again = await client(sshd, ['create', '--name', 'victim', 'demo', 'true']);
      expect(again.exitCode, `${what}: ${again.stderr}`).toBe(0);
      expect((await client(sshd, ['rm', 'victim'])).exitCode, what).toBe(0);
    }
  }, 1_800_000);

  it("a remote exec's process gets the relay's pipes and the container's environment, never the ssh session's", async () => {
    const run = await client(sshd, ['run', '-d', '--name', 'probed', 'demo', 'sleep', '1000']);
    expect(run.exitCode, run.stderr).toBe(0);
    const exec = execa(
      GANTRY,
      [
        '--host',
        sshd.url(GANTRY),
        'exec',
        '-i',
        'probed',
        'sh',
        '-c',
        'for fd in 0 1 2; do echo "fd$fd $(readlink /proc/self/fd/$fd)"; done; ' +
          'echo "sid $(cut -d" " -f6 /proc/$$/stat) pid $$"; env | sed "s/^/env /"; echo ready; read line; echo "got $line"',
      ],
      { env: clientEnv(sshd), reject: false, stdin: 'pipe', buffer: true },
    );
    let out = '';
    exec.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await waitFor(() => out.includes('ready\n') || undefined, 120_000, 'the exec to report');
    // The service's own stdio: the ssh session's pipes (or sockets), from the host's /proc.
    const [service] = services();
    expect(service).toBeDefined();
    const sessionEnds = [0, 1, 2].map((fd) => fs.readlinkSync(`/proc/${service}/fd/${fd}`));
    const serviceEnvironment = fs.readFileSync(`/proc/${service}/environ`, 'utf8');
    expect(serviceEnvironment).toMatch(/(^|\0)SSH_CONNECTION=/);
    exec.stdin!.end('line\n');
    const ended = await exec;
    expect(ended.exitCode, String(ended.stderr)).toBe(0);
    const lines = out.split('\n');
    for (const fd of [0, 1, 2]) {
      const target = lines.find((line) => line.startsWith(`fd${fd} `))?.slice(4) ?? '';
      expect(target, out).toMatch(/^pipe:\[\d+\]$/);
      expect(sessionEnds, out).not.toContain(target);
    }
    // It leads a session of its own.
    expect(out, out).toMatch(/^sid (\d+) pid \1$/m);
    const environment = lines.filter((line) => line.startsWith('env ')).map((line) => line.slice(4));
    expect(
      environment.some((line) => line.startsWith('PATH=')),
      out,
    ).toBe(true);
    expect(
      environment.filter((line) => /^(SSH_|GANTRY_)/.test(line)),
      out,
    ).toEqual([]);
    expect(out).toContain('got line');
    expect((await client(sshd, ['rm', '-f', 'probed'])).exitCode).toBe(0);
  });
});
