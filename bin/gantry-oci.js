#!/usr/bin/env -S node --
// Entry point of `gantry-oci`, the OCI runtime command line (runc-compatible syntax).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli/oci.js', import.meta.url);
if (!existsSync(entry)) {
  console.error(
    'gantry-oci: the build output is missing; run `npm install` (or `npm run build`) in the gantry checkout.',
  );
  process.exit(125);
}
const { main } = await import(entry.href);
const code = await main(process.argv.slice(2));
process.exitCode = code;
