/**
 * Damaged and lost container records, performed on the real files of running containers: a FIFO,
 * a directory or a symlink loop where state.json should be, a truncated config.json, a deleted
 * state.json, a stopped monitor. Nothing hangs, errors name the container, the file and the way
 * out, a running container is never deleted for want of a record, and rm -f ends whatever the
 * cgroup and the monitor say is there.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { cgroupDirectories, engineForSuite, waitFor } from '../../support/engine.js';
import { isGone, parentPid, processState } from '../../support/faults.js';
import { describeUnless, needsRoot } from '../../support/skip.js';

/** No command here may hang: a hang fails the test with this instead of the suite's timeout. */
const NO_HANG = { timeout: 60_000 };

describeUnless(needsRoot(), 'damaged container state', () => {
  const engine = engineForSuite('damaged');

  async function runDetached(name: string): Promise<{ id: string; pid: number; monitor: number }> {
    const result = await engine.gantry(['run', '-d', '--name', name, 'demo', 'sleep', '300']);
    expect(result.exitCode, result.stderr).toBe(0);
    const id = result.stdout.trim();
    const pid = JSON.parse((await engine.gantry(['inspect', id])).stdout)[0].State.Pid as number;
    return { id, pid, monitor: parentPid(pid) };
  }

  const stateFile = (id: string) => path.join(engine.root, 'containers', id, 'state.json');

  /** Everything of the container is gone: processes, monitor, cgroups, name, directory. */
  async function expectAllGone(container: { id: string; pid: number; monitor: number }, name: string) {
    await waitFor(() => isGone(container.pid) && isGone(container.monitor), 10_000, 'processes to go');
    expect(cgroupDirectories(path.join(engine.cgroupParent, container.id))).toEqual([]);
    expect(fs.existsSync(path.join(engine.root, 'names', name))).toBe(false);
    expect(fs.existsSync(path.join(engine.root, 'containers', container.id))).toBe(false);
  }

  it('a FIFO in place of state.json hangs neither ps -a nor inspect nor rm -f', async () => {
    const container = await runDetached('fifo-state');
    fs.rmSync(stateFile(container.id));
    execFileSync('mkfifo', [stateFile(container.id)]);
    const ps = await engine.gantry(['ps', '-a'], NO_HANG);
    expect(ps.exitCode).toBe(0);
    expect(ps.stderr).toContain(`skipping container ${container.id.slice(0, 12)}`);
    expect(ps.stderr).toContain(`${stateFile(container.id)}): it is a FIFO, not a regular file`);
    const inspect = await engine.gantry(['inspect', 'fifo-state'], NO_HANG);
    expect(inspect.exitCode).not.toBe(0);
    expect(inspect.stderr).toContain('it is a FIFO');
    expect(inspect.stderr).toContain(`gantry rm -f ${container.id.slice(0, 12)}`);
    const rm = await engine.gantry(['rm', '-f', 'fifo-state'], NO_HANG);
    expect(rm.exitCode, rm.stderr).toBe(0);
    await expectAllGone(container, 'fifo-state');
  });

  it('state.json as a directory or a symlink loop: errors name the container, the file and what to do', async () => {
    for (const [name, damage, what] of [
      ['dir-state', (file: string) => fs.mkdirSync(file), 'it is a directory, not a regular file'],
      [
        'loop-state',
        (file: string) => {
          fs.symlinkSync(`${file}.b`, file);
          fs.symlinkSync(file, `${file}.b`);
        },
        'it is a symbolic link, not a regular file',
      ],
    ] as const) {
      const container = await runDetached(name);
      fs.rmSync(stateFile(container.id));
      damage(stateFile(container.id));
      const inspect = await engine.gantry(['inspect', name], NO_HANG);
      expect(inspect.exitCode).toBe(1);
      expect(inspect.stderr).toContain(
        `the state of container ${container.id.slice(0, 12)} is damaged (${stateFile(container.id)}): ${what}`,
      );
      expect(inspect.stderr).not.toMatch(/^gantry: (EISDIR|ELOOP)/m);
      expect(inspect.stderr).toMatch(/hint: `gantry rm -f [0-9a-f]{12}` ends whatever of it still runs/);
      expect((await engine.gantry(['rm', '-f', name], NO_HANG)).exitCode).toBe(0);
      await expectAllGone(container, name);
    }
  });

  it('a truncated config.json: exec names the container, the file and what writes it again', async () => {
    const container = await runDetached('truncated-spec');
    const spec = path.join(engine.root, 'containers', container.id, 'config.json');
    fs.writeFileSync(spec, fs.readFileSync(spec, 'utf8').slice(0, 50));
    const exec = await engine.gantry(['exec', 'truncated-spec', 'true'], NO_HANG);
    expect(exec.exitCode).toBe(125);
    expect(exec.stderr).toContain(`the spec of container truncated-spec is damaged (${spec})`);
    expect(exec.stderr).toContain('gantry restart truncated-spec');
    // The remedy works: a restart writes the spec again.
    expect((await engine.gantry(['restart', '-t', '1', 'truncated-spec'])).exitCode).toBe(0);
    const again = await engine.gantry(['exec', 'truncated-spec', 'true']);
    expect(again.exitCode, again.stderr).toBe(0);
    expect((await engine.gantry(['rm', '-f', 'truncated-spec'])).exitCode).toBe(0);
  });

  it('a running container whose state.json is deleted is rebuilt from config.json, never deleted', async () => {
    const container = await runDetached('lost-record');
    expect(
      (await engine.gantry(['exec', 'lost-record', 'sh', '-c', 'echo precious > /precious'])).exitCode,
    ).toBe(0);
    fs.rmSync(stateFile(container.id));
    // Older than any create takes: what the old sweeper took for an abandoned create.
    const old = new Date(Date.now() - 3_600_000);
    fs.utimesSync(path.join(engine.root, 'containers', container.id), old, old);
    const ps = await engine.gantry(['ps', '--format', '{{.Names}} {{.State}}']);
    expect(ps.exitCode, ps.stderr).toBe(0);
    expect(ps.stdout).toContain('lost-record running');
    expect(ps.stderr).toContain('lost-record');
    expect(ps.stderr).toContain('rebuilt from its config.json');
    const state = JSON.parse((await engine.gantry(['inspect', 'lost-record'])).stdout)[0].State;
    expect(state.Status).toBe('running');
    expect(state.Pid).toBe(container.pid);
    expect((await engine.gantry(['exec', 'lost-record', 'cat', '/precious'])).stdout).toBe('precious\n');
    // Managed again: stop records its real end, from the monitor (sleep as pid 1 ignores SIGTERM).
    const stop = await engine.gantry(['stop', '-t', '1', 'lost-record']);
    expect(stop.exitCode, stop.stderr).toBe(0);
    const stopped = JSON.parse((await engine.gantry(['inspect', 'lost-record'])).stdout)[0].State;
    expect(stopped.Status).toBe('exited');
    expect(stopped.ExitCode).toBe(137);
    expect(stopped.Error).toBe('');
    expect((await engine.gantry(['rm', 'lost-record'])).exitCode).toBe(0);
    await expectAllGone(container, 'lost-record');
  });

  it('rm -f of a running container with a damaged state.json ends its monitor, process, cgroups and name', async () => {
    const container = await runDetached('garbled');
    fs.writeFileSync(stateFile(container.id), '\u0000garbage{');
    const rm = await engine.gantry(['rm', '-f', 'garbled']);
    expect(rm.exitCode, rm.stderr).toBe(0);
    await expectAllGone(container, 'garbled');
    // The name is free again at once.
    expect((await engine.gantry(['create', '--name', 'garbled', 'demo', 'true'])).exitCode).toBe(0);
    expect((await engine.gantry(['rm', 'garbled'])).exitCode).toBe(0);
  });

  it('a lost record that cannot be rebuilt is reported and kept; rm -f ends everything', async () => {
    const container = await runDetached('beyond-repair');
    fs.rmSync(stateFile(container.id));
    fs.writeFileSync(path.join(engine.root, 'containers', container.id, 'config.json'), '{"ociVers');
    const ps = await engine.gantry(['ps', '-a']);
    expect(ps.exitCode).toBe(0);
    expect(ps.stderr).toContain(`the state of container ${container.id.slice(0, 12)} is missing`);
    expect(ps.stderr).toContain('its processes are still running');
    expect(fs.existsSync(path.join(engine.root, 'containers', container.id, 'upper'))).toBe(true);
    expect(processState(container.pid)).toBe('S');
    expect((await engine.gantry(['rm', '-f', 'beyond-repair'])).exitCode).toBe(0);
    await expectAllGone(container, 'beyond-repair');
  });

  it('stop names a stopped monitor; rm -f ends it', async () => {
    const container = await runDetached('stopped-monitor');
    process.kill(container.monitor, 'SIGSTOP');
    try {
      await waitFor(() => processState(container.monitor) === 'T', 60_000, 'the monitor to stop');
      const stop = await engine.gantry(['stop', '-t', '1', 'stopped-monitor']);
      expect(stop.exitCode).toBe(1);
      expect(stop.stderr).toContain(`its monitor (pid ${container.monitor}) is stopped`);
      expect(stop.stderr).toContain('its process has ended');
      expect(stop.stderr).toContain(`kill -CONT ${container.monitor}`);
      expect(stop.stderr).not.toContain('state D');
      const rm = await engine.gantry(['rm', '-f', 'stopped-monitor']);
      expect(rm.exitCode, rm.stderr).toBe(0);
      await expectAllGone(container, 'stopped-monitor');
    } finally {
      if (!isGone(container.monitor)) process.kill(container.monitor, 'SIGCONT');
    }
  });
});
