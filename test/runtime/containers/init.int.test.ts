/**
 * `--init` on the real kernel: docker-init is the container's PID 1 at /sbin/docker-init, reaps
 * the orphans a plain PID 1 leaves as zombies, passes a signal on to the command, exits with its
 * status, and a container that can remount its copy writable changes only its own copy.
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { engineForSuite, REPO, waitFor } from '../../support/engine.js';
import { describeUnless, needsRoot } from '../../support/skip.js';

interface Inspected {
  Id: string;
  Path: string;
  State: { Status: string; ExitCode: number; Pid: number };
  HostConfig: { Init: boolean | null };
}

/** States of the children of a process (a zombie is no longer in any cgroup.procs: ask its parent). */
function childStates(pid: number): string[] {
  return fs
    .readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
    .trim()
    .split(' ')
    .filter(Boolean)
    .map((child) => {
      try {
        const stat = fs.readFileSync(`/proc/${child}/stat`, 'utf8');
        return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      } catch {
        return 'gone';
      }
    });
}

describeUnless(needsRoot(), '--init', () => {
  const engine = engineForSuite('init');
  const inspect = async (name: string): Promise<Inspected> => {
    const result = await engine.gantry(['inspect', name]);
    expect(result.exitCode, result.stderr).toBe(0);
    return (JSON.parse(result.stdout) as Inspected[])[0]!;
  };

  it("runs docker-init as PID 1 and the command under it, with the command's exit status", async () => {
    const run = await engine.gantry([
      'run',
      '--name',
      'inited',
      '--init',
      'demo',
      'sh',
      '-c',
      'tr "\\0" " " < /proc/1/cmdline; echo; readlink /proc/1/exe; echo $$; exit 7',
    ]);
    expect(run.exitCode, run.stderr).toBe(7);
    const [cmdline, exe, shellPid] = run.stdout.trim().split('\n');
    expect(cmdline?.trim()).toMatch(/^\/sbin\/docker-init -- sh -c /);
    expect(exe).toBe('/sbin/docker-init');
    expect(Number(shellPid)).toBeGreaterThan(1);
    const state = await inspect('inited');
    expect(state.HostConfig.Init).toBe(true);
    expect(state.Path).toBe('sh');
    expect(state.State.ExitCode).toBe(7);
    const plain = await engine.gantry(['run', '--name', 'plain', 'demo', 'true']);
    expect(plain.exitCode).toBe(0);
    expect((await inspect('plain')).HostConfig.Init).toBeNull();
    const missing = await engine.gantry(['run', '--rm', '--init', 'demo', 'no-such-program']);
    expect(missing.exitCode).toBe(127);
    expect(missing.stderr).toContain('exec no-such-program: No such file or directory');
    expect((await engine.gantry(['rm', 'inited', 'plain'])).exitCode).toBe(0);
  });

  it('reaps orphans that a plain PID 1 leaves as zombies', async () => {
    // The inner shell starts a loop in the background and exits: the loop is orphaned to PID 1,
    // which is `sleep 1000` (never reaps) without --init, docker-init with it. The loop ends when
    // told to, once it is known to be PID 1's child.
    const script = 'sh -c "(while [ ! -e /tmp/go ]; do sleep 0.1; done) &"; exec sleep 1000';
    const without = await engine.gantry(['run', '-d', '--name', 'zombies', 'demo', 'sh', '-c', script]);
    expect(without.exitCode, without.stderr).toBe(0);
    const plainPid = (await inspect('zombies')).State.Pid;
    await waitFor(() => childStates(plainPid).length === 1, 60_000, 'the orphan under a plain PID 1');
    expect((await engine.gantry(['exec', 'zombies', 'touch', '/tmp/go'])).exitCode).toBe(0);
    await waitFor(() => childStates(plainPid).join() === 'Z', 60_000, 'a zombie under a plain PID 1');

    const withInit = await engine.gantry([
      'run',
      '-d',
      '--init',
      '--name',
      'reaped',
      'demo',
      'sh',
      '-c',
      script,
    ]);
    expect(withInit.exitCode, withInit.stderr).toBe(0);
    const initPid = (await inspect('reaped')).State.Pid;
    // docker-init's children: the command, and the orphan until it ends and is reaped.
    await waitFor(() => childStates(initPid).length === 2, 60_000, 'the orphan under docker-init');
    expect((await engine.gantry(['exec', 'reaped', 'touch', '/tmp/go'])).exitCode).toBe(0);
    await waitFor(() => childStates(initPid).join() === 'S', 60_000, 'the orphan reaped');
    expect(fs.readFileSync(`/proc/${initPid}/cmdline`, 'utf8').split('\0')[0]).toBe('/sbin/docker-init');
    expect((await engine.gantry(['rm', '-f', 'zombies', 'reaped'])).exitCode).toBe(0);
  });

  it('passes a signal on to the command, which a plain PID 1 would not get', async () => {
    const run = await engine.gantry(['run', '-d', '--init', '--name', 'signalled', 'demo', 'sleep', '1000']);
    expect(run.exitCode, run.stderr).toBe(0);
    expect((await engine.gantry(['kill', '-s', 'TERM', 'signalled'])).exitCode).toBe(0);
    await waitFor(async () => (await inspect('signalled')).State.Status === 'exited', 60_000, 'the end');
    // sleep has no handler for SIGTERM: it died of it (128+15), passed on by docker-init.
    expect((await inspect('signalled')).State.ExitCode).toBe(143);
    expect((await engine.gantry(['rm', 'signalled'])).exitCode).toBe(0);
  });

  it('mounts a read-only copy of its own: never the program every container runs', async () => {
    const refused = await engine.gantry([
      'run',
      '--rm',
      '--init',
      'demo',
      'sh',
      '-c',
      'echo x > /sbin/docker-init',
    ]);
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stderr).toMatch(/Read-only file system|Text file busy/i);
    const run = await engine.gantry(['run', '-d', '--init', '--name', 'copied', 'demo', 'sleep', '1000']);
    expect(run.exitCode, run.stderr).toBe(0);
    const id = run.stdout.trim();
    const pid = (await inspect('copied')).State.Pid;
    // The kernel's record of the mount: its source is the file in the container's directory.
    const line = fs
      .readFileSync(`/proc/${pid}/mountinfo`, 'utf8')
      .split('\n')
      .find((entry) => entry.split(' ')[4] === '/sbin/docker-init');
    expect(line).toBeDefined();
    const [, , , root, , options] = line!.split(' ');
    expect(root).toMatch(new RegExp(`/containers/${id}/docker-init$`));
    expect(options?.split(',')).toContain('ro');
    const copy = path.join(engine.root, 'containers', id, 'docker-init');
    const program = path.join(REPO, 'dist', 'bin', 'gantry-docker-init');
    expect(fs.statSync(copy).ino).not.toBe(fs.statSync(program).ino);
    expect(fs.readFileSync(copy).equals(fs.readFileSync(program))).toBe(true);
    expect((await engine.gantry(['rm', '-f', 'copied'])).exitCode).toBe(0);
  });
});
