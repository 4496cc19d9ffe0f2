/**
 * The sweep of killed test runs: a run whose owner is gone loses its running container (the
 * process and its monitor), its mounts, cgroups, network namespace and state root; a run
 * whose owner is alive keeps everything.
 */
import { execa } from 'execa';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { cgroupDirectories, GANTRY, mountsUnder, processState, testName } from './engine.js';
import { describeUnless, needsRoot } from './skip.js';
import { deadRuns, recordRun, sweepRun } from './stale-runs.js';

describeUnless(needsRoot(), 'sweep of what a killed test run left', () => {
  const suffix = Math.random().toString(36).slice(2, 8);
  const deadTag = `dead${suffix}`;
  const liveTag = `live${suffix}`;
  const runsDir = fs.mkdtempSync(path.join(os.tmpdir(), `${testName('runs')}-`));

  afterAll(() => {
    sweepRun(deadTag, GANTRY, runsDir);
    fs.rmSync(path.join(os.tmpdir(), `gantry-test-${liveTag}-kept`), { recursive: true, force: true });
    fs.rmSync(runsDir, { recursive: true, force: true });
  });

  it('ends the containers and removes the mounts, cgroups, namespace and root of a dead run only', async () => {
    // A run whose owner was killed, with a container still running on the bridge of its namespace.
    const root = fs.mkdtempSync(path.join(os.tmpdir(), `gantry-test-${deadTag}-engine-`));
    const netns = `gantry-test-${deadTag}-${root.slice(-6)}-0a1b2c`;
    const cgroupParent = `gantry-test-${deadTag}-${root.slice(-6)}`;
    await execa('ip', ['netns', 'add', netns]);
    const env = { GANTRY_ROOT: root, GANTRY_CGROUP_PARENT: cgroupParent, GANTRY_DEFAULT_NETWORK: '' };
    const gantry = (args: string[]) =>
      execa('nsenter', [`--net=/run/netns/${netns}`, '--', GANTRY, ...args], { env, reject: false });
    expect((await gantry(['image', 'from-host', 'demo'])).exitCode).toBe(0);
    const started = await gantry(['run', '-d', 'demo', 'sleep', '1000']);
    expect(started.exitCode, String(started.stderr)).toBe(0);
    const pid = Number(
      (await gantry(['inspect', '-f', '{{.State.Pid}}', String(started.stdout).trim()])).stdout,
    );
    expect(processState(pid)).toBeDefined();
    expect(cgroupDirectories(cgroupParent).length).toBeGreaterThan(0);

    const owner = execa('sleep', ['1000'], { reject: false });
    recordRun(deadTag, owner.pid, runsDir);
    owner.kill('SIGKILL');
    await owner;
    // A run still going, with a file of its own.
    const kept = path.join(os.tmpdir(), `gantry-test-${liveTag}-kept`);
    fs.mkdirSync(kept);
    recordRun(liveTag, process.pid, runsDir);

    expect(deadRuns(runsDir)).toEqual([deadTag]);
    const removed = sweepRun(deadTag, GANTRY, runsDir);

    expect(removed.some((line) => line.startsWith('container '))).toBe(true);
    expect(processState(pid)).toBeUndefined();
    expect(mountsUnder(root)).toEqual([]);
    expect(fs.existsSync(root)).toBe(false);
    expect(cgroupDirectories(cgroupParent)).toEqual([]);
    expect(fs.existsSync(`/run/netns/${netns}`)).toBe(false);
    expect(deadRuns(runsDir)).toEqual([]);
    expect(fs.existsSync(path.join(runsDir, deadTag))).toBe(false);
    expect(fs.existsSync(kept)).toBe(true);
    expect(fs.existsSync(path.join(runsDir, liveTag))).toBe(true);
  });
});
