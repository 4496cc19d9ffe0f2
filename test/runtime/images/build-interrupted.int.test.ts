/**
 * `gantry build` killed for real (SIGKILL of the real CLI) at each of its phases, its RUN step's
 * container's own phases included: the next gantry command of any kind removes the step
 * containers, the work directory and anything half-stored, so nothing is left over.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { engineForSuite, testName, waitFor } from '../../support/engine.js';
import { phaseSoak, processState, runUntilPhase } from '../../support/faults.js';
import { describeUnless, needsRoot } from '../../support/skip.js';

describeUnless(needsRoot(), 'build killed at each phase', () => {
  const engine = engineForSuite('build-interrupted');
  const { ok, nextCommandLeavesNothing, killAt, phases } = phaseSoak(engine);
  let temp: string;
  let context: string;

  beforeAll(() => {
    temp = fs.mkdtempSync(path.join('/tmp', `${testName('build-interrupted')}-`));
    context = path.join(temp, 'context');
    fs.mkdirSync(context);
    fs.writeFileSync(
      path.join(context, 'Containerfile'),
      'FROM demo\nRUN echo built > /built\nCMD ["cat", "/built"]\n',
    );
  });
  afterAll(() => fs.rmSync(temp, { recursive: true, force: true }));

  it('build killed at each phase: its step containers and work are gone after the next command', async () => {
    const traced = await phases(['build', '-t', 'traced:build', context]);
    await ok(['image', 'rm', 'traced:build']);
    expect(traced).toContain('build: step container started');
    for (const phase of traced) {
      await killAt(['build', '--no-cache', '-t', 'built:1', context], phase);
      await nextCommandLeavesNothing(`build killed at "${phase}"`);
      expect(fs.readdirSync(path.join(engine.root, 'containers')), phase).toEqual([]);
      await engine.gantry(['image', 'rm', 'built:1']);
    }
  }, 900_000);

  it('a build killed while its RUN step still runs: the next command ends and removes the step', async () => {
    const slow = path.join(temp, 'slow');
    fs.mkdirSync(slow);
    fs.writeFileSync(path.join(slow, 'Containerfile'), 'FROM demo\nRUN sleep 600\n');
    const build = await runUntilPhase(
      engine,
      ['build', '-t', 'slow:1', slow],
      'build: step container started',
    );
    const [step] = fs.readdirSync(path.join(engine.root, 'containers'));
    expect(step).toBeDefined();
    const state = JSON.parse(
      fs.readFileSync(path.join(engine.root, 'containers', step!, 'state.json'), 'utf8'),
    );
    expect(state.State.Status).toBe('running');
    await build.kill();
    await nextCommandLeavesNothing('build killed mid-RUN');
    expect(fs.readdirSync(path.join(engine.root, 'containers'))).toEqual([]);
    await waitFor(() => ['Z', undefined].includes(processState(state.State.Pid)), 10_000, 'the step to end');
  });
});
