/**
 * Issue 8.1: a process started in a container never gets the caller's fds or terminal. `exec`
 * (with and without -t), attached `run`, `run -it`, `start -a`, `start -ai` and `attach` are run
 * from a real terminal while the process tries TIOCSTI on fds 0-2 and on /dev/tty; the test then
 * reads what the terminal's shell receives as its next input line.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { engineForSuite, GANTRY, waitFor } from '../support/engine.js';
import { describeUnless, needsCommand, needsRoot, skipIf } from '../support/skip.js';
import { attempts, buildAttackTool, runInTerminal } from './support.js';

describeUnless(needsRoot(), 'container stdio is never the caller’s', () => {
  const engine = engineForSuite('sec-stdio');
  let tools = '';

  beforeAll(async () => {
    tools = buildAttackTool();
    const run = await engine.gantry([
      'run',
      '-d',
      '--name',
      'c1',
      '-v',
      `${tools}:/attack:ro`,
      'demo',
      'sleep',
      '1000',
    ]);
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
  });
  afterAll(() => {
    if (tools) fs.rmSync(tools, { recursive: true, force: true });
  });

  it('exec without -t: fds 0-2 are pipes (never the file stdout was redirected to), in a session of its own with no terminal', async () => {
    const out = path.join(engine.root, 'exec-out');
    // A real file as stdout (as `> out` in a shell), not a pipe in front of one.
    const fd = fs.openSync(out, 'w');
    try {
      const child = spawn(process.execPath, [GANTRY, 'exec', 'c1', '/attack/attack', 'fds'], {
        env: { ...process.env, ...engine.env },
        stdio: ['ignore', fd, 'inherit'],
      });
      const code = await new Promise<number>((resolve) =>
        child.on('exit', (status) => resolve(status ?? 128)),
      );
      expect(code).toBe(0);
    } finally {
      fs.closeSync(fd);
    }
    const text = fs.readFileSync(out, 'utf8');
    const seen = attempts(text);
    for (const name of ['fd0', 'fd1', 'fd2']) expect(seen.get(name)).toMatch(/^pipe:\[\d+\]$/);
    expect(text).not.toContain(out);
    const session = /^sid (\d+) pid (\d+)$/m.exec(text);
    expect(session?.[1]).toBe(session?.[2]);
    expect(seen.get('devtty')).toBe('ENXIO');
  });

  it('exec -t: fds 0-2 are a pty of the container’s own devpts', async () => {
    const result = await engine.gantry(['exec', '-t', 'c1', '/attack/attack', 'fds']);
    expect(result.exitCode).toBe(0);
    const seen = attempts(result.stdout);
    for (const name of ['fd0', 'fd1', 'fd2']) expect(seen.get(name)).toMatch(/^\/dev\/pts\/\d+$/);
    const session = /^sid (\d+) pid (\d+)/m.exec(result.stdout);
    expect(session?.[1]).toBe(session?.[2]);
    expect(seen.get('devtty')).toBe('ok');
  });

  it('exec without -t: when the reader of its output goes away (| head), the process gets SIGPIPE', async () => {
    const exec = engine.spawn(['exec', 'c1', 'yes'], { stdin: 'ignore', buffer: false });
    await new Promise<void>((resolve) => exec.stdout!.once('data', () => resolve()));
    exec.stdout!.destroy();
    const result = await exec;
    expect(result.exitCode).toBe(128 + 13);
  });

  it('exec without -t: a signal to the CLI (Ctrl-C, kill) reaches the process, which has its own session', async () => {
    const exec = engine.spawn(['exec', 'c1', 'sleep', '777'], { stdin: 'ignore' });
    await waitFor(
      async () => {
        const ps = await engine.gantry(['exec', 'c1', 'ps', '-o', 'args']);
        return ps.stdout.includes('sleep 777') || undefined;
      },
      60_000,
      'the exec’d sleep to run',
    );
    exec.kill('SIGTERM');
    const result = await exec;
    expect(result.exitCode).toBe(128 + 15);
  });

  const cases: [string, string][] = [
    ['exec', `"${GANTRY}" exec c1 /attack/attack tiocsti 'INJECTED\\n'`],
    ['exec -i', `"${GANTRY}" exec -i c1 /attack/attack tiocsti 'INJECTED\\n' </dev/null`],
    ['exec -it', `"${GANTRY}" exec -it c1 /attack/attack tiocsti 'INJECTED\\n'`],
    ['run', `"${GANTRY}" run --rm -v "$TOOLS:/attack:ro" demo /attack/attack tiocsti 'INJECTED\\n'`],
    ['run -it', `"${GANTRY}" run --rm -it -v "$TOOLS:/attack:ro" demo /attack/attack tiocsti 'INJECTED\\n'`],
    [
      'start -a',
      `"${GANTRY}" create --name started -v "$TOOLS:/attack:ro" demo /attack/attack tiocsti 'INJECTED\\n' >/dev/null && "${GANTRY}" start -a started`,
    ],
    [
      'start -ai of a -t container',
      `"${GANTRY}" create -it --name started-tty -v "$TOOLS:/attack:ro" demo /attack/attack tiocsti 'INJECTED\\n' >/dev/null && "${GANTRY}" start -ai started-tty`,
    ],
    [
      // The process waits for a line on its stdin, so it attacks while attach is attached.
      'attach',
      `"${GANTRY}" run -d -i --name attached -v "$TOOLS:/attack:ro" demo sh -c 'read line; exec /attack/attack tiocsti "INJECTED\\n"' >/dev/null && echo go | "${GANTRY}" attach attached`,
    ],
  ];
  for (const [label, command] of cases) {
    it(`${label} from a terminal: TIOCSTI reaches nothing of the caller's terminal`, async (context) => {
      skipIf(context, needsCommand('script', 'bsdutils'));
      const run = await runInTerminal(command, { ...engine.env, TOOLS: tools, PATH: process.env.PATH ?? '' });
      const seen = attempts(run.output);
      // The attack ran (it reported on every target) ...
      for (const name of ['fd0', 'fd1', 'fd2', 'devtty']) expect(seen.has(name), run.output).toBe(true);
      // ... and whatever it managed, the admin's shell read only what the admin typed.
      expect(run.typedAfterwards, run.output).toBe('CLEAN');
      if (!/-i?t( container)?$/.test(label)) {
        // Without a terminal of its own the process has no tty to push into at all.
        for (const name of ['fd0', 'fd1', 'fd2']) expect(seen.get(name)).toBe('ENOTTY');
        expect(seen.get('devtty')).toBe('ENXIO');
      }
    });
  }
});

describeUnless(needsRoot(), 'a container cannot signal the processes that keep it', () => {
  const engine = engineForSuite('sec-pgrp');

  it('kill(0) and kill(-1) from the container end only the container: the monitor records the status', async () => {
    // Before the init had a session of its own it shared the helper's process group, and
    // `kill -9 0` took the monitor down with it ("lost the connection to the container's monitor").
    // PID 1 of the container is immune to the signal inside its namespace; the inner shell is not.
    // kill(-1) spares the caller and PID 1: a background sleep is what it can reach.
    const cases = [
      { target: '0', script: 'sh -c "kill -9 0"; echo inner=$?; exit 7', stdout: 'inner=137\n' },
      {
        target: '-1',
        script: 'sleep 1000 & sh -c "kill -9 -1"; echo inner=$?; wait $!; echo sleep=$?; exit 7',
        stdout: 'inner=0\nsleep=137\n',
      },
    ];
    for (const { target, script, stdout } of cases) {
      const attached = await engine.gantry(['run', '--name', `pgrp${target}`, 'demo', 'sh', '-c', script]);
      expect(attached.stdout).toBe(stdout);
      expect(attached.stderr).not.toMatch(/monitor|connection/);
      expect(attached.exitCode).toBe(7);
      const state = JSON.parse((await engine.gantry(['inspect', `pgrp${target}`])).stdout)[0].State;
      expect(state).toMatchObject({ Status: 'exited', ExitCode: 7, Error: '' });
      const detached = (await engine.gantry(['run', '-d', 'demo', 'sh', '-c', script])).stdout.trim();
      expect(await engine.gantry(['wait', detached])).toMatchObject({ stdout: '7\n' });
      const after = JSON.parse((await engine.gantry(['inspect', detached])).stdout)[0].State;
      expect(after).toMatchObject({ Status: 'exited', ExitCode: 7, Error: '' });
    }
  });
});
