import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { defineConfig } from 'vitest/config';

// The run's tag, in every name a test makes on the host (see testName in test/support/engine.ts).
process.env.GANTRY_TEST_RUN ??= randomBytes(3).toString('hex');

// Slow machines (the cgroup v2 guest of test/vm/ runs node about 4x and containers about 14x
// slower under TCG) scale every timeout by GANTRY_TEST_TIME_SCALE.
// A machine busy with other work (a load average of several times its cores) stretches every
// test alike; timeouts only guard against hangs, so they stretch with the load seen at start
// (at most 8x).
const busy = Math.min(8, (os.loadavg()[0] ?? 0) / Math.max(1, os.availableParallelism()));
const scale = Math.max(1, Number(process.env.GANTRY_TEST_TIME_SCALE ?? '1') || 1, busy);
/**
 * vitest hands --testTimeout down to the projects but not --hookTimeout, so a project's own
 * hookTimeout would win over the command line; read the flags here so that they win.
 */
function flag(name: string): number | undefined {
  const index = process.argv.findIndex((arg) => arg === `--${name}` || arg.startsWith(`--${name}=`));
  if (index < 0) return undefined;
  const arg = process.argv[index] as string;
  const value = Number(arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : process.argv[index + 1]);
  return Number.isFinite(value) && value > 0 ? value : undefined;
}
const scaled = (name: 'testTimeout' | 'hookTimeout', base: number): number => flag(name) ?? base * scale;

// In every worker: a test that blocks the worker's event loop for 30 s fails by name, before
// vitest's worker RPC (a fixed 60 s timeout) fails the whole run anonymously.
const setupFiles = ['test/support/event-loop-guard.ts'];

export default defineConfig({
  test: {
    // Every run ends with the list of what was skipped and why (test/support/skip-report.ts).
    reporters: ['default', './test/support/skip-report.ts'],
    // Containers are real processes on two cores; more workers only queue on the CPU. Forks, not
    // threads: each worker is its own process with its own event loop, so one test file's
    // synchronous stretch never holds up another file's RPC with the main process.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
          exclude: ['test/**/*.int.test.ts', 'test/**/*.int.test.tsx'],
          environment: 'node',
          pool: 'forks',
          setupFiles,
          // Generous: on a machine loaded 15x over its cores a unit test that takes 0.3 s idle
          // takes several seconds; a timeout here only guards against a hang.
          testTimeout: scaled('testTimeout', 30_000),
          hookTimeout: scaled('hookTimeout', 60_000),
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.int.test.ts', 'test/**/*.int.test.tsx'],
          environment: 'node',
          testTimeout: scaled('testTimeout', 120_000),
          hookTimeout: scaled('hookTimeout', 120_000),
          pool: 'forks',
          setupFiles,
          globalSetup: ['test/support/global-setup.ts'],
          // A test that forgets its own cgroup parent must not create the host's default one
          // ("gantry"); this one carries the run's tag, so the teardown's leak check finds it.
          // Likewise a gantry started outside a test engine's network namespace gets no bridge
          // (the engine's own commands run in its namespace with the default restored).
          env: {
            GANTRY_CGROUP_PARENT: `gantry-test-${process.env.GANTRY_TEST_RUN}-unset-parent`,
            GANTRY_DEFAULT_NETWORK: 'none',
          },
        },
      },
    ],
  },
});
