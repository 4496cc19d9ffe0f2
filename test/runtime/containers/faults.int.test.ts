/** Bad input and faults: clear errors, nothing half-made, and state that recovers from kill -9. */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { cgroupDirectories, engineForSuite, GANTRY, waitFor } from '../../support/engine.js';
import { describeUnless, needsRoot, skipIf } from '../../support/skip.js';

describeUnless(needsRoot(), 'bad input and faults', () => {
  const engine = engineForSuite('faults');

  const containerDirs = () => fs.readdirSync(path.join(engine.root, 'containers'));

  /** SIGKILLs a container's monitor (the parent of its init) and waits until it is gone. */
  async function killMonitor(id: string): Promise<{ Pid: number }> {
    const state = JSON.parse((await engine.gantry(['inspect', id])).stdout)[0].State as { Pid: number };
    const monitor = Number(fs.readFileSync(`/proc/${state.Pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
    process.kill(monitor, 'SIGKILL');
    await waitFor(
      () =>
        !fs.existsSync(`/proc/${monitor}/stat`) ||
        fs.readFileSync(`/proc/${monitor}/stat`, 'utf8').includes(') Z'),
      60_000,
      'monitor death',
    );
    return state;
  }

  it('names an unknown image or container and says where to look', async () => {
    // --pull never: the default would try to pull it (run-pull.int.test.ts covers that).
    const image = await engine.gantry(['run', '--rm', '--pull', 'never', 'no-such-image', 'true']);
    expect(image.exitCode).toBe(125);
    expect(image.stderr).toContain('No such image: no-such-image:latest');
    expect(image.stderr).toContain('gantry pull');
    for (const command of [
      ['stop', 'ghost'],
      ['rm', 'ghost'],
      ['logs', 'ghost'],
      ['inspect', 'ghost'],
      ['exec', 'ghost', 'true'],
      ['start', 'ghost'],
    ]) {
      const result = await engine.gantry(command);
      expect(result.exitCode, command.join(' ')).not.toBe(0);
      expect(result.stderr, command.join(' ')).toMatch(/no such (container|object): ghost/);
    }
  });

  it('refuses a name in use, and leaves nothing of the refused container', async () => {
    await engine.gantry(['create', '--name', 'taken', 'demo', 'true']);
    const before = containerDirs();
    const again = await engine.gantry(['create', '--name', 'taken', 'demo', 'true']);
    expect(again.exitCode).toBe(125);
    expect(again.stderr).toContain('"/taken" is already in use');
    expect(containerDirs()).toEqual(before);
    await engine.gantry(['rm', 'taken']);
  });

  it('rejects invalid flag values with what is accepted, before anything is made', async () => {
    const before = containerDirs();
    const cases: [string[], RegExp][] = [
      [['run', '--bogus', 'demo'], /unknown flag: --bogus/],
      [['run', '-Z', 'demo'], /unknown shorthand flag: 'Z'/],
      [['run', '--name', '-bad name', 'demo', 'true'], /invalid container name/],
      // docker's rule: `relative:/x` names a volume; a path with a slash that is not absolute is refused.
      [
        ['run', '-v', 'rel/dir:/x', 'demo', 'true'],
        /invalid characters for a local volume name.*use absolute path/,
      ],
      [['run', '-v', '/tmp:/x:rx', 'demo', 'true'], /invalid mode: rx[\s\S]*MODES: ro\|rw/],
      [['run', '--net', 'bridge0', 'demo', 'true'], /network bridge0 not found/],
      [['run', '--net', 'no spaces', 'demo', 'true'], /accepted are bridge \(the default\), none, host/],
      [['run', '-p', '80:80:80:80', 'demo', 'true'], /IPv6 host addresses are not supported/],
      [['run', '-p', '70000:80', 'demo', 'true'], /not a valid host port/],
      [['run', '--net', 'host', '-p', '80', 'demo', 'true'], /-p cannot be used with --network host/],
      [['run', '--ulimit', 'files=1', 'demo', 'true'], /NAME=SOFT\[:HARD\]/],
      [['run', '--cap-add', 'FLY', 'demo', 'true'], /unknown capability "FLY"/],
      [['run', '-w', 'relative', 'demo', 'true'], /must be an absolute path/],
      // Node 20 would take --env-file as its own (and exit 9) without the bin's `--`.
      [
        ['run', '--env-file', '/nonexistent/env', 'demo', 'true'],
        /--env-file \/nonexistent\/env: no such file/,
      ],
      [['run', '--env-file', '/tmp', 'demo', 'true'], /--env-file \/tmp: it is a directory/],
      [['run', '--stop-signal', 'FOO', 'demo', 'true'], /invalid signal "FOO"/],
      [['create', '--pids-limit', '5000000', 'demo', 'true'], /above the kernel's maximum of 4194304/],
      [['stop', '-t', 'soon', 'x'], /expected a number/],
      [['stop', '-t', '-2', 'x'], /invalid --timeout -2: .* or -1 to wait for ever/],
      [['kill', '-s', 'SIGNOPE', 'x'], /invalid signal "SIGNOPE"/],
      [['run'], /requires at least 1 argument/],
    ];
    for (const [args, message] of cases) {
      const result = await engine.gantry(args);
      expect(result.exitCode, args.join(' ')).not.toBe(0);
      expect(result.stderr, args.join(' ')).toMatch(message);
    }
    expect(containerDirs()).toEqual(before);
  });

  it('reports a damaged state file and goes on; rm -f removes it', async () => {
    const id = (await engine.gantry(['create', '--name', 'damaged', 'demo', 'true'])).stdout.trim();
    await engine.gantry(['create', '--name', 'healthy', 'demo', 'true']);
    fs.writeFileSync(path.join(engine.root, 'containers', id, 'state.json'), '{"Id": "trunc');
    const ps = await engine.gantry(['ps', '-a', '--format', '{{.Names}}']);
    expect(ps.exitCode).toBe(0);
    expect(ps.stdout).toContain('healthy');
    expect(ps.stderr).toContain(`skipping container ${id.slice(0, 12)}`);
    expect(ps.stderr).toContain('damaged');
    const inspect = await engine.gantry(['inspect', id]);
    expect(inspect.exitCode).not.toBe(0);
    expect(inspect.stderr).toContain('is damaged');
    expect((await engine.gantry(['rm', '-f', id])).exitCode).toBe(0);
    expect(containerDirs()).not.toContain(id);
    await engine.gantry(['rm', 'healthy']);
  });

  it('recovers from kill -9 of the CLI at any point of a start', async () => {
    for (const delay of [20, 45, 70, 95, 120, 150, 200]) {
      // Long enough to outlast every look below on a loaded machine: a running row is read again.
      const child = engine.spawn(['run', '-d', '--name', `k${delay}`, 'demo', 'sleep', '600'], {
        stdin: 'ignore',
      });
      await new Promise((resolve) => setTimeout(resolve, delay));
      child.kill('SIGKILL');
      await child;
    }
    // Every container is either running properly or stopped, none half-started; a new CLI
    // reconciles whatever the killed ones left.
    const ps = JSON.parse((await engine.gantry(['ps', '-a', '--json'])).stdout) as {
      Names: string;
      State: string;
      Id: string;
    }[];
    for (const row of ps.filter((r) => r.Names.startsWith('k'))) {
      expect(['created', 'running', 'exited']).toContain(row.State);
      expect(fs.existsSync(path.join(engine.root, 'containers', row.Id, 'exec.fifo')), row.Names).toBe(false);
      if (row.State === 'running') {
        const pid = JSON.parse((await engine.gantry(['inspect', row.Id])).stdout)[0].State.Pid;
        expect(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toBe('sleep\u0000600\u0000');
      }
    }
    for (const row of ps.filter((r) => r.Names.startsWith('k')))
      expect((await engine.gantry(['rm', '-f', row.Id])).exitCode).toBe(0);
    for (const dir of cgroupDirectories(engine.cgroupParent)) {
      const left = fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory());
      expect(left.map((e) => e.name)).toEqual([]);
    }
  });

  it('marks a container whose monitor was killed as exited, and ends what it ran', async () => {
    const id = (await engine.gantry(['run', '-d', '--name', 'orphan', 'demo', 'sleep', '300'])).stdout.trim();
    const state = await killMonitor(id);
    const after = JSON.parse((await engine.gantry(['inspect', id])).stdout)[0].State;
    expect(after.Status).toBe('exited');
    expect(after.Error).toContain('monitor');
    await waitFor(
      () =>
        !fs.existsSync(`/proc/${state.Pid}`) ||
        fs.readFileSync(`/proc/${state.Pid}/stat`, 'utf8').includes(') Z'),
      60_000,
      'container end',
    );
    expect(cgroupDirectories(path.join(engine.cgroupParent, id))).toEqual([]);
    await engine.gantry(['rm', id]);
  });

  it('ends a paused container whose monitor was killed, without holding up ps for the others', async () => {
    const other = (
      await engine.gantry(['run', '-d', '--name', 'bystander', 'demo', 'sleep', '300'])
    ).stdout.trim();
    const id = (
      await engine.gantry(['run', '-d', '--name', 'frozen-orphan', 'demo', 'sleep', '300'])
    ).stdout.trim();
    expect((await engine.gantry(['pause', id])).exitCode).toBe(0);
    await killMonitor(id);
    // A ps held up by the frozen orphan would never end: the test's timeout says so, no clock.
    const ps = await engine.gantry(['ps', '-a', '--format', '{{.Names}} {{.State}}']);
    expect(ps.exitCode, ps.stderr).toBe(0);
    expect(ps.stdout).toContain('frozen-orphan exited');
    expect(ps.stdout).toContain('bystander running');
    expect(cgroupDirectories(path.join(engine.cgroupParent, id))).toEqual([]);
    await engine.gantry(['rm', '-f', id, other]);
  });

  it('stops and removes a container left frozen by a pause that was cut short', async (context) => {
    const id = (
      await engine.gantry(['run', '-d', '--name', 'half-paused', 'demo', 'sleep', '300'])
    ).stdout.trim();
    // As a pause killed between freezing and saving leaves it: frozen, the record says running.
    // v1 freezes through freezer.state, v2 through cgroup.freeze.
    const dirs = cgroupDirectories(path.join(engine.cgroupParent, id));
    const v1 = dirs.find((dir) => fs.existsSync(path.join(dir, 'freezer.state')));
    const v2 = dirs.find((dir) => fs.existsSync(path.join(dir, 'cgroup.freeze')));
    if (!v1 && !v2) {
      await engine.gantry(['rm', '-f', id]);
      skipIf(context, 'this host mounts no freezer (no freezer.state, no cgroup.freeze)');
    }
    if (v1) fs.writeFileSync(path.join(v1, 'freezer.state'), 'FROZEN');
    else fs.writeFileSync(path.join(v2 as string, 'cgroup.freeze'), '1');
    const stop = await engine.gantry(['stop', '-t', '1', id]);
    expect(stop.exitCode, stop.stderr).toBe(0);
    expect(JSON.parse((await engine.gantry(['inspect', id])).stdout)[0].State.Status).toBe('exited');
    expect((await engine.gantry(['rm', id])).exitCode).toBe(0);
    expect(cgroupDirectories(path.join(engine.cgroupParent, id))).toEqual([]);
  });

  it('fails create, run -d and start with the reason when the kernel refuses a limit or a capability', async () => {
    // Above fs.nr_open, which not even root may pass: setrlimit fails before the container is created.
    const ulimit = ['--ulimit', 'nofile=2000000000:2000000000'];
    for (const args of [
      ['run', '--rm', ...ulimit, 'demo', 'true'],
      ['run', '-d', '--rm', ...ulimit, 'demo', 'true'],
    ]) {
      const result = await engine.gantry(args);
      expect(result.exitCode, args.join(' ')).toBe(125);
      expect(result.stderr, args.join(' ')).toMatch(/setrlimit resource 7 to 2000000000:2000000000: EPERM/);
    }
    const created = await engine.gantry(['create', '--name', 'too-many-files', ...ulimit, 'demo', 'true']);
    expect(created.exitCode).toBe(0);
    const started = await engine.gantry(['start', 'too-many-files']);
    expect(started.exitCode).not.toBe(0);
    expect(started.stderr).toContain('setrlimit');
    await engine.gantry(['rm', '-f', 'too-many-files']);
  });

  it('ends quietly with 141 when the reader of its output goes away (| head)', async () => {
    // The read end is closed before gantry writes, so every write fails with EPIPE.
    const child = spawn(process.execPath, [GANTRY, 'image', 'tree', 'demo', '--json'], {
      env: { ...process.env, ...engine.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(141);
  });
});
