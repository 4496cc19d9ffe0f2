/**
 * `kube play` killed for real (SIGKILL of the real CLI) at each phase it passes: the pause image
 * built, the pod recorded, the infra container and each member created and started, and every
 * phase of the engine inside those steps. A play is all or nothing (source/runtime/kube/play.ts):
 * the next gantry command of an unrelated kind must leave no pod, no container, no name, no
 * journal entry, no cgroup, no mount under the root, no veth, bridge or lease in the suite's
 * network namespace and no anonymous volume; and the same manifest then plays again.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { engineForSuite, mountsUnder, networkLeftovers, testName } from '../../support/engine.js';
import { phaseSoak } from '../../support/faults.js';
import { describeUnless, needsRoot } from '../../support/skip.js';

/**
 * Each trace point of a traced run as a GANTRY_TRACE_STOP value: the label and its occurrence
 * as trace() counts it (labels that start with it). A label met more than once is stopped at its
 * last occurrence, when the infra container and the earlier members exist already.
 */
function stopPoints(stderr: string): string[] {
  const labels = stderr
    .split('\n')
    .map((line) => /^\[gantry [^\]]*\] (.*)$/.exec(line)?.[1])
    .filter((label): label is string => label !== undefined && !label.startsWith('cli:'));
  const points = new Map<string, number>();
  for (const [index, label] of labels.entries()) {
    const occurrence = labels.slice(0, index + 1).filter((seen) => seen.startsWith(label)).length;
    points.set(label, occurrence);
  }
  return [...points].map(([label, occurrence]) => `${label}@${occurrence}`);
}

describeUnless(needsRoot(), 'kube play killed at each phase', () => {
  const engine = engineForSuite('kube-killed');
  const { ok, nextCommandLeavesNothing, killAt } = phaseSoak(engine);
  let scratch: string;
  let manifest: string;

  beforeAll(() => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), `${testName('kube-killed')}-`));
    manifest = path.join(scratch, 'trio.yaml');
    fs.writeFileSync(
      manifest,
      [
        'apiVersion: v1',
        'kind: Pod',
        'metadata: {name: trio}',
        'spec:',
        '  containers:',
        '    - {name: first, image: demo, command: [sleep, "600"]}',
        '    - name: second',
        '      image: demo',
        '      command: [sleep, "600"]',
        '      volumeMounts: [{name: scratch, mountPath: /scratch}]',
        '  volumes: [{name: scratch, emptyDir: {}}]',
        '',
      ].join('\n'),
    );
  });
  afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

  /** The pause image, removed before each run so that every run builds it as the traced one did. */
  async function removePauseImage(): Promise<void> {
    const images = await ok(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}']);
    for (const name of images.split('\n').filter((line) => line.startsWith('localhost/gantry-pause:')))
      await ok(['image', 'rm', name]);
  }

  async function nothingLeft(what: string): Promise<void> {
    await nextCommandLeavesNothing(what);
    expect(await ok(['ps', '-a', '-q']), what).toBe('');
    expect(await ok(['pod', 'ls', '-q']), what).toBe('');
    expect(await ok(['volume', 'ls', '-q']), what).toBe('');
    expect(fs.readdirSync(path.join(engine.root, 'containers')), what).toEqual([]);
    expect(mountsUnder(engine.root), what).toEqual([]);
    expect(await networkLeftovers(engine.netns, engine.root), what).toEqual([]);
  }

  it('the next command removes every part of the pod, and the manifest plays again', async () => {
    const traced = await engine.gantry(['kube', 'play', manifest], {
      env: { ...engine.env, GANTRY_DEFAULT_NETWORK: '', GANTRY_TRACE: '1' },
    });
    expect(traced.exitCode, traced.stderr).toBe(0);
    const points = stopPoints(traced.stderr);
    // The pod's own steps are among them, each container's creation and start.
    for (const step of [
      'kube play: pause image layout written',
      'kube play: trio recorded',
      'kube play: trio infra created',
      'kube play: trio container first created',
      'kube play: trio container second created',
      'kube play: trio infra started',
      'kube play: trio container 1 started',
      'kube play: trio container 2 started',
    ])
      expect(points).toContain(`${step}@1`);
    await ok(['kube', 'down', manifest]);
    for (const point of points) {
      await removePauseImage();
      expect(await killAt(['kube', 'play', manifest], point), point).toBe(true);
      await nothingLeft(`kube play killed at "${point}"`);
    }
    // Nothing stands in the way of playing it again: no name, no pod of that name.
    await ok(['kube', 'play', manifest]);
    expect((await ok(['ps', '-a', '-q'])).split('\n')).toHaveLength(3);
    await ok(['kube', 'down', manifest]);
    await nothingLeft('kube down after the soak');
  }, 1_800_000);
});
