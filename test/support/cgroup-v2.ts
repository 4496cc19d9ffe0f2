/**
 * What the tests of the cgroup v2 driver need to know about where they run: whether this is a
 * pure cgroup v2 host (the guest of test/vm/ is one), how much slower it is, and what to do when it
 * is not. GANTRY_EXPECT_CGROUP=v2 (set by `npm run test:cgroup-v2`) says the tests must run, so
 * there a reason to skip is a failure.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, it, type TestContext } from 'vitest';
import { detectCgroupLayout } from '../../source/runtime/cgroups/detect.js';
import { describeCause, describeUnless, firstCause, needsRoot, skipIf, type Skip } from './skip.js';

/** GANTRY_TEST_TIME_SCALE, as vitest.config.ts reads it. */
export const timeoutScale = Math.max(1, Number(process.env.GANTRY_TEST_TIME_SCALE) || 1);

/** A test's own timeout (or deadline) for this machine. */
export function scaled(milliseconds: number): number {
  return milliseconds * timeoutScale;
}

export const CGROUP_V2_ROOT = '/sys/fs/cgroup';

const layoutKind = (() => {
  try {
    return detectCgroupLayout().kind;
  } catch {
    return undefined;
  }
})();

/** Why the cgroup v2 tests cannot run here, or undefined when they can. */
export const skipUnlessCgroupV2 = firstCause(
  needsRoot(),
  layoutKind !== 'v2' &&
    `this host's cgroups are ${layoutKind ?? 'not mounted'}, not pure v2; \`npm run test:cgroup-v2\` runs these tests in a cgroup v2 guest`,
);

/**
 * A suite of cgroup v2 tests: collected where they can run (also needing `causes` absent);
 * elsewhere one test says why not. Where GANTRY_EXPECT_CGROUP=v2 says they must run, that test
 * fails instead of skipping.
 */
export function describeCgroupV2(name: string, body: () => void, ...causes: Skip[]): void {
  const cause = firstCause(skipUnlessCgroupV2, ...causes);
  if (cause && process.env.GANTRY_EXPECT_CGROUP === 'v2') {
    describe(name, () => {
      it('runs on this pure cgroup v2 host', () => {
        throw new Error(
          `GANTRY_EXPECT_CGROUP=v2, so this suite must run; it cannot: ${describeCause(cause)}`,
        );
      });
    });
    return;
  }
  describeUnless(cause, name, body);
}

/**
 * Call first in every cgroup v2 test outside describeCgroupV2: skips with the reason, or fails with it where
 * GANTRY_EXPECT_CGROUP=v2 says the test must run.
 */
export function requireCgroupV2(context: TestContext): void {
  requireOrSkip(context, skipUnlessCgroupV2);
}

/**
 * Skips with the cause (through the project's skip helper, so the run's skip list has it), or
 * fails where GANTRY_EXPECT_CGROUP=v2 says that nothing may be skipped.
 */
export function requireOrSkip(context: TestContext, ...causes: Skip[]): void {
  const cause = firstCause(...causes);
  if (!cause) return;
  if (process.env.GANTRY_EXPECT_CGROUP === 'v2') {
    throw new Error(
      `GANTRY_EXPECT_CGROUP=v2, so this test must not skip; it would have: ${describeCause(cause)}`,
    );
  }
  skipIf(context, cause);
}

/** The contents of a file in the unified tree, relative to its root, trimmed. */
export function cgroupV2File(relative: string, file: string): string {
  return fs.readFileSync(path.join(CGROUP_V2_ROOT, relative, file), 'utf8').trim();
}

/** A flat-keyed v2 file ("key value" lines, e.g. memory.events) as a map. */
export function cgroupV2Keyed(relative: string, file: string): Map<string, number> {
  const result = new Map<string, number>();
  for (const line of cgroupV2File(relative, file).split('\n')) {
    const [key, value] = line.split(' ');
    if (key && value !== undefined) result.set(key, Number(value));
  }
  return result;
}
