#!/usr/bin/env node
// Reads vitest's JSON report (--reporter=json --outputFile=FILE) of a run that must skip nothing
// (the cgroup v2 guest: GANTRY_EXPECT_CGROUP=v2) and fails, naming them, when any test was
// skipped, left pending or todo, or when no test ran at all.
import fs from 'node:fs';
import path from 'node:path';

const [reportFile] = process.argv.slice(2);
if (!reportFile) {
  console.error('usage: no-skips.mjs REPORT.json');
  process.exit(2);
}
let report;
try {
  report = JSON.parse(fs.readFileSync(reportFile, 'utf8'));
} catch (error) {
  console.error(`no-skips: cannot read the test report ${reportFile}: ${error.message}`);
  process.exit(1);
}
const skipped = [];
const lines = [];
let ran = 0;
for (const file of report.testResults ?? []) {
  lines.push(`  ${path.relative(process.cwd(), file.name)}`);
  for (const test of file.assertionResults ?? []) {
    const seconds = ((test.duration ?? 0) / 1000).toFixed(0);
    lines.push(`    ${test.status.padEnd(7)} ${test.fullName}${test.duration ? ` (${seconds} s)` : ''}`);
    if (test.status === 'passed' || test.status === 'failed') ran += 1;
    else skipped.push(`${path.relative(process.cwd(), file.name)}: ${test.fullName} (${test.status})`);
  }
}
// What ran, by name: the proof is in the names, not only in the count.
console.error(`no-skips: the tests of this run:\n${lines.join('\n')}`);
if (skipped.length > 0) {
  console.error(`no-skips: ${skipped.length} test(s) did not run where all must:\n  ${skipped.join('\n  ')}`);
  process.exit(1);
}
if (ran === 0) {
  console.error('no-skips: no test ran');
  process.exit(1);
}
console.error(`no-skips: all ${ran} tests ran`);
