/** Detached containers, exec, stop, logs, removal and leaks, on the real kernel. */
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import {
  cgroupDirectories,
  engineForSuite,
  mountsUnder,
  processState,
  testName,
  waitFor,
  waitForHandler,
} from '../../support/engine.js';
import { describeUnless, needsRoot } from '../../support/skip.js';

function namespaceIds(pid: number): Record<string, string> {
  return Object.fromEntries(
    ['mnt', 'uts', 'ipc', 'net', 'pid', 'cgroup'].map((ns) => [ns, fs.readlinkSync(`/proc/${pid}/ns/${ns}`)]),
  );
}

function cgroupOf(pid: number): string {
  return fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8');
}

describeUnless(needsRoot(), 'container lifecycle', () => {
  const engine = engineForSuite('life');

  const inspect = async (name: string) => JSON.parse((await engine.gantry(['inspect', name])).stdout)[0];

  it('keeps a detached container running after the CLI exits; ps in a new process sees it', async () => {
    // Long enough to outlive every test of this file that uses it, however slow the machine.
    const run = await engine.gantry(['run', '-d', '--name', 'bg', 'demo', 'sleep', '86400']);
    expect(run.exitCode).toBe(0);
    expect(run.stdout.trim()).toMatch(/^[0-9a-f]{64}$/);
    const ps = await engine.gantry(['ps', '--json']);
    const rows = JSON.parse(ps.stdout) as { Names: string; State: string; Pid: number }[];
    const row = rows.find((r) => r.Names === 'bg')!;
    expect(row.State).toBe('running');
    expect(fs.existsSync(`/proc/${row.Pid}`)).toBe(true);
    expect(fs.readFileSync(`/proc/${row.Pid}/cmdline`, 'utf8')).toBe('sleep\u000086400\u0000');
    // Its parent is the monitor, not a Node process: one small native process per container.
    const state = await inspect('bg');
    const parent = Number(
      fs.readFileSync(`/proc/${state.State.Pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1],
    );
    expect(fs.readFileSync(`/proc/${parent}/comm`, 'utf8').trim()).toBe('gantry-init');
  });

  it("execs into all of the container's namespaces and its cgroup", async () => {
    const pid = (await inspect('bg')).State.Pid as number;
    // A length of sleep of this run's own, to tell its process from another run's.
    const seconds = String(300 + (process.pid % 600));
    const exec = await engine.gantry(['exec', '-d', 'bg', 'sleep', seconds]);
    expect(exec.exitCode).toBe(0);
    // exec -d prints nothing, as docker's; the process is found by its command line.
    expect(exec.stdout).toBe('');
    const execPid = await waitFor(
      async () =>
        fs
          .readdirSync('/proc')
          .filter((entry) => /^\d+$/.test(entry))
          .map(Number)
          .find((candidate) => {
            try {
              return fs.readFileSync(`/proc/${candidate}/cmdline`, 'utf8') === `sleep\u0000${seconds}\u0000`;
            } catch {
              return false;
            }
          }),
      30_000,
      'the exec -d process',
    );
    expect(namespaceIds(execPid)).toEqual(namespaceIds(pid));
    expect(cgroupOf(execPid)).toBe(cgroupOf(pid));
    expect(cgroupOf(pid)).toContain(`/${engine.cgroupParent}/`);
    const inside = await engine.gantry(['exec', 'bg', 'sh', '-c', 'echo $$; hostname; ps | wc -l']);
    const [execShellPid] = inside.stdout.trim().split('\n');
    expect(Number(execShellPid)).toBeGreaterThan(1);
    expect(Number(execShellPid)).toBeLessThan(20);
  });

  it('passes exit codes and options through exec', async () => {
    expect((await engine.gantry(['exec', 'bg', 'sh', '-c', 'exit 3'])).exitCode).toBe(3);
    expect((await engine.gantry(['exec', 'bg', 'no-such'])).exitCode).toBe(127);
    const opts = await engine.gantry([
      'exec',
      '-e',
      'X=1',
      '-w',
      '/tmp',
      '-u',
      '65534',
      'bg',
      'sh',
      '-c',
      'echo $X $(pwd) $(id -u)',
    ]);
    expect(opts.stdout.trim()).toBe('1 /tmp 65534');
    // HOME follows the exec user (nobody's is /nonexistent in the demo image), unless set.
    const home = await engine.gantry(['exec', '-u', 'nobody', 'bg', 'sh', '-c', 'echo $HOME']);
    expect(home.stdout).toBe('/nonexistent\n');
    const setHome = await engine.gantry([
      'exec',
      '-u',
      'nobody',
      '-e',
      'HOME=/x',
      'bg',
      'sh',
      '-c',
      'echo $HOME',
    ]);
    expect(setHome.stdout).toBe('/x\n');
    expect((await engine.gantry(['exec', 'bg', 'sh', '-c', 'echo $HOME'])).stdout).toBe('/root\n');
    const stdin = await engine.gantry(['exec', '-i', 'bg', 'cat'], { input: 'piped\n' });
    expect(stdin.stdout).toBe('piped\n');
  });

  it('stops a process that ignores SIGTERM with SIGKILL after the timeout', async () => {
    await engine.gantry([
      'run',
      '-d',
      '--name',
      'stubborn',
      'demo',
      'sh',
      '-c',
      "trap '' TERM; while true; do sleep 0.1; done",
    ]);
    const started = Date.now();
    const stop = await engine.gantry(['stop', '-t', '2', 'stubborn']);
    const elapsed = Date.now() - started;
    expect(stop.exitCode).toBe(0);
    expect(elapsed).toBeGreaterThanOrEqual(1900);
    const state = (await inspect('stubborn')).State;
    expect(state.Status).toBe('exited');
    expect(state.ExitCode).toBe(137);
  });

  it('stops a process that handles SIGTERM at once, with its own exit code', async () => {
    await engine.gantry([
      'run',
      '-d',
      '--name',
      'polite',
      'demo',
      'sh',
      '-c',
      "trap 'exit 42' TERM; while true; do sleep 0.1; done",
    ]);
    await waitForHandler((await inspect('polite')).State.Pid, 15);
    // -1: no limit (docker), so nothing but the process's own handler can end it: 42, not 137.
    expect((await engine.gantry(['stop', '-t', '-1', 'polite'])).exitCode).toBe(0);
    expect((await inspect('polite')).State.ExitCode).toBe(42);
    expect((await engine.gantry(['wait', 'polite'])).stdout.trim()).toBe('42');
  });

  it('keeps stdout and stderr in the logs, apart, in order', async () => {
    const run = await engine.gantry([
      'run',
      '--name',
      'talker',
      'demo',
      'sh',
      '-c',
      'echo out1; echo err1 >&2; echo out2; printf partial',
    ]);
    expect(run.exitCode).toBe(0);
    const logs = await engine.gantry(['logs', 'talker']);
    expect(logs.stdout).toBe('out1\nout2\npartial');
    expect(logs.stderr).toBe('err1\n');
    const tail = await engine.gantry(['logs', '--tail', '1', 'talker']);
    expect(tail.stdout).toBe('partial');
    const stamped = await engine.gantry(['logs', '-t', 'talker']);
    expect(stamped.stdout.split('\n')[0]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z out1$/);
  });

  it('follows the logs of a running container until it exits', async () => {
    await engine.gantry([
      'run',
      '-d',
      '--name',
      'ticker',
      'demo',
      'sh',
      '-c',
      'for i in 1 2 3; do echo tick $i; sleep 0.3; done',
    ]);
    const follow = await engine.gantry(['logs', '-f', 'ticker']);
    expect(follow.stdout).toBe('tick 1\ntick 2\ntick 3\n');
  });

  it("passes a signal sent to the attached CLI's pid alone on to the container", async () => {
    const child = engine.spawn(
      [
        'run',
        '--name',
        'proxied',
        'demo',
        'sh',
        '-c',
        'trap "echo got-term; exit 5" TERM; while :; do sleep 0.1; done',
      ],
      { stdin: 'ignore' },
    );
    await waitFor(
      async () =>
        (await engine.gantry(['inspect', '-f', '{{.State.Status}}', 'proxied'])).stdout.trim() ===
          'running' || undefined,
      60_000,
      'the container to run',
    );
    await waitForHandler((await inspect('proxied')).State.Pid, 15);
    process.kill(child.pid!, 'SIGTERM'); // this pid only, as a supervisor would
    const result = await child;
    expect(result.exitCode).toBe(5);
    expect(String(result.stdout)).toBe('got-term');
    await engine.gantry(['rm', 'proxied']);
  });

  it('kills with a chosen signal, and restarts', async () => {
    await engine.gantry([
      'run',
      '-d',
      '--name',
      'target',
      'demo',
      'sh',
      '-c',
      "trap 'exit 10' USR1; while true; do sleep 0.1; done",
    ]);
    await waitForHandler((await inspect('target')).State.Pid, 10);
    expect((await engine.gantry(['kill', '-s', 'USR1', 'target'])).exitCode).toBe(0);
    expect((await engine.gantry(['wait', 'target'])).stdout.trim()).toBe('10');
    const restart = await engine.gantry(['restart', 'target']);
    expect(restart.exitCode).toBe(0);
    const state = await inspect('target');
    expect(state.State.Status).toBe('running');
    // As docker: only a restart policy counts; a manual restart does not.
    expect(state.RestartCount).toBe(0);
    expect((await engine.gantry(['kill', 'target'])).exitCode).toBe(0);
    expect((await engine.gantry(['wait', 'target'])).stdout.trim()).toBe('137');
  });

  it('refuses to remove a running container without -f; rm leaves no cgroup or state', async () => {
    const id = (await engine.gantry(['run', '-d', '--name', 'doomed', 'demo', 'sleep', '100'])).stdout.trim();
    const refused = await engine.gantry(['rm', 'doomed']);
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stderr).toContain('container is running');
    expect(refused.stderr).toContain('-f');
    expect(cgroupDirectories(path.join(engine.cgroupParent, id)).length).toBeGreaterThan(0);
    const removed = await engine.gantry(['rm', '-f', 'doomed']);
    expect(removed.exitCode).toBe(0);
    expect(cgroupDirectories(path.join(engine.cgroupParent, id))).toEqual([]);
    expect(fs.existsSync(path.join(engine.root, 'containers', id))).toBe(false);
    expect(fs.existsSync(path.join(engine.root, 'names', 'doomed'))).toBe(false);
    expect((await engine.gantry(['run', '-d', '--name', 'doomed', 'demo', 'true'])).exitCode).toBe(0);
  });

  it('leaves no directory of the cgroup parent it made once the last container under it is gone', async () => {
    // GANTRY_CGROUP_PARENT=x gantry run --rm demo true, with x nested and several runs at once:
    // a run that removes x while another is creating its container under x must not fail it.
    const top = testName(`parent-${Math.random().toString(16).slice(2, 8)}`);
    const env = { ...engine.env, GANTRY_CGROUP_PARENT: `${top}/nested` };
    try {
      for (let round = 0; round < 2; round += 1) {
        const runs = await Promise.all(
          Array.from({ length: 4 }, () => engine.gantry(['run', '--rm', 'demo', 'true'], { env })),
        );
        for (const run of runs) expect(run.exitCode, run.stderr).toBe(0);
        expect(cgroupDirectories(top)).toEqual([]);
      }
      // Held at a gate until its cgroup has been seen: a timed run could end, and its parent go,
      // before a loaded machine gets to the look.
      const gate = fs.mkdtempSync(path.join(engine.root, 'gate-'));
      const detached = await engine.gantry(
        [
          'run',
          '-d',
          '--rm',
          '-v',
          `${gate}:/gate`,
          'demo',
          'sh',
          '-c',
          'until [ -e /gate/go ]; do sleep 0.05; done',
        ],
        { env },
      );
      expect(detached.exitCode, detached.stderr).toBe(0);
      expect(cgroupDirectories(`${top}/nested`).length).toBeGreaterThan(0);
      fs.writeFileSync(path.join(gate, 'go'), '');
      await waitFor(() => cgroupDirectories(top).length === 0, 60_000, "the monitor's cleanup of the parent");
    } finally {
      // Only after the assertions: whatever gantry left of this test's own parent goes.
      const removeTree = (dir: string): void => {
        for (const child of fs.readdirSync(dir, { withFileTypes: true }))
          if (child.isDirectory()) removeTree(path.join(dir, child.name));
        fs.rmdirSync(dir);
      };
      for (const dir of cgroupDirectories(top)) removeTree(dir);
    }
  });

  it('removes --rm containers when they exit, detached too', async () => {
    const id = (await engine.gantry(['run', '-d', '--rm', 'demo', 'sh', '-c', 'sleep 0.2'])).stdout.trim();
    await waitFor(
      () => !fs.existsSync(path.join(engine.root, 'containers', id)),
      60_000,
      "the monitor's cleanup",
    );
    expect(cgroupDirectories(path.join(engine.cgroupParent, id))).toEqual([]);
  });

  it('stops an --rm container cleanly, and its name is free again at once', async () => {
    const id = (
      await engine.gantry(['run', '-d', '--rm', '--name', 'reused', 'demo', 'sleep', '300'])
    ).stdout.trim();
    const stop = await engine.gantry(['stop', '-t', '1', 'reused']);
    expect(stop.exitCode, stop.stderr).toBe(0);
    expect(fs.existsSync(path.join(engine.root, 'containers', id))).toBe(false);
    const again = await engine.gantry(['run', '--rm', '--name', 'reused', 'demo', 'true']);
    expect(again.exitCode, again.stderr).toBe(0);
    const badWorkdir = await engine.gantry(['exec', '-w', '', 'bg', 'true']);
    expect(badWorkdir.exitCode).not.toBe(0);
    expect(badWorkdir.stderr).toContain('must be an absolute path');
  });

  it('wait answers with the exit code of an --rm container that is removed meanwhile', async () => {
    // `wait` stops itself (GANTRY_TRACE_STOP) once it has seen the running container; only then
    // does the container end, and only once its --rm removal is done does `wait` go on: the
    // removal happens meanwhile on every run, however slow the machine.
    const gate = fs.mkdtempSync(path.join(engine.root, 'gate-'));
    const started = await engine.gantry([
      'run',
      '-d',
      '--rm',
      '--name',
      'gone-soon',
      '-v',
      `${gate}:/gate`,
      'demo',
      'sh',
      '-c',
      'while [ ! -e /gate/go ]; do sleep 0.05; done; exit 4',
    ]);
    expect(started.exitCode, started.stderr).toBe(0);
    const id = started.stdout.trim();
    const waiting = engine.spawn(['wait', 'gone-soon'], {
      env: { ...engine.env, GANTRY_TRACE_STOP: 'wait: waiting' },
      stdin: 'ignore',
      stripFinalNewline: false,
    });
    await waitFor(
      () => processState(waiting.pid!) === 'T' || waiting.exitCode !== null,
      60_000,
      '`gantry wait` to stop where it waits',
    );
    expect(waiting.exitCode, 'wait ended before it waited').toBeNull();
    fs.writeFileSync(path.join(gate, 'go'), '');
    await waitFor(() => !fs.existsSync(path.join(engine.root, 'containers', id)), 60_000, 'the --rm removal');
    process.kill(waiting.pid!, 'SIGCONT');
    const waited = await waiting;
    expect(waited.stderr).toBe('');
    expect(String(waited.stdout)).toBe('4\n');
    expect(waited.exitCode).toBe(0);
  });

  it('leaks nothing over 50 create/start/rm cycles', async () => {
    // The engine in this process, as the CLI drives it for create, start -a and rm: without a
    // Node start per command the cycles are cheap, and the engine's own descriptors are counted.
    const { Engine } = await import('../../../source/runtime/containers/engine.js');
    const inProcess = new Engine({
      root: engine.root,
      cgroupParent: engine.cgroupParent,
      cgroupRoot: '/sys/fs/cgroup',
    });
    const cycle = async (): Promise<string> => {
      const record = await inProcess.create({ image: 'demo', command: ['true'] });
      const started = await inProcess.start(record.Id, {
        attach: { stdin: false, tty: false, ownsCleanup: true },
      });
      expect(await started.attached?.exit).toBe(0);
      await inProcess.get(record.Id);
      await inProcess.remove(record.Id);
      return record.Id;
    };
    // One cycle first, so what loads once (modules, the libc binding) is not counted.
    await cycle();
    // Only this engine's mounts: other processes on the host may mount and unmount meanwhile.
    const mountsBefore = mountsUnder(engine.root);
    const fdsBefore = fs.readdirSync('/proc/self/fd').length;
    const ids: string[] = [];
    // Five lanes of ten cycles: one cycle mostly waits (fsyncs, the monitor's start, the
    // container's end), so lanes overlap the waits, and cycles that run side by side as a
    // user's scripts would must leak nothing either.
    await Promise.all(
      Array.from({ length: 5 }, async () => {
        for (let i = 0; i < 10; i++) ids.push(await cycle());
      }),
    );
    expect(ids).toHaveLength(50);
    expect(mountsUnder(engine.root)).toEqual(mountsBefore);
    expect(mountsBefore).toEqual([]);
    expect(fs.readdirSync('/proc/self/fd').length).toBe(fdsBefore);
    const containers = fs.readdirSync(path.join(engine.root, 'containers'));
    expect(ids.filter((id) => containers.includes(id))).toEqual([]);
    expect(ids.filter((id) => fs.existsSync(path.join(engine.root, 'locks', `${id}.lock`)))).toEqual([]);
    const running = JSON.parse((await engine.gantry(['ps', '--json'])).stdout).map(
      (r: { Id: string }) => r.Id,
    );
    for (const dir of cgroupDirectories(engine.cgroupParent)) {
      const children = fs
        .readdirSync(dir, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name);
      expect(children.filter((child) => !running.includes(child))).toEqual([]);
    }
    expect(fs.readdirSync(path.join(engine.root, 'tmp')).length).toBe(0);
  });
});
