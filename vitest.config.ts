import { randomBytes } from 'node:crypto';
import { defineConfig } from 'vitest/config';

/**
 * Every timeout is multiplied by GANTRY_TEST_TIMEOUT_SCALE (default 1): the cgroup v2 guest
 * (test/vm/) runs node about 4x and containers about 14x slower than the host under TCG.
 */
const timeoutScale = Math.max(1, Number(process.env.GANTRY_TEST_TIMEOUT_SCALE) || 1);
/**
 * vitest hands --testTimeout down to the projects but not --hookTimeout, so a project's own
 * hookTimeout would win over the command line; read the flag here so that it does not.
 */
function flag(name: string): number | undefined {
  const index = process.argv.findIndex((arg) => arg === `--${name}` || arg.startsWith(`--${name}=`));
  if (index < 0) return undefined;
  const arg = process.argv[index] as string;
  const value = Number(arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : process.argv[index + 1]);
  return Number.isFinite(value) && value > 0 ? value : undefined;
}
const scaled = (name: 'testTimeout' | 'hookTimeout', base: number): number =>
  flag(name) ?? base * timeoutScale;

// The run's tag, in every name a test makes on the host (see testName in test/support/engine.ts).
process.env.GANTRY_TEST_RUN ??= randomBytes(3).toString('hex');

export default defineConfig({
  test: {
    // Every run ends with the list of what was skipped and why (test/support/skip-report.ts).
    reporters: ['default', './test/support/skip-report.ts'],
    // Containers are real processes on two cores; more workers only queue on the CPU.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
          exclude: ['test/**/*.int.test.ts', 'test/**/*.int.test.tsx'],
          environment: 'node',
          testTimeout: scaled('testTimeout', 5_000),
          hookTimeout: scaled('hookTimeout', 10_000),
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.int.test.ts', 'test/**/*.int.test.tsx'],
          environment: 'node',
          testTimeout: scaled('testTimeout', 120_000),
          hookTimeout: scaled('hookTimeout', 120_000),
          // Containers are real processes; two cores are shared with the kernel work they do.
          pool: 'forks',
          globalSetup: ['test/support/global-setup.ts'],
          // A test that forgets its own cgroup parent must not create the host's default one
          // ("gantry"); this one carries the run's tag, so the teardown's leak check finds it.
          env: { GANTRY_CGROUP_PARENT: `gantry-test-${process.env.GANTRY_TEST_RUN}-unset-parent` },
        },
      },
    ],
  },
});
