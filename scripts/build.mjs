#!/usr/bin/env node
// Builds everything a checkout needs to run: the TypeScript sources (to dist/) and the native
// helper (C, with the system compiler). Runs from `npm install` (the prepare script).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { bundleOptions } from './lib/bundle.mjs';

const repo = path.resolve(import.meta.dirname, '..');
const helperDirectory = path.join(repo, 'source', 'runtime', 'init', 'native');
const helperOutput = path.join(repo, 'dist', 'bin', 'gantry-init');
const pauseSource = path.join(repo, 'source', 'runtime', 'init', 'pause', 'pause.c');
const pauseOutput = path.join(repo, 'dist', 'bin', 'gantry-pause');
// `--init`'s PID 1, bind-mounted into containers: a program of its own, never the helper.
const dockerInitSource = path.join(repo, 'source', 'runtime', 'init', 'docker-init', 'docker-init.c');
const dockerInitOutput = path.join(repo, 'dist', 'bin', 'gantry-docker-init');

function fail(message) {
  console.error(`gantry build: ${message}`);
  process.exit(1);
}

function findCompiler() {
  for (const candidate of [process.env.CC, 'cc', 'gcc', 'clang'].filter(Boolean)) {
    const probe = spawnSync(candidate, ['--version'], { stdio: 'ignore' });
    if (probe.status === 0) return candidate;
  }
  return undefined;
}

// The CLI is bundled (one file per entry plus shared chunks for lazily loaded commands): Node's
// ESM loader costs about half a millisecond per module, and `gantry run` must start fast.
// Type checking is `npm run typecheck` (tsc --noEmit).
async function buildTypeScript() {
  let esbuild;
  try {
    esbuild = await import('esbuild');
  } catch {
    fail('esbuild is not installed; run `npm install` first.');
  }
  // Build beside the old output and swap it in, so a gantry process running meanwhile (another
  // test run, a TUI) never finds half a build.
  const finaldir = path.join(repo, 'dist', 'cli');
  const outdir = path.join(repo, 'dist', `cli.new-${process.pid}`);
  fs.rmSync(outdir, { recursive: true, force: true });
  await esbuild.build(
    bundleOptions({
      entryPoints: [
        path.join(repo, 'source', 'cli', 'gantry.ts'),
        path.join(repo, 'source', 'cli', 'oci.ts'),
      ],
      outdir,
      splitting: true,
      sourcemap: true,
      // koffi stays in node_modules (a native binary). Ink, React and their dependencies are
      // bundled into the TUI's chunks (the CLI's never import them): from node_modules the TUI's
      // start loaded about 570 modules (es-toolkit alone 415, for one throttle) and ran Node's
      // CommonJS lexer over React, which made its first frame slower than its own work. React is
      // bundled as its production build (see productionReact in lib/bundle.mjs).
      // react-devtools-core is only imported by Ink when DEV=true and is not installed.
      external: ['koffi', 'react-devtools-core'],
    }),
  );
  const previous = path.join(repo, 'dist', `cli.old-${process.pid}`);
  if (fs.existsSync(finaldir)) fs.renameSync(finaldir, previous);
  fs.renameSync(outdir, finaldir);
  fs.rmSync(previous, { recursive: true, force: true });
}

/** Compiles C sources to `output` (static when the C library allows it), atomically. */
function compile(compiler, sources, output, what, { staticOnly = false } = {}) {
  fs.mkdirSync(path.dirname(output), { recursive: true });
  const temporary = `${output}.tmp`;
  const flags = ['-std=gnu11', '-O2', '-Wall', '-Wextra', '-Werror', '-D_GNU_SOURCE', '-fno-strict-aliasing'];
  const attempts = [
    [...flags, '-static', '-o', temporary, ...sources],
    ...(staticOnly ? [] : [[...flags, '-o', temporary, ...sources]]),
  ];
  let lastError = '';
  for (const args of attempts) {
    const result = spawnSync(compiler, args, { encoding: 'utf8' });
    if (result.status === 0) {
      fs.renameSync(temporary, output);
      return;
    }
    lastError = `${result.stderr}${result.stdout}`;
  }
  fs.rmSync(temporary, { force: true });
  fail(`compiling ${what} failed:\n${lastError}`);
}

function buildHelper() {
  const compiler = findCompiler();
  if (!compiler) {
    fail(
      'no C compiler found (tried $CC, cc, gcc, clang). The native helper is built from source; ' +
        'install one, e.g. `apt-get install gcc libc6-dev`, then run `npm install` again.',
    );
  }
  // A static binary keeps the per-container monitor small (no shared libc pages mapped).
  const sources = fs
    .readdirSync(helperDirectory)
    .filter((name) => name.endsWith('.c'))
    .map((name) => path.join(helperDirectory, name));
  compile(compiler, sources, helperOutput, 'the native helper');
  // The pause process of a pod's infra container runs in an image that holds nothing else, so it
  // must be static.
  compile(compiler, [pauseSource], pauseOutput, 'the pod pause process', { staticOnly: true });
  // It runs in images that may have no C library.
  compile(compiler, [dockerInitSource], dockerInitOutput, 'the --init program', { staticOnly: true });
}

const only = process.argv[2];
if (only !== 'native') await buildTypeScript();
if (only !== 'ts') buildHelper();
