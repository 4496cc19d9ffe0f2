import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
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
          // ("gantry"); this one is caught by the teardown's leak check instead.
          // Likewise a gantry started outside a test engine's network namespace gets no bridge
          // (the engine's own commands run in its namespace with the default restored).
          env: { GANTRY_CGROUP_PARENT: 'gantry-test-unset-parent', GANTRY_DEFAULT_NETWORK: 'none' },
        },
      },
    ],
  },
});
