/**
 * Runs once before the integration tests: makes sure the build output and the native helper
 * exist (tests exercise the real binaries) and records the mount table, cgroup tree and gantry's
 * marks in the host's network namespace so the teardown can prove nothing leaked (a test's own
 * network namespace is a mount under /run/netns carrying the run's tag). Every name a test makes on the host (state roots, cgroup
 * parents) carries this run's tag (GANTRY_TEST_RUN, see testName), so runs from other checkouts
 * at the same time are neither counted as this run's leaks nor disturbed by its checks.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { cgroupMountPoints } from './cgroup-paths.js';
import { forgetRun, recordRun, sweepDeadRuns } from './stale-runs.js';

const repo = path.resolve(import.meta.dirname, '..', '..');

function leakSnapshot(): { mounts: string[]; cgroups: string[] } {
  const mounts = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((target) => target.includes(runPrefix));
  const cgroups: string[] = [];
  // Each hierarchy's root: on a pure v2 host that is /sys/fs/cgroup itself, not a directory below.
  for (const dir of cgroupMountPoints()) {
    try {
      for (const entry of fs.readdirSync(dir))
        if (entry.startsWith(runPrefix)) cgroups.push(path.join(dir, entry));
    } catch {
      // not a directory
    }
  }
  return { mounts, cgroups };
}

/**
 * What gantry's networking would leave in the host's own network namespace: its bridges and
 * veths, its nftables table, its iptables chains. Tests make all of these only inside network
 * namespaces of their own; one appearing here means a test touched the host's network.
 */
function hostNetworkMarks(): string[] {
  const run = (file: string, args: string[]): string => {
    try {
      return execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      return '';
    }
  };
  const marks = run('ip', ['-o', 'link', 'show'])
    .split('\n')
    .map((line) => line.split(': ')[1]?.split('@')[0] ?? '')
    .filter((name) => /^(gantry\d+|gtv[0-9a-f]{12})$/.test(name))
    .map((name) => `interface ${name}`);
  if (/table ip gantry\b/.test(run('nft', ['list', 'tables']))) marks.push('nftables table ip gantry');
  for (const chain of new Set(run('iptables-save', []).match(/GANTRY-[A-Z]+/g) ?? []))
    marks.push(`iptables chain ${chain}`);
  return marks;
}

let before: Set<string> = new Set();
let hostNetworkBefore: Set<string> = new Set();
// Workers are forked after setup() and inherit the environment it sets (vitest.config.ts sets
// the tag first, for the parent of tests that forget their own).
process.env.GANTRY_TEST_RUN ??= randomBytes(3).toString('hex');
const runPrefix = `gantry-test-${process.env.GANTRY_TEST_RUN}`;

export function setup(): void {
  if (process.getuid?.() !== 0) return;
  // The cgroup v2 guest (test/vm/) builds on the host before it boots: a build under TCG takes minutes.
  if (process.env.GANTRY_TEST_BUILT !== '1')
    execFileSync(process.execPath, [path.join(repo, 'scripts', 'build.mjs')], { stdio: 'inherit' });
  // What killed runs left (their teardown never ran) goes before this run counts its own.
  for (const line of sweepDeadRuns(path.join(repo, 'bin', 'gantry.js')))
    console.log(`removed what a killed test run left: ${line}`);
  recordRun(process.env.GANTRY_TEST_RUN ?? '');
  const snapshot = leakSnapshot();
  before = new Set([...snapshot.mounts, ...snapshot.cgroups]);
  hostNetworkBefore = new Set(hostNetworkMarks());
}

export function teardown(): void {
  if (process.getuid?.() !== 0) return;
  forgetRun(process.env.GANTRY_TEST_RUN ?? '');
  const leaks = leakSnapshot();
  const leaked = [...leaks.mounts, ...leaks.cgroups].filter((entry) => !before.has(entry));
  if (leaked.length > 0) throw new Error(`integration tests leaked:\n${leaked.join('\n')}`);
  const touched = hostNetworkMarks().filter((mark) => !hostNetworkBefore.has(mark));
  if (touched.length > 0)
    throw new Error(`integration tests touched the host's network namespace:\n${touched.join('\n')}`);
}
