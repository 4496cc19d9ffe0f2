/**
 * Restart policies (`--restart`), run by the container's own monitor on the real kernel: docker's
 * counting (RestartCount, on-failure:N), State.Restarting, the events of each run, a stop or kill
 * that is never undone, and every security property of the first start kept by each restart.
 */
import fs from 'node:fs';
import { expect, it } from 'vitest';
import { engineForSuite, waitFor } from '../../support/engine.js';
import { describeUnless, needsRoot } from '../../support/skip.js';
import { collectEvents } from '../limits/support.js';

interface Inspected {
  Id: string;
  RestartCount: number;
  State: {
    Status: string;
    Running: boolean;
    Restarting: boolean;
    OOMKilled: boolean;
    Pid: number;
    ExitCode: number;
    StartedAt: string;
  };
  HostConfig: { RestartPolicy: { Name: string; MaximumRetryCount: number } };
}

function parentOf(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/** What each run prints about itself: the kernel's view of its confinement and its interface. */
const REPORT =
  "grep -E '^(Seccomp|NoNewPrivs|CapBnd|CapEff|CapPrm|Uid|Gid|Groups):' /proc/self/status; " +
  'cat /sys/class/net/eth0/address; readlink /proc/self/ns/net; echo ---';

describeUnless(needsRoot(), 'restart policies', () => {
  const engine = engineForSuite('restart');
  const inspect = async (name: string): Promise<Inspected> => {
    const result = await engine.gantry(['inspect', name]);
    expect(result.exitCode, result.stderr).toBe(0);
    return (JSON.parse(result.stdout) as Inspected[])[0]!;
  };

  it('refuses an unknown policy, a retry count on another policy, and --restart with --rm', async () => {
    const bad = await engine.gantry(['create', '--restart', 'sometimes', 'demo', 'true']);
    expect(bad.exitCode).toBe(125);
    expect(bad.stderr).toContain('invalid restart policy "sometimes"');
    expect(bad.stderr).toContain('on-failure[:max-retries]');
    const count = await engine.gantry(['create', '--restart', 'always:3', 'demo', 'true']);
    expect(count.exitCode).toBe(125);
    expect(count.stderr).toContain("maximum retry count can only be used with 'on-failure'");
    const rm = await engine.gantry(['create', '--rm', '--restart', 'always', 'demo', 'true']);
    expect(rm.exitCode).toBe(125);
    expect(rm.stderr).toContain('conflicting options: --restart and --rm');
    const ps = await engine.gantry(['ps', '-a', '-q']);
    expect(ps.stdout.trim()).toBe('');
  });

  it('on-failure:2 restarts a failing process twice, each run as confined as the first', async () => {
    const events = await collectEvents(engine);
    const run = await engine.gantry([
      'run',
      '-d',
      '--name',
      'fails',
      '--restart',
      'on-failure:2',
      'demo',
      'sh',
      '-c',
      `${REPORT}; exit 3`,
    ]);
    expect(run.exitCode, run.stderr).toBe(0);
    const id = run.stdout.trim();
    await waitFor(async () => (await inspect('fails')).State.Status === 'exited', 60_000, 'the last run');
    const state = await inspect('fails');
    expect(state.RestartCount).toBe(2);
    expect(state.State.ExitCode).toBe(3);
    expect(state.State.Restarting).toBe(false);
    expect(state.HostConfig.RestartPolicy).toEqual({ Name: 'on-failure', MaximumRetryCount: 2 });
    const logs = await engine.gantry(['logs', 'fails']);
    const runs = logs.stdout.split('---\n').filter((part) => part.trim() !== '');
    expect(runs).toHaveLength(3);
    // Each restart is the whole plan again: the same seccomp filter, no_new_privs, capabilities,
    // user and groups, and the same network namespace (its interface kept by the monitor).
    expect(runs[0]).toMatch(/^Seccomp:\s+2$/m);
    expect(runs[0]).toMatch(/^NoNewPrivs:\s+1$/m);
    expect(runs[1]).toBe(runs[0]);
    expect(runs[2]).toBe(runs[0]);
    // docker's events for each run: start, die (exit code 3), three times.
    const mine = await waitFor(() => {
      const list = events.events.filter((e) => e.id === id && (e.action === 'start' || e.action === 'die'));
      return list.length >= 6 ? list : undefined;
    });
    await events.stop();
    expect(mine.map((e) => e.action)).toEqual(['start', 'die', 'start', 'die', 'start', 'die']);
    expect(mine.filter((e) => e.action === 'die').map((e) => e.attributes?.exitCode)).toEqual([
      '3',
      '3',
      '3',
    ]);
  });

  it('on-failure does not restart a process that exits 0', async () => {
    const run = await engine.gantry(['run', '-d', '--name', 'ok', '--restart', 'on-failure', 'demo', 'true']);
    expect(run.exitCode, run.stderr).toBe(0);
    await waitFor(async () => (await inspect('ok')).State.Status === 'exited', 60_000, 'the run');
    const state = await inspect('ok');
    expect(state.RestartCount).toBe(0);
    expect(state.State.ExitCode).toBe(0);
  });

  it('always restarts a process killed from outside, in the same monitor with an empty environment', async () => {
    const run = await engine.gantry([
      'run',
      '-d',
      '--name',
      'crash',
      '--restart',
      'always',
      'demo',
      'sleep',
      '1000',
    ]);
    expect(run.exitCode, run.stderr).toBe(0);
    const first = await inspect('crash');
    const monitor = parentOf(first.State.Pid);
    expect(fs.readFileSync(`/proc/${monitor}/comm`, 'utf8').trim()).toBe('gantry-init');
    // A crash: the kernel kills the process, nobody asked gantry to stop it.
    process.kill(first.State.Pid, 'SIGKILL');
    const second = await waitFor(
      async () => {
        const state = await inspect('crash');
        return state.RestartCount === 1 && state.State.Pid > 0 && state.State.Pid !== first.State.Pid
          ? state
          : undefined;
      },
      60_000,
      'the restart',
    );
    expect(second.State.Status).toBe('running');
    expect(fs.readFileSync(`/proc/${second.State.Pid}/cmdline`, 'utf8')).toBe('sleep\u00001000\u0000');
    expect(parentOf(second.State.Pid)).toBe(monitor);
    expect(fs.readFileSync(`/proc/${monitor}/environ`, 'utf8')).toBe('');
    // The monitor blocks SIGCHLD for its signalfd; the restarted process gets no blocked or
    // ignored signal from it.
    const status = fs.readFileSync(`/proc/${second.State.Pid}/status`, 'utf8');
    expect(status).toMatch(/^SigBlk:\s+0+$/m);
    expect(status).toMatch(/^SigIgn:\s+0+$/m);
    // The restarted process is in a fresh pid namespace of its own, as PID 1.
    expect(fs.readFileSync(`/proc/${second.State.Pid}/status`, 'utf8')).toMatch(/^NSpid:\s+\d+\s+1$/m);
    const ps = await engine.gantry(['ps', '--format', '{{.Names}} {{.Status}}']);
    expect(ps.stdout).toMatch(/^crash Up /m);
  });

  it('a stop is never undone by the policy, nor a kill', async () => {
    const stop = await engine.gantry(['stop', '-t', '1', 'crash']);
    expect(stop.exitCode, stop.stderr).toBe(0);
    const stopped = await inspect('crash');
    expect(stopped.State.Status).toBe('exited');
    expect(stopped.RestartCount).toBe(1);
    const run = await engine.gantry([
      'run',
      '-d',
      '--name',
      'killed',
      '--restart',
      'unless-stopped',
      'demo',
      'sleep',
      '1000',
    ]);
    expect(run.exitCode, run.stderr).toBe(0);
    const kill = await engine.gantry(['kill', 'killed']);
    expect(kill.exitCode, kill.stderr).toBe(0);
    await waitFor(async () => (await inspect('killed')).State.Status === 'exited', 60_000, 'the kill');
    const killed = await inspect('killed');
    expect(killed.RestartCount).toBe(0);
    expect(killed.State.ExitCode).toBe(137);
    // Their monitors are gone: nothing is left to restart them.
    const ps = await engine.gantry(['ps', '-q']);
    expect(ps.stdout.trim()).toBe('');
  });

  it('shows a restart waiting out its delay as docker does, and a stop ends the wait', async () => {
    // Runs that end at once: the back-off doubles from 100 ms, so a wait is soon seen.
    const run = await engine.gantry(['run', '-d', '--name', 'loop', '--restart', 'always', 'demo', 'true']);
    expect(run.exitCode, run.stderr).toBe(0);
    const waiting = await waitFor(
      async () => {
        const state = await inspect('loop');
        return state.State.Restarting && state.RestartCount >= 3 ? state : undefined;
      },
      60_000,
      'a restart waiting out its back-off',
    );
    expect(waiting.State.Status).toBe('restarting');
    expect(waiting.State.Running).toBe(true);
    expect(waiting.State.Pid).toBe(0);
    const ps = await engine.gantry(['ps', '-a', '--format', '{{.Names}} {{.Status}}']);
    expect(ps.stdout).toMatch(/^loop (Restarting \(0\) .* ago|Up .*)$/m);
    const stop = await engine.gantry(['stop', 'loop']);
    expect(stop.exitCode, stop.stderr).toBe(0);
    const stopped = await inspect('loop');
    expect(stopped.State.Status).toBe('exited');
    expect(stopped.State.Restarting).toBe(false);
    // A start by hand begins a new count, as docker's does.
    const start = await engine.gantry(['start', 'loop']);
    expect(start.exitCode, start.stderr).toBe(0);
    expect((await inspect('loop')).RestartCount).toBeLessThan(stopped.RestartCount);
    expect((await engine.gantry(['rm', '-f', 'loop'])).exitCode).toBe(0);
  });

  it('a run the OOM killer ends at once after a restart still reads OOMKilled', async () => {
    // The restarted process runs at once (no exec fifo); the monitor takes the OOM counter's
    // baseline before it exists, so an OOM kill in its first instant still counts.
    const run = await engine.gantry([
      'run',
      '-d',
      '--name',
      'hog',
      '--restart',
      'on-failure:1',
      '--memory',
      '32m',
      'demo',
      'dd',
      'if=/dev/zero',
      'of=/dev/null',
      'bs=64M',
      'count=1',
    ]);
    expect(run.exitCode, run.stderr).toBe(0);
    await waitFor(async () => (await inspect('hog')).State.Status === 'exited', 60_000, 'the last run');
    const state = await inspect('hog');
    expect(state.RestartCount).toBe(1);
    expect(state.State.ExitCode).toBe(137);
    expect(state.State.OOMKilled).toBe(true);
    expect((await engine.gantry(['rm', '-f', 'hog'])).exitCode).toBe(0);
  });
});
