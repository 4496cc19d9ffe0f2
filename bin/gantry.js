#!/usr/bin/env -S node --
// The `--` keeps Node 20 from reading our arguments as its own: it takes `--env-file` anywhere
// on its command line, after the script too, and `gantry run --env-file F` is ours.
// Entry point of `gantry`; the code lives in dist/ (built by `npm install`).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli/gantry.js', import.meta.url);
if (!existsSync(entry)) {
  console.error(
    'gantry: the build output is missing; run `npm install` (or `npm run build`) in the gantry checkout.',
  );
  process.exit(125);
}
const { main } = await import(entry.href);
const code = await main(process.argv.slice(2));
process.exitCode = code;
