/**
 * Container processes start with every signal at its default and none blocked, whatever the
 * Node process that launched the helper ignores (it ignores SIGPIPE). Without that, the everyday
 * `yes | head` never ends: `yes` gets EPIPE instead of dying and spins for ever.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { engineForSuite, testName } from '../../support/engine.js';
import { describeUnless, needsRoot } from '../../support/skip.js';

/** Prints the process's ignored and blocked signal masks, then runs a producer into head. */
const PROBE = "grep -E '^Sig(Ign|Blk)' /proc/self/status; yes 0123456789 | head -n 100000 | wc -l";

function expectDefaults(output: string): void {
  expect(output).toMatch(/SigIgn:\s+0000000000000000/);
  expect(output).toMatch(/SigBlk:\s+0000000000000000/);
  // head took its lines and yes ended on SIGPIPE; the pipeline finished.
  expect(output).toMatch(/^\s*100000\s*$/m);
}

describeUnless(needsRoot(), 'signal dispositions of container processes', () => {
  const engine = engineForSuite('signals');
  let temp: string;

  beforeAll(() => {
    temp = fs.mkdtempSync(path.join(os.tmpdir(), `${testName('signals')}-`));
  });
  afterAll(() => fs.rmSync(temp, { recursive: true, force: true }));

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
});
