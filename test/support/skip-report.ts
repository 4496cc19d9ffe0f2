/**
 * A vitest reporter that ends every run with the list of what was skipped and why (the reason
 * given to `context.skip`, see test/support/skip.ts), so a green run cannot hide what it did not
 * test. A skip without a reason is listed as such and, under CI, fails the run.
 */
import path from 'node:path';
import type { Reporter, TestModule, Vitest } from 'vitest/node';
import { inCi } from './ci.js';

interface Skipped {
  where: string;
  reason: string | undefined;
}

export default class SkipReport implements Reporter {
  private root = process.cwd();
  private filtered = false;

  onInit(vitest: Vitest): void {
    this.root = vitest.config.root;
    // With -t, the tests that do not match are skipped without a reason; that is the filter.
    this.filtered = Boolean(vitest.config.testNamePattern);
  }

  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const skipped: Skipped[] = [];
    for (const testModule of testModules) {
      const file = path.relative(this.root, testModule.moduleId);
      for (const test of testModule.children.allTests('skipped')) {
        const result = test.result();
        const reason = result.state === 'skipped' ? result.note : undefined;
        if (reason === undefined && this.filtered) continue;
        skipped.push({ where: `${file} > ${test.fullName}`, reason });
      }
    }
    const out = process.stdout;
    if (skipped.length === 0) {
      out.write('\nSkipped: none\n');
      return;
    }
    skipped.sort((a, b) => a.where.localeCompare(b.where));
    out.write(`\nSkipped (${skipped.length}), and why:\n`);
    for (const { where, reason } of skipped)
      out.write(`  - ${where}\n      ${reason ?? 'NO REASON GIVEN'}\n`);
    const silent = skipped.filter((entry) => entry.reason === undefined).length;
    if (silent > 0 && inCi) {
      out.write(`\n${silent} skipped without a reason: under CI every skip must say why.\n`);
      process.exitCode = 1;
    }
  }
}
