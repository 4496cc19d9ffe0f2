/** `gantry rename`: docker's behaviour on the real engine (names are symlinks under the root). */
import { expect, it } from 'vitest';
import { engineForSuite } from '../../support/engine.js';
import { describeUnless, needsRoot } from '../../support/skip.js';

describeUnless(needsRoot(), 'gantry rename', () => {
  const engine = engineForSuite('rename');

  it('moves a running container to a new name and frees the old one', async () => {
    const run = await engine.gantry(['run', '-d', '--name', 'before', 'demo', 'sleep', '1000']);
    expect(run.exitCode, run.stderr).toBe(0);
    const id = run.stdout.trim();
    const rename = await engine.gantry(['rename', 'before', 'after']);
    expect(rename.exitCode, rename.stderr).toBe(0);
    expect(rename.stdout).toBe('');
    const inspected = JSON.parse((await engine.gantry(['inspect', 'after'])).stdout) as {
      Id: string;
      Name: string;
    }[];
    expect(inspected[0]).toMatchObject({ Id: id, Name: '/after' });
    expect((await engine.gantry(['ps', '--format', '{{.Names}}'])).stdout.trim()).toBe('after');
    const old = await engine.gantry(['inspect', 'before']);
    expect(old.exitCode).not.toBe(0);
    expect(old.stderr).toContain('no such object: before');
    // The old name is free for a new container at once.
    const reuse = await engine.gantry(['create', '--name', 'before', 'demo', 'true']);
    expect(reuse.exitCode, reuse.stderr).toBe(0);
  });

  it('refuses a name in use, the same name, and an invalid name, changing nothing', async () => {
    const taken = await engine.gantry(['rename', 'after', 'before']);
    expect(taken.exitCode).toBe(1);
    expect(taken.stderr).toContain('the container name "/before" is already in use');
    const same = await engine.gantry(['rename', 'after', 'after']);
    expect(same.exitCode).toBe(1);
    expect(same.stderr).toContain('same name as its current name');
    const invalid = await engine.gantry(['rename', 'after', 'no/slash']);
    expect(invalid.exitCode).toBe(1);
    expect(invalid.stderr).toContain('invalid container name "no/slash"');
    const names = (await engine.gantry(['ps', '-a', '--format', '{{.Names}}'])).stdout
      .trim()
      .split('\n')
      .sort();
    expect(names).toEqual(['after', 'before']);
    const missing = await engine.gantry(['rename', 'nobody', 'x2']);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain('no such container');
  });
});
