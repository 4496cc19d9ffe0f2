/**
 * Issue 8.2: the process `gantry exec` sends into a container is out of the container's reach
 * until it execs. The helper is stopped at a named point (GANTRY_TEST_HELPER_PAUSE) while a
 * hostile process in the same container goes after it through /proc: its binary
 * (/proc/PID/exe: chmod, write), its environment (the CLI's, which holds a secret), its memory.
 * The exec uses a copy of the helper, so a failure here breaks that copy, not the build.
 */
import { execa } from 'execa';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { engineForSuite, HELPER, testName, waitFor, type RunResult } from '../support/engine.js';
import { describeUnless, needsRoot } from '../support/skip.js';
import { attempts, buildAttackTool } from './support.js';

const SECRET = `gantry-secret-${crypto.randomBytes(8).toString('hex')}`;
/** What a process out of reach answers to every attempt on it through /proc. */
const DENIED = new Set(['EACCES', 'EPERM']);

interface PausedExec {
  /** The helper's process as the container sees it, and as the host does. */
  nsPid: number;
  hostPid: number;
  release(): Promise<RunResult>;
}

function sha256(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

function parentOf(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

describeUnless(needsRoot(), 'the exec helper is out of the container’s reach', () => {
  const engine = engineForSuite('sec-helper');
  let tools = '';
  let helperDir = '';
  let helperCopy = '';

  beforeAll(async () => {
    tools = buildAttackTool();
    helperDir = fs.mkdtempSync(path.join(os.tmpdir(), `${testName('helper')}-`));
    helperCopy = path.join(helperDir, 'gantry-init');
    fs.copyFileSync(HELPER, helperCopy);
    fs.chmodSync(helperCopy, 0o755);
    for (const [name, extra] of [
      ['c1', []],
      ['ptracer', ['--cap-add', 'SYS_PTRACE']],
    ] as const) {
      const run = await engine.gantry([
        'run',
        '-d',
        '--name',
        name,
        ...extra,
        '-v',
        `${tools}:/attack:ro`,
        'demo',
        'sleep',
        '1000',
      ]);
      expect(run.exitCode, run.stderr).toBe(0);
    }
  });
  afterAll(() => {
    for (const dir of [tools, helperDir]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Starts `gantry ARGS` (helper copy, a secret in the CLI's environment) and returns once the
   * helper has stopped at `point`. */
  async function paused(point: string, args: string[]): Promise<PausedExec> {
    const dir = fs.mkdtempSync(path.join(engine.root, 'pause-'));
    for (const fifo of ['ready', 'go']) await execa('mkfifo', [path.join(dir, fifo)]);
    // Opened read-write and non-blocking: never waits for the other side.
    const flags = fs.constants.O_RDWR | fs.constants.O_NONBLOCK;
    const ready = fs.openSync(path.join(dir, 'ready'), flags);
    const go = fs.openSync(path.join(dir, 'go'), flags);
    const exec = engine.spawn(args, {
      env: {
        ...engine.env,
        GANTRY_HELPER: helperCopy,
        GANTRY_TEST_HELPER_PAUSE: `${point}:${dir}`,
        GANTRY_TEST_SECRET: SECRET,
      },
      stdin: 'ignore',
    });
    let text = '';
    const line = await waitFor(
      () => {
        const buffer = Buffer.alloc(256);
        try {
          text += buffer.toString('utf8', 0, fs.readSync(ready, buffer));
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
        }
        return text.includes('\n') ? text : undefined;
      },
      60_000,
      `the helper to stop at ${point}`,
    );
    const [reported, nsPid, hostPid] = line.trim().split(' ');
    expect(reported).toBe(point);
    return {
      nsPid: Number(nsPid),
      hostPid: Number(hostPid),
      release: async () => {
        fs.writeSync(go, 'x');
        const result = await exec;
        fs.closeSync(ready);
        fs.closeSync(go);
        return {
          stdout: String(result.stdout ?? ''),
          stderr: String(result.stderr ?? ''),
          exitCode: result.exitCode ?? 128,
        };
      },
    };
  }

  async function attack(container: string, pid: number, user?: string) {
    const result = await engine.gantry([
      'exec',
      ...(user ? ['-u', user] : []),
      container,
      '/attack/attack',
      'proc',
      String(pid),
    ]);
    expect(result.exitCode, result.stderr).toBe(0);
    return { seen: attempts(result.stdout), output: result.stdout };
  }

  it('the attack works on a process within reach (control: the container’s own init)', async () => {
    const { seen, output } = await attack('c1', 1);
    expect(seen.get('exe-readlink')).toBe('ok');
    expect(seen.get('environ-read')).toBe('ok');
    expect(output).toContain('PATH=');
  });

  it('while joining: /proc/PID/exe, environ, mem, cwd, root and fds of the helper are all refused', async () => {
    const modeBefore = fs.statSync(helperCopy).mode;
    const hashBefore = sha256(helperCopy);
    const stopped = await paused('joined', ['exec', 'c1', 'true']);
    try {
      // Seen from the host: it runs from a sealed memfd, its relay too, and neither holds any
      // of the CLI's environment.
      const relay = parentOf(stopped.hostPid);
      for (const pid of [stopped.hostPid, relay]) {
        expect(fs.readlinkSync(`/proc/${pid}/exe`)).toMatch(/^\/memfd:gantry-init/);
        expect(fs.readFileSync(`/proc/${pid}/environ`).length).toBe(0);
      }
      const { seen, output } = await attack('c1', stopped.nsPid);
      for (const name of [
        'exe-readlink',
        'exe-open-path',
        'exe-open-read',
        'environ-open',
        'mem-open',
        'cwd-readlink',
        'root-open',
        'fd-open',
      ])
        expect(DENIED.has(seen.get(name) ?? 'missing'), `${name}: ${output}`).toBe(true);
      expect(output).not.toContain(SECRET);
    } finally {
      const result = await stopped.release();
      expect(result.exitCode, result.stderr).toBe(0);
    }
    expect(fs.statSync(helperCopy).mode).toBe(modeBefore);
    expect(sha256(helperCopy)).toBe(hashBefore);
  });

  it('after taking the container’s user: a process of that same user still cannot reach it', async () => {
    const stopped = await paused('prepared', ['exec', '-u', '1000', 'c1', 'true']);
    try {
      const { seen, output } = await attack('c1', stopped.nsPid, '1000');
      for (const name of ['exe-readlink', 'exe-open-path', 'environ-open', 'mem-open', 'fd-open'])
        expect(DENIED.has(seen.get(name) ?? 'missing'), `${name}: ${output}`).toBe(true);
    } finally {
      const result = await stopped.release();
      expect(result.exitCode, result.stderr).toBe(0);
    }
  });

  it('with CAP_SYS_PTRACE (which overrides non-dumpable) the binary is a sealed copy and the environment empty', async () => {
    const modeBefore = fs.statSync(helperCopy).mode;
    const hashBefore = sha256(helperCopy);
    const stopped = await paused('joined', ['exec', 'ptracer', 'true']);
    try {
      const { seen, output } = await attack('ptracer', stopped.nsPid);
      // The handle is real this time ...
      expect(seen.get('exe-open-path'), output).toBe('ok');
      expect(output).toMatch(/^exe-target \/memfd:gantry-init/m);
      // ... but it is not the host's file, and the copy cannot be changed.
      expect(seen.get('exe-write') ?? seen.get('exe-open-write'), output).not.toBe('ok');
      expect(seen.get('environ-read'), output).toBe('ok');
      expect(output).not.toContain(SECRET);
      expect(output).not.toContain('environ-data-begin');
    } finally {
      const result = await stopped.release();
      expect(result.exitCode, result.stderr).toBe(0);
    }
    expect(fs.statSync(helperCopy).mode).toBe(modeBefore);
    expect(sha256(helperCopy)).toBe(hashBefore);
  });

  it('the exec’d process gets the container’s environment only, never the CLI’s', async () => {
    const result = await engine.gantry(['exec', 'c1', 'env'], {
      env: { ...engine.env, GANTRY_TEST_SECRET: SECRET },
    });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('PATH=');
    expect(result.stdout).not.toContain(SECRET);
  });

  it('a new container’s init runs from a sealed copy with no environment until its exec; its monitor keeps none', async () => {
    const init = await paused('init', ['run', '-d', '--name', 'starting', 'demo', 'sleep', '1000']);
    let monitor = 0;
    try {
      expect(fs.readlinkSync(`/proc/${init.hostPid}/exe`)).toMatch(/^\/memfd:gantry-init/);
      expect(fs.readFileSync(`/proc/${init.hostPid}/environ`).length).toBe(0);
      // The monitor stays on the host's binary (nothing of it is reachable from the container:
      // it is outside all of its namespaces) and holds no environment either.
      monitor = parentOf(init.hostPid);
      expect(fs.readFileSync(`/proc/${monitor}/environ`).length).toBe(0);
    } finally {
      const result = await init.release();
      expect(result.exitCode, result.stderr).toBe(0);
    }
    const inspect = JSON.parse((await engine.gantry(['inspect', 'starting'])).stdout) as [
      { State: { Pid: number } },
    ];
    expect(inspect[0].State.Pid).toBe(init.hostPid);
    expect(fs.readFileSync(`/proc/${init.hostPid}/environ`, 'utf8')).not.toContain(SECRET);
  });

  it('a container joining another’s pid namespace (--pid container:, a kube pod): its init is out of that container’s reach until its exec', async () => {
    // The new container's init is cloned into c1's pid namespace, so c1 sees it from the start
    // of its setup: the monitor then runs from the sealed copy itself (no re-exec in sight).
    const init = await paused('init', [
      'run',
      '-d',
      '--name',
      'joiner',
      '--pid',
      'container:c1',
      'demo',
      'sleep',
      '1000',
    ]);
    try {
      for (const pid of [init.hostPid, parentOf(init.hostPid)]) {
        expect(fs.readlinkSync(`/proc/${pid}/exe`)).toMatch(/^\/memfd:gantry-init/);
        expect(fs.readFileSync(`/proc/${pid}/environ`).length).toBe(0);
      }
      const { seen, output } = await attack('c1', init.nsPid);
      for (const name of [
        'exe-readlink',
        'exe-open-path',
        'exe-open-read',
        'environ-open',
        'mem-open',
        'cwd-readlink',
        'root-open',
        'fd-open',
        'ptrace',
      ])
        expect(DENIED.has(seen.get(name) ?? 'missing'), `${name}: ${output}`).toBe(true);
      expect(output).not.toContain(SECRET);
    } finally {
      const result = await init.release();
      expect(result.exitCode, result.stderr).toBe(0);
    }
    // Control: once it has exec'd, the same attack from c1 reaches the container's process.
    const { seen, output } = await attack('c1', init.nsPid);
    expect(seen.get('environ-read'), output).toBe('ok');
    expect(output).not.toContain(SECRET);
  });
});
