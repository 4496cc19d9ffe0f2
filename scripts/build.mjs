#!/usr/bin/env node
// Builds everything a checkout needs to run: the TypeScript sources (to dist/) and the native
// helper (C, with the system compiler). Runs from `npm install` (the prepare script).
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const repo = path.resolve(import.meta.dirname, '..');
const helperDirectory = path.join(repo, 'source', 'runtime', 'init', 'native');
const helperOutput = path.join(repo, 'dist', 'bin', 'gantry-init');

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

function buildTypeScript() {
  const tsc = path.join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
  if (!fs.existsSync(tsc)) fail('TypeScript is not installed; run `npm install` first.');
  execFileSync(process.execPath, [tsc, '-p', path.join(repo, 'tsconfig.build.json')], {
    stdio: 'inherit',
    cwd: repo,
  });
}

function buildHelper() {
  const compiler = findCompiler();
  if (!compiler) {
    fail(
      'no C compiler found (tried $CC, cc, gcc, clang). The native helper is built from source; ' +
        'install one, e.g. `apt-get install gcc libc6-dev`, then run `npm install` again.',
    );
  }
  fs.mkdirSync(path.dirname(helperOutput), { recursive: true });
  const temporary = `${helperOutput}.tmp`;
  const flags = ['-std=gnu11', '-O2', '-Wall', '-Wextra', '-Werror', '-D_GNU_SOURCE', '-fno-strict-aliasing'];
  // A static binary keeps the per-container monitor small (no shared libc pages mapped).
  const sources = fs
    .readdirSync(helperDirectory)
    .filter((name) => name.endsWith('.c'))
    .map((name) => path.join(helperDirectory, name));
  const attempts = [
    [...flags, '-static', '-o', temporary, ...sources],
    [...flags, '-o', temporary, ...sources],
  ];
  let lastError = '';
  for (const args of attempts) {
    const result = spawnSync(compiler, args, { encoding: 'utf8' });
    if (result.status === 0) {
      fs.renameSync(temporary, helperOutput);
      return;
    }
    lastError = `${result.stderr}${result.stdout}`;
  }
  fs.rmSync(temporary, { force: true });
  fail(`compiling the native helper failed:\n${lastError}`);
}

const only = process.argv[2];
if (only !== 'native') buildTypeScript();
if (only !== 'ts') buildHelper();
