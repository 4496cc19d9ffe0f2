/**
 * Container processes start with every signal at its default and none blocked, whatever the
 * Node process that launched the helper ignores (it ignores SIGPIPE). Without that, the everyday
 * `yes | head` never ends: `yes` gets EPIPE instead of dying and spins for ever. Every way a
 * process of a container is started is tried: run, run -t, exec, exec -t, a build RUN step, a
 * health check, --init, a restart by the restart policy, --userns=auto and a kube pod's container
 * (gantry-oci has its own case in test/runtime/oci/gantry-oci.int.test.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { engineForSuite, testName, waitFor } from '../../support/engine.js';
import { describeUnless, needsRoot } from '../../support/skip.js';
import { usernsBase } from '../../support/userns.js';

// Subordinate id files of the test's own for --userns=auto (the host's are never touched).
const base = usernsBase('signals-userns');

/** Prints the process's ignored and blocked signal masks, then runs a producer into head. */
const PROBE = "grep -E '^Sig(Ign|Blk)' /proc/self/status; yes 0123456789 | head -n 100000 | wc -l";

function expectDefaults(output: string): void {
  expect(output).toMatch(/SigIgn:\s+0000000000000000/);
  expect(output).toMatch(/SigBlk:\s+0000000000000000/);
  // head took its lines and yes ended on SIGPIPE; the pipeline finished.
  expect(output).toMatch(/^\s*100000\s*$/m);
}

/** How many times the probe's three lines appear in `output`, each run with the defaults. */
function probeRuns(output: string): number {
  const ignored = output.match(/^SigIgn:\s+\S+$/gm) ?? [];
  expect(
    ignored.every((line) => /\s0{16}$/.test(line)),
    output,
  ).toBe(true);
  const blocked = output.match(/^SigBlk:\s+\S+$/gm) ?? [];
  expect(
    blocked.every((line) => /\s0{16}$/.test(line)),
    output,
  ).toBe(true);
  const counted = output.match(/^\s*100000\s*$/gm) ?? [];
  expect(ignored.length, output).toBe(counted.length);
  return counted.length;
}

interface Inspected {
  RestartCount: number;
  State: { Status: string; ExitCode: number; Health?: { Log: { ExitCode: number; Output: string }[] } };
}

describeUnless(needsRoot(), 'signal dispositions of container processes', () => {
  const engine = engineForSuite('signals');
  let temp: string;

  beforeAll(() => {
    temp = fs.mkdtempSync(path.join(os.tmpdir(), `${testName('signals')}-`));
  });
  afterAll(() => {
    fs.rmSync(temp, { recursive: true, force: true });
    fs.rmSync(base, { recursive: true, force: true });
  });
  const inspect = async (name: string): Promise<Inspected> => {
    const result = await engine.gantry(['inspect', name]);
    expect(result.exitCode, result.stderr).toBe(0);
    return (JSON.parse(result.stdout) as Inspected[])[0]!;
  };

  it('run: nothing ignored or blocked, and `yes | head` ends with status 0', async () => {
    const result = await engine.gantry(['run', '--rm', 'demo', 'sh', '-c', PROBE]);
    expect(result.exitCode, result.stderr).toBe(0);
    expectDefaults(result.stdout);
  });

  it('run -t: the same on a terminal', async () => {
    const result = await engine.gantry(['run', '--rm', '-t', 'demo', 'sh', '-c', PROBE]);
    expect(result.exitCode, result.stderr).toBe(0);
    expectDefaults(result.stdout);
  });

  it('exec and exec -t: the same for a process joining a running container', async () => {
    const id = (await engine.gantry(['run', '-d', 'demo', 'sleep', '300'])).stdout.trim();
    for (const flags of [[], ['-t']]) {
      const result = await engine.gantry(['exec', ...flags, id, 'sh', '-c', PROBE]);
      expect(result.exitCode, result.stderr).toBe(0);
      expectDefaults(result.stdout);
    }
    // The container's init too (a detached run).
    const init = await engine.gantry(['exec', id, 'grep', '-E', '^Sig(Ign|Blk)', '/proc/1/status']);
    expect(init.stdout).toMatch(/SigIgn:\s+0000000000000000/);
    await engine.gantry(['rm', '-f', id]);
  });

  it('build: a RUN step gets the defaults too', async () => {
    const context = path.join(temp, 'build');
    fs.mkdirSync(context);
    fs.writeFileSync(path.join(context, 'Containerfile'), `FROM demo\nRUN { ${PROBE}; } > /probe.txt\n`);
    const built = await engine.gantry(['build', '-q', '-t', 'signals-probe', context]);
    expect(built.exitCode, built.stderr).toBe(0);
    const result = await engine.gantry(['run', '--rm', 'signals-probe', 'cat', '/probe.txt']);
    expectDefaults(result.stdout);
  });

  it('a health check: the probe gets the defaults too', async () => {
    const run = await engine.gantry([
      'run',
      '-d',
      '--name',
      'sig-health',
      '--health-cmd',
      PROBE,
      '--health-interval',
      '1s',
      'demo',
      'sleep',
      '1000',
    ]);
    expect(run.exitCode, run.stderr).toBe(0);
    // A pipeline that never ended would be cut by the check's timeout (30 s): exit code -1.
    const log = await waitFor(
      async () => {
        const entries = (await inspect('sig-health')).State.Health?.Log ?? [];
        return entries.length > 0 ? entries[0] : undefined;
      },
      120_000,
      'the first health check',
    );
    expect(log.ExitCode, log.Output).toBe(0);
    expectDefaults(log.Output);
    expect((await engine.gantry(['rm', '-f', 'sig-health'])).exitCode).toBe(0);
  });

  it('--init: the command under docker-init gets the defaults', async () => {
    const result = await engine.gantry(['run', '--rm', '--init', 'demo', 'sh', '-c', PROBE]);
    expect(result.exitCode, result.stderr).toBe(0);
    expectDefaults(result.stdout);
  });

  it('--restart on-failure: every run the monitor starts again gets the defaults', async () => {
    const run = await engine.gantry([
      'run',
      '-d',
      '--name',
      'sig-restart',
      '--restart',
      'on-failure:2',
      'demo',
      'sh',
      '-c',
      `${PROBE}; exit 3`,
    ]);
    expect(run.exitCode, run.stderr).toBe(0);
    const ended = await waitFor(
      async () => {
        const state = await inspect('sig-restart');
        return state.State.Status === 'exited' && state.RestartCount === 2 ? state : undefined;
      },
      180_000,
      'the first run and its two restarts to end',
    );
    // exit 3 is the script's own: each pipeline ended and the script went on to its end.
    expect(ended.State.ExitCode).toBe(3);
    const logs = await engine.gantry(['logs', 'sig-restart']);
    expect(probeRuns(logs.stdout)).toBe(3);
    expect((await engine.gantry(['rm', 'sig-restart'])).exitCode).toBe(0);
  });

  it('--userns=auto: run and exec in a user namespace of its own get the defaults', async () => {
    const result = await engine.gantry(['run', '--rm', '--userns=auto', 'demo', 'sh', '-c', PROBE]);
    expect(result.exitCode, result.stderr).toBe(0);
    expectDefaults(result.stdout);
    const run = await engine.gantry([
      'run',
      '-d',
      '--name',
      'sig-userns',
      '--userns=auto',
      'demo',
      'sleep',
      '1000',
    ]);
    expect(run.exitCode, run.stderr).toBe(0);
    const exec = await engine.gantry(['exec', 'sig-userns', 'sh', '-c', PROBE]);
    expect(exec.exitCode, exec.stderr).toBe(0);
    expectDefaults(exec.stdout);
    expect((await engine.gantry(['rm', '-f', 'sig-userns'])).exitCode).toBe(0);
  });

  it("kube play: a pod's container, started in the infra container's namespaces, gets the defaults", async () => {
    const file = path.join(temp, 'pod.yaml');
    fs.writeFileSync(
      file,
      [
        'apiVersion: v1',
        'kind: Pod',
        'metadata:',
        '  name: sigpod',
        'spec:',
        '  shareProcessNamespace: true',
        '  containers:',
        '    - name: probe',
        '      image: demo',
        '      command: [sh, -c]',
        `      args: [${JSON.stringify(`${PROBE}; exec sleep 1000`)}]`,
        '',
      ].join('\n'),
    );
    const played = await engine.gantry(['kube', 'play', file]);
    expect(played.exitCode, played.stderr).toBe(0);
    const output = await waitFor(
      async () => {
        const logs = await engine.gantry(['logs', 'sigpod-probe']);
        return /^\s*100000\s*$/m.test(logs.stdout) ? logs.stdout : undefined;
      },
      120_000,
      "the pod container's pipeline to end",
    );
    expectDefaults(output);
    // exec into the pod's container joins namespaces a pod shares: the same holds.
    const exec = await engine.gantry(['exec', 'sigpod-probe', 'sh', '-c', PROBE]);
    expect(exec.exitCode, exec.stderr).toBe(0);
    expectDefaults(exec.stdout);
    expect((await engine.gantry(['kube', 'down', file])).exitCode).toBe(0);
  });
});
