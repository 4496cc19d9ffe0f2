/**
 * kill -9 between a record's write and its rename, for real: strace kills the real CLI at the
 * rename(2) of its atomic write (`inject=rename:signal=KILL`), which leaves the record's
 * temporary file in the store. Nothing is lost (the record is as it was) and the next gantry
 * command of any kind removes the file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { engineForSuite, GANTRY } from '../../support/engine.js';
import { leftovers } from '../../support/faults.js';
import { describeUnless, needsCommand, needsRoot } from '../../support/skip.js';

describeUnless([needsRoot(), needsCommand('strace')], 'a record write killed before its rename', () => {
  const engine = engineForSuite('killed-writes');

  /** Runs `gantry ARGS` and SIGKILLs it as it makes its first rename(2). */
  async function killedAtRename(args: string[]): Promise<void> {
    const strace = ['strace', '-f', '-qq', '-o', '/dev/null', '-e', 'trace=rename'];
    // Under sh, which says how strace ended: it ends itself by the signal that killed gantry.
    const result = await engine.inNetns(
      'sh',
      [
        '-c',
        '"$@"; echo "status $?"',
        'sh',
        ...strace,
        '-e',
        'inject=rename:signal=KILL:when=1',
        GANTRY,
        ...args,
      ],
      { env: { ...engine.env, GANTRY_DEFAULT_NETWORK: '' } },
    );
    expect(result.stdout, `gantry ${args.join(' ')}: ${result.stderr}`).toMatch(/^status 137$/m);
  }

  const temporaries = (store: string) =>
    fs.readdirSync(path.join(engine.root, store)).filter((name) => name.endsWith('.tmp'));

  for (const [what, args, store, check] of [
    ['tag', ['tag', 'demo', 'killed:1'], 'images', ['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}']],
    ['network create', ['network', 'create', 'killed-net'], 'networks', ['network', 'ls']],
  ] as const) {
    it(`${what} killed at its rename: nothing lost, and the next command removes its temporary file`, async () => {
      await killedAtRename([...args]);
      expect(temporaries(store), 'the fault left a temporary file').not.toEqual([]);
      const ps = await engine.gantry(['ps', '-a']);
      expect(ps.exitCode, ps.stderr).toBe(0);
      expect(temporaries(store)).toEqual([]);
      expect(leftovers(engine.root, engine.cgroupParent)).toEqual([]);
      // The store is whole and the command works when not killed.
      const listed = await engine.gantry([...check]);
      expect(listed.exitCode, listed.stderr).toBe(0);
      const again = await engine.gantry([...args]);
      expect(again.exitCode, again.stderr).toBe(0);
    });
  }
});
