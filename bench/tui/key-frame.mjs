#!/usr/bin/env node
// What a key costs the TUI's own code, without a terminal or containers: bundles
// bench/tui/key-frame-app.tsx (the whole TUI over the tests' fake engine) with scripts/build.mjs's
// bundle options (scripts/lib/bundle.mjs), runs it, and prints the median and p90 from a key
// reaching Ink to its frame written. `--ink-output` bundles Ink's own frame buffer instead of the
// row cache (source/tui/ink/), for a side-by-side figure in the same run. Extra node flags
// (--cpu-prof) go before the script's arguments after `--node`.
// Usage: node bench/tui/key-frame.mjs [containers] [keys] [ms between keys] [--ink-output] [--node FLAGS...]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleOptions } from '../../scripts/lib/bundle.mjs';

const repo = path.resolve(import.meta.dirname, '..', '..');
const argv = process.argv.slice(2);
const nodeAt = argv.indexOf('--node');
const nodeFlags = nodeAt >= 0 ? argv.slice(nodeAt + 1) : [];
const own = nodeAt >= 0 ? argv.slice(0, nodeAt) : argv;
const inkOutput = own.includes('--ink-output');
const numbers = own.filter((arg) => !arg.startsWith('--'));

const esbuild = await import('esbuild');
// The fake engine removes its scratch directories after a test file; here nothing calls that.
const noVitest = {
  name: 'no-vitest',
  setup(build) {
    build.onResolve({ filter: /^(vitest|react-devtools-core)$/ }, (args) => ({
      path: args.path,
      namespace: 'stub',
    }));
    build.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({
      contents: 'export const afterAll = () => {}; export default {};',
      loader: 'js',
    }));
  },
};
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'gantry-key-frame-'));
try {
  const outfile = path.join(work, 'key-frame.mjs');
  await esbuild.build(
    bundleOptions({
      entryPoints: [path.join(repo, 'bench', 'tui', 'key-frame-app.tsx')],
      outfile,
      external: ['koffi'],
      plugins: [noVitest],
      rowCache: !inkOutput,
    }),
  );
  const result = spawnSync(process.execPath, [...nodeFlags, outfile, ...numbers], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  // Ink shows the cursor again on exit: only the figures are printed.
  const figures = result.stdout.split('\n').find((line) => line.includes('keys,')) ?? result.stdout;
  console.log(
    `${inkOutput ? "Ink's own Output" : 'row cache'}: ${figures}; load average ${os
      .loadavg()
      .map((value) => value.toFixed(2))
      .join(', ')}`,
  );
  process.exitCode = result.status ?? 1;
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
