// How gantry's TypeScript is bundled with esbuild: the CLI and TUI by scripts/build.mjs, the TUI
// over the tests' fake engine by bench/tui/key-frame.mjs, the engine by bench/stats/sample.mjs,
// with the same options and plugins, so that the benches measure what users run.
import fs from 'node:fs';
import { INK_PATCHED_FILES, patchInk } from './ink-output.mjs';

/**
 * React, react-reconciler and scheduler pick their development or production build from
 * NODE_ENV when first required; bundled, both builds would be in the TUI's chunk. The TUI always
 * runs the production build (several times faster), so the choice is made here.
 */
export const productionReact = {
  name: 'production-react',
  setup(build) {
    build.onLoad(
      { filter: /[\\/]node_modules[\\/](react|react-reconciler|scheduler)[\\/].*\.js$/ },
      (args) => ({
        contents: fs.readFileSync(args.path, 'utf8').replaceAll('process.env.NODE_ENV', '"production"'),
        loader: 'js',
      }),
    );
  },
};

/** Ink's frame buffer with the TUI's row cache in front of it, and memoised text widths (see ink-output.mjs). */
export const lineCachedInkOutput = {
  name: 'line-cached-ink-output',
  setup(build) {
    build.onLoad({ filter: INK_PATCHED_FILES }, (args) => ({
      contents: patchInk(args.path, fs.readFileSync(args.path, 'utf8')),
      loader: 'js',
    }));
  },
};

/**
 * esbuild's build options for an ESM bundle that Node runs, with React's production build, and
 * Ink's row cache unless `rowCache` is false; `plugins` come between the two, the rest of
 * `options` (entryPoints, outdir or outfile, external, ...) as given.
 */
export function bundleOptions({ rowCache = true, plugins = [], ...options }) {
  return {
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    jsx: 'automatic',
    // Bundled CommonJS modules (Ink's dependencies) call require, which ESM has not.
    banner: {
      js: "import { createRequire as __gantryCreateRequire } from 'node:module'; const require = __gantryCreateRequire(import.meta.url);",
    },
    logLevel: 'warning',
    ...options,
    plugins: [productionReact, ...plugins, ...(rowCache ? [lineCachedInkOutput] : [])],
  };
}
