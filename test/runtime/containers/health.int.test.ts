/**
 * Health checks on the real kernel, run by the container's own monitor: docker's State.Health
 * (Status, FailingStreak, Log with Start/End/ExitCode/Output), the ps STATUS suffix, the
 * health_status events, the start period, the timeout (the probe's process really goes), the
 * --health-* flags checked as docker checks them, and `healthcheck run` as podman's.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { engineForSuite, testName, waitFor } from '../../support/engine.js';
import { describeUnless, needsRoot } from '../../support/skip.js';
import { collectEvents } from '../limits/support.js';

interface Health {
  Status: string;
  FailingStreak: number;
  Log: { Start: string; End: string; ExitCode: number; Output: string }[];
}

interface Inspected {
  Id: string;
  State: { Status: string; Pid: number; Health?: Health };
  Config: { Healthcheck?: Record<string, unknown> };
}

const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

describeUnless(needsRoot(), 'health checks', () => {
  const engine = engineForSuite('health');
  const inspect = async (name: string): Promise<Inspected> => {
    const result = await engine.gantry(['inspect', name]);
    expect(result.exitCode, result.stderr).toBe(0);
    return (JSON.parse(result.stdout) as Inspected[])[0]!;
  };
  const status = async (name: string): Promise<string> =>
    (await engine.gantry(['ps', '-a', '--format', '{{.Names}}\t{{.Status}}'])).stdout
      .split('\n')
      .find((line) => line.startsWith(`${name}\t`))
      ?.slice(name.length + 1) ?? '';
  const runDetached = async (args: string[]): Promise<string> => {
    const run = await engine.gantry(['run', '-d', ...args]);
    expect(run.exitCode, run.stderr).toBe(0);
    return run.stdout.trim();
  };

  it('refuses bad --health-* flags with what docker accepts', async () => {
    const cases: [string[], string][] = [
      [['--no-healthcheck', '--health-cmd', 'true'], '--no-healthcheck conflicts with --health-* options'],
      [['--health-cmd', 'true', '--health-interval', '-1s'], '--health-interval cannot be negative'],
      [['--health-cmd', 'true', '--health-retries', '-1'], '--health-retries cannot be negative'],
      [
        ['--health-cmd', 'true', '--health-timeout', '10us'],
        'Timeout in Healthcheck cannot be less than 1ms',
      ],
      [
        ['--health-cmd', 'true', '--health-interval', 'often'],
        'invalid argument "often" for "--health-interval"',
      ],
    ];
    for (const [flags, message] of cases) {
      const result = await engine.gantry(['create', ...flags, 'demo', 'true']);
      expect(result.exitCode, flags.join(' ')).toBe(125);
      expect(result.stderr).toContain(message);
    }
    expect((await engine.gantry(['ps', '-aq'])).stdout.trim()).toBe('');
  });

  it('goes from starting to unhealthy to healthy, as docker reports it', async () => {
    const events = await collectEvents(engine);
    try {
      await runDetached([
        '--name',
        'probe',
        '--health-cmd',
        'echo checking; test -e /tmp/ready',
        '--health-interval',
        '200ms',
        '--health-retries',
        '2',
        'demo',
        'sleep',
        '300',
      ]);
      const config = (await inspect('probe')).Config.Healthcheck;
      expect(config).toEqual({
        Test: ['CMD-SHELL', 'echo checking; test -e /tmp/ready'],
        Interval: 200_000_000,
        Timeout: 0,
        StartPeriod: 0,
        Retries: 2,
      });
      const unhealthy = await waitFor(
        async () => {
          const health = (await inspect('probe')).State.Health;
          return health?.Status === 'unhealthy' ? health : undefined;
        },
        60_000,
        'unhealthy',
      );
      expect(unhealthy.FailingStreak).toBeGreaterThanOrEqual(2);
      expect(unhealthy.Log.length).toBeGreaterThanOrEqual(2);
      expect(unhealthy.Log.length).toBeLessThanOrEqual(5);
      for (const entry of unhealthy.Log) {
        expect(entry.ExitCode).toBe(1);
        expect(entry.Output).toBe('checking\n');
        expect(entry.Start).toMatch(RFC3339);
        expect(entry.End).toMatch(RFC3339);
        expect(Date.parse(entry.End)).toBeGreaterThanOrEqual(Date.parse(entry.Start));
      }
      expect(await status('probe')).toMatch(/^Up .* \(unhealthy\)$/);
      const check = await engine.gantry(['healthcheck', 'run', 'probe']);
      expect(check.exitCode).toBe(1);
      expect(check.stdout.trim()).toBe('unhealthy');

      expect((await engine.gantry(['exec', 'probe', 'touch', '/tmp/ready'])).exitCode).toBe(0);
      const healthy = await waitFor(
        async () => {
          const health = (await inspect('probe')).State.Health;
          return health?.Status === 'healthy' ? health : undefined;
        },
        60_000,
        'healthy',
      );
      expect(healthy.FailingStreak).toBe(0);
      expect(healthy.Log.at(-1)).toMatchObject({ ExitCode: 0, Output: 'checking\n' });
      expect(await status('probe')).toMatch(/^Up .* \(healthy\)$/);
      const again = await engine.gantry(['healthcheck', 'run', 'probe']);
      expect(again.exitCode, again.stderr).toBe(0);
      expect(again.stdout).toBe('');

      await events.next((event) => event.name === 'probe' && event.action === 'health_status: unhealthy');
      await events.next((event) => event.name === 'probe' && event.action === 'health_status: healthy');
    } finally {
      await events.stop();
    }
    expect((await engine.gantry(['rm', '-f', 'probe'])).exitCode).toBe(0);
  });

  it('counts no failure within the start period: the status stays starting', async () => {
    await runDetached([
      '--name',
      'slow',
      '--health-cmd',
      'false',
      '--health-interval',
      '100ms',
      '--health-retries',
      '1',
      '--health-start-period',
      '1h',
      'demo',
      'sleep',
      '300',
    ]);
    const health = await waitFor(
      async () => {
        const current = (await inspect('slow')).State.Health;
        return current && current.Log.length >= 3 ? current : undefined;
      },
      60_000,
      'three checks',
    );
    expect(health.Status).toBe('starting');
    expect(health.FailingStreak).toBe(0);
    expect(health.Log.every((entry) => entry.ExitCode === 1)).toBe(true);
    expect(await status('slow')).toMatch(/^Up .* \(health: starting\)$/);
    const check = await engine.gantry(['healthcheck', 'run', 'slow']);
    expect(check.exitCode).toBe(1);
    expect(check.stdout.trim()).toBe('starting');
    expect((await engine.gantry(['rm', '-f', 'slow'])).exitCode).toBe(0);
  });

  it("ends a check past its timeout: exit code -1, docker's output, and its process is killed", async () => {
    const id = await runDetached([
      '--name',
      'stuck',
      '--health-cmd',
      'sleep 1000',
      '--health-interval',
      '100ms',
      '--health-timeout',
      '300ms',
      '--health-retries',
      '1',
      'demo',
      'sleep',
      '300',
    ]);
    const health = await waitFor(
      async () => {
        const current = (await inspect('stuck')).State.Health;
        return current && current.Log.length >= 3 ? current : undefined;
      },
      60_000,
      'three timed-out checks',
    );
    expect(health.Status).toBe('unhealthy');
    for (const entry of health.Log) {
      expect(entry.ExitCode).toBe(-1);
      expect(entry.Output).toBe('Health check exceeded timeout (300ms)');
    }
    // Three probes timed out; at most the one running now is left in the container's cgroup.
    const procs = fs
      .readFileSync(path.join('/sys/fs/cgroup/pids', engine.cgroupParent, id, 'cgroup.procs'), 'utf8')
      .split('\n')
      .filter(Boolean);
    const probes = procs.filter((pid) => {
      try {
        return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8') === 'sleep\u00001000\u0000';
      } catch {
        return false;
      }
    });
    expect(probes.length).toBeLessThanOrEqual(1);
    expect((await engine.gantry(['rm', '-f', 'stuck'])).exitCode).toBe(0);
  });

  it('runs the check as confined as the container, with its environment and none of ours', async () => {
    const report =
      "grep -E '^(Seccomp|NoNewPrivs|CapEff|CapBnd|Uid):' /proc/self/status; echo HOME=$HOME; echo SECRET=$GANTRY_TEST_SECRET";
    const started = await engine.gantry(
      [
        'run',
        '-d',
        '--network',
        'none',
        '--name',
        'confined',
        '-e',
        'HOME=/probe-home',
        '--health-cmd',
        report,
        '--health-interval',
        '100ms',
        'demo',
        'sleep',
        '300',
      ],
      { env: { ...engine.env, GANTRY_TEST_SECRET: 'host-only' } },
    );
    expect(started.exitCode, started.stderr).toBe(0);
    const health = await waitFor(
      async () => {
        const current = (await inspect('confined')).State.Health;
        return current && current.Log.length >= 1 ? current : undefined;
      },
      60_000,
      'a check',
    );
    const exec = await engine.gantry(['exec', 'confined', 'sh', '-c', report]);
    expect(exec.exitCode, exec.stderr).toBe(0);
    expect(health.Log[0]!.Output).toBe(exec.stdout);
    expect(health.Log[0]!.Output).toContain('HOME=/probe-home');
    expect(health.Log[0]!.Output).toContain('SECRET=\n');
    expect(health.Log[0]!.Output).toMatch(/^NoNewPrivs:\s+1$/m);
    expect(health.Status).toBe('healthy');
    expect((await engine.gantry(['rm', '-f', 'confined'])).exitCode).toBe(0);
  });

  it('--no-healthcheck and a container without one: no State.Health, and healthcheck run says so', async () => {
    await runDetached(['--name', 'plain', '--no-healthcheck', 'demo', 'sleep', '300']);
    const plain = await inspect('plain');
    expect(plain.Config.Healthcheck).toEqual({ Test: ['NONE'] });
    expect(plain.State.Health).toBeUndefined();
    expect(await status('plain')).toMatch(/^Up [^(]*$/);
    const check = await engine.gantry(['healthcheck', 'run', 'plain']);
    // Not an engine command: docker's convention of 1 for a failure (the message tells it apart
    // from "unhealthy", which goes to stdout).
    expect(check.exitCode).toBe(1);
    expect(check.stdout).toBe('');
    expect(check.stderr).toContain('container plain has no defined healthcheck');
    const missing = await engine.gantry(['healthcheck', 'run', 'nonesuch']);
    expect(missing.exitCode).not.toBe(0);
    expect(missing.stderr).toContain('nonesuch');
    expect((await engine.gantry(['rm', '-f', 'plain'])).exitCode).toBe(0);
  });

  it("runs the image's HEALTHCHECK, with the flags laid over it field by field", async () => {
    const context = fs.mkdtempSync(path.join(os.tmpdir(), `${testName('health-build')}-`));
    try {
      fs.writeFileSync(
        path.join(context, 'Containerfile'),
        'FROM demo\nHEALTHCHECK --interval=100ms --retries=4 CMD test -e /tmp/image-ready\n',
      );
      const build = await engine.gantry(['build', '-q', '-t', 'checked', context]);
      expect(build.exitCode, build.stderr).toBe(0);
    } finally {
      fs.rmSync(context, { recursive: true, force: true });
    }
    await runDetached(['--name', 'imaged', '--health-retries', '1', 'checked', 'sleep', '300']);
    const config = (await inspect('imaged')).Config.Healthcheck;
    expect(config).toMatchObject({
      Test: ['CMD-SHELL', 'test -e /tmp/image-ready'],
      Interval: 100_000_000,
      Retries: 1,
    });
    const unhealthy = await waitFor(
      async () => {
        const health = (await inspect('imaged')).State.Health;
        return health?.Status === 'unhealthy' ? health : undefined;
      },
      60_000,
      'unhealthy',
    );
    expect(unhealthy.FailingStreak).toBeGreaterThanOrEqual(1);
    expect((await engine.gantry(['exec', 'imaged', 'touch', '/tmp/image-ready'])).exitCode).toBe(0);
    const check = await engine.gantry(['healthcheck', 'run', 'imaged']);
    expect(check.exitCode, check.stderr).toBe(0);
    expect((await inspect('imaged')).State.Health?.Status).toBe('healthy');
    // --no-healthcheck turns the image's off.
    await runDetached(['--name', 'unchecked', '--no-healthcheck', 'checked', 'sleep', '300']);
    expect((await inspect('unchecked')).Config.Healthcheck).toMatchObject({ Test: ['NONE'] });
    expect((await inspect('unchecked')).State.Health).toBeUndefined();
    expect((await engine.gantry(['rm', '-f', 'imaged', 'unchecked'])).exitCode).toBe(0);
  });
});
