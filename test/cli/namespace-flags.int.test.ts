/**
 * `run --pid container:X` and `--ipc container:X|shareable|private`: the kernel's namespace ids
 * say the two containers share them (and only those); a bad mode is refused clearly (`host`:
 * host-namespaces.int.test.ts).
 */
import { expect, it } from 'vitest';
import { engineForSuite } from '../support/engine.js';
import { describeUnless, needsRoot } from '../support/skip.js';

describeUnless(needsRoot(), 'gantry run --pid / --ipc', () => {
  const engine = engineForSuite('namespace-flags');

  it("joins another container's pid and ipc namespaces, and keeps its own otherwise", async () => {
    const owner = await engine.gantry([
      'run',
      '-d',
      '--name',
      'owner',
      '--ipc',
      'shareable',
      'demo',
      'sleep',
      '300',
    ]);
    expect(owner.exitCode, owner.stderr).toBe(0);
    const ns = async (name: string, kind: string) =>
      (await engine.gantry(['exec', name, 'readlink', `/proc/self/ns/${kind}`])).stdout.trim();
    const joined = await engine.gantry([
      'run',
      '--rm',
      '--pid',
      'container:owner',
      '--ipc',
      'container:owner',
      'demo',
      'sh',
      '-c',
      'for n in pid ipc uts; do readlink /proc/self/ns/$n; done; cat /proc/1/cmdline',
    ]);
    expect(joined.exitCode, joined.stderr).toBe(0);
    const [pid, ipc, uts, init] = joined.stdout.split('\n');
    expect(pid).toBe(await ns('owner', 'pid'));
    expect(ipc).toBe(await ns('owner', 'ipc'));
    expect(uts).not.toBe(await ns('owner', 'uts'));
    // The owner's sleep is PID 1 of the shared namespace.
    expect(init).toBe('sleep\u0000300\u0000');

    const own = await engine.gantry([
      'run',
      '--rm',
      '--ipc',
      'private',
      'demo',
      'readlink',
      '/proc/self/ns/ipc',
    ]);
    expect(own.stdout.trim()).not.toBe(await ns('owner', 'ipc'));

    const bad = await engine.gantry(['run', '--rm', '--ipc', 'bogus', 'demo', 'true']);
    expect(bad.exitCode).toBe(125);
    expect(bad.stderr).toMatch(
      /invalid --ipc "bogus"\nhint: accepted: private \(the default\), shareable, host or container:NAME\|ID/,
    );
    expect((await engine.gantry(['rm', '-f', 'owner'])).exitCode).toBe(0);
  });
});
