import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import type { Plugin } from 'vite';
import { defineConfig } from 'vitest/config';
import { INK_RENDER_NODE_FILE, withLineCache, withMemoizedWidth } from './scripts/lib/ink-output.mjs';

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

/**
 * Ink's renderer draws through the TUI's row-caching Output and measures texts through a cache, as
 * in the bundle (scripts/build.mjs, scripts/lib/ink-output.mjs), so the TUI's tests check the
 * frames the TUI draws. Only the renderer's import of output.js is redirected: a test can still
 * import Ink's own output.js to compare with it.
 */
const LINE_CACHED = '?gantry-line-cached';
/** Ink and what renders through it go through vite (and so through this plugin), as one copy. */
const INK_PACKAGES = /[\\/]node_modules[\\/](ink|ink-testing-library|@alcalzone[\\/]ink-table)[\\/]/;
const lineCachedInkOutput: Plugin = {
  name: 'line-cached-ink-output',
  enforce: 'pre',
  async resolveId(source, importer) {
    if (
      source !== './output.js' ||
      !importer ||
      !/[\\/]node_modules[\\/]ink[\\/]build[\\/]renderer\.js$/.test(importer)
    )
      return null;
    const resolved = await this.resolve(source, importer, { skipSelf: true });
    return resolved ? `${resolved.id}${LINE_CACHED}` : null;
  },
  load(id) {
    if (id.endsWith(LINE_CACHED))
      return withLineCache(fs.readFileSync(id.slice(0, -LINE_CACHED.length), 'utf8'));
    if (INK_RENDER_NODE_FILE.test(id)) return withMemoizedWidth(fs.readFileSync(id, 'utf8'));
    // Read here, vite does not look for the packages' source maps, whose sources npm leaves out
    // (a warning per file otherwise).
    if (INK_PACKAGES.test(id) && id.endsWith('.js')) return fs.readFileSync(id, 'utf8');
    return null;
  },
};

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
        plugins: [lineCachedInkOutput],
        test: {
          name: 'unit',
          server: { deps: { inline: [INK_PACKAGES] } },
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
