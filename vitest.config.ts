import { randomBytes } from 'node:crypto';
import { defineConfig } from 'vitest/config';

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
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.int.test.ts', 'test/**/*.int.test.tsx'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 120_000,
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
