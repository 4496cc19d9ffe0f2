/**
 * The kernel does not namespace keyrings: a container's process that kept the session keyring of
 * whoever ran `gantry run` could use that user's keys. Each container joins one of its own,
 * `_ses.ID`, as under runc. Looked at from inside through /proc/keys, which lists the keys the
 * reading process may see (unmasked here by --privileged; a default container cannot read it).
 */
import { expect, it } from 'vitest';
import { engineForSuite } from '../support/engine.js';
import { describeUnless, needsRoot } from '../support/skip.js';

describeUnless(needsRoot(), 'session keyring', () => {
  const engine = engineForSuite('keyring');

  it('a container’s process has a session keyring of its own, named after the container', async () => {
    const run = await engine.gantry(['run', '--name', 'keys', '--privileged', 'demo', 'cat', '/proc/keys']);
    expect(run.exitCode, run.stderr).toBe(0);
    const id = (await engine.gantry(['inspect', '-f', '{{.Id}}', 'keys'])).stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    // Before, it kept the caller's: no keyring of that name existed.
    expect(run.stdout).toMatch(new RegExp(` keyring +_ses\\.${id}: `));
    expect((await engine.gantry(['rm', 'keys'])).exitCode).toBe(0);
  });
});
