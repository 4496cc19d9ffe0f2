/**
 * Runs test/compat/docker-habits.sh: the docker commands people type, end to end, against a state
 * root and network namespace of this test's own. A row that fails shows its output; a TODO row
 * names a habit gantry does not serve yet.
 */
import path from 'node:path';
import { expect, it } from 'vitest';
import { engineForSuite, GANTRY, REPO } from '../support/engine.js';
import { describeUnless, needsRoot } from '../support/skip.js';

describeUnless(needsRoot(), 'docker habits', () => {
  const engine = engineForSuite('compat');

  it('every row of test/compat/docker-habits.sh passes', async () => {
    const result = await engine.inNetns('bash', [path.join(REPO, 'test', 'compat', 'docker-habits.sh')], {
      env: { ...engine.env, GANTRY, GANTRY_DEFAULT_NETWORK: 'none' },
    });
    const lines = result.stdout.split('\n');
    const todo = lines.filter((line) => line.includes(' # TODO '));
    if (todo.length > 0) process.stdout.write(`docker habits not served yet:\n${todo.join('\n')}\n`);
    expect(
      lines.filter((line) => line.startsWith('not ok')),
      result.stdout + result.stderr,
    ).toEqual([]);
    expect(result.stdout).toMatch(/^19 passed, 0 failed$/m);
    expect(result.exitCode).toBe(0);
    // A script of some fifteen docker sessions (a build among them): minutes on a loaded machine.
  }, 600_000);
});
