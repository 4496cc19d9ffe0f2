/**
 * commit and diff of a container with a user namespace: its writable layer holds host ids (the
 * mapped range), and what is committed or compared is shifted back to the container's own ids, so
 * a file its root made commits as uid 0 and one its uid 1000 made as 1000.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { engineForSuite } from '../../support/engine.js';
import { describeUnless, needsRoot } from '../../support/skip.js';
import { hostStart, idMappings, usernsBase } from '../../support/userns.js';

const base = usernsBase('userns-commit');

describeUnless([needsRoot()], 'commit and diff under --userns=auto', () => {
  const engine = engineForSuite('userns-commit');
  afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

  it('a file made by the container root commits as 0, one made by its uid 1000 as 1000', async () => {
    const run = await engine.gantry([
      'run',
      '-d',
      '--name',
      'mapped-commit',
      '--userns=auto',
      'demo',
      'sh',
      '-c',
      'touch /by-root && mkdir /made-dir && exec sleep 600',
    ]);
    expect(run.exitCode, run.stderr).toBe(0);
    const made = await engine.gantry(['exec', '-u', '1000:1000', 'mapped-commit', 'touch', '/tmp/by-1000']);
    expect(made.exitCode, made.stderr).toBe(0);
    const id = (await engine.gantry(['inspect', '-f', '{{.Id}}', 'mapped-commit'])).stdout.trim();
    const hostRoot = hostStart((await idMappings(engine, 'mapped-commit')).UidMap[0]!);
    expect(hostRoot).toBeGreaterThan(0);
    // On the host the writable layer holds the mapped ids: the shift below is needed.
    const upper = path.join(engine.root, 'containers', id, 'upper');
    expect(fs.statSync(path.join(upper, 'by-root')).uid).toBe(hostRoot);
    expect(fs.statSync(path.join(upper, 'tmp', 'by-1000')).uid).toBe(hostRoot + 1000);

    const diff = await engine.gantry(['diff', 'mapped-commit']);
    expect(diff.exitCode, diff.stderr).toBe(0);
    expect(diff.stdout.trim().split('\n').sort()).toEqual([
      'A /by-root',
      'A /made-dir',
      'A /tmp/by-1000',
      'C /tmp',
    ]);

    const committed = await engine.gantry(['commit', 'mapped-commit', 'mapped-committed']);
    expect(committed.exitCode, committed.stderr).toBe(0);
    // Run without a user namespace: the ids seen are the layer's own.
    const owners = await engine.gantry([
      'run',
      '--rm',
      'mapped-committed',
      'stat',
      '-c',
      '%n %u %g',
      '/by-root',
      '/made-dir',
      '/tmp',
      '/tmp/by-1000',
    ]);
    expect(owners.exitCode, owners.stderr).toBe(0);
    expect(owners.stdout.trim().split('\n')).toEqual([
      '/by-root 0 0',
      '/made-dir 0 0',
      '/tmp 0 0',
      '/tmp/by-1000 1000 1000',
    ]);
    // And under another mapping the committed image's files are that container's root's.
    const again = await engine.gantry([
      'run',
      '--rm',
      '--userns=auto',
      'mapped-committed',
      'stat',
      '-c',
      '%u',
      '/by-root',
      '/tmp/by-1000',
    ]);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stdout.trim().split('\n')).toEqual(['0', '1000']);
  });
});
