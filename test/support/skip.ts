/**
 * Skips that say why. A test that cannot run on this machine is skipped with its reason, which
 * the reporter prints beside the test and again in the list at the end of the run
 * (test/support/skip-report.ts). Under CI (`CI` set), a test whose cause is something `.ci/run`
 * installs (a Debian package in its `packages=(...)` list) or provides (root) fails instead: CI
 * must never go green by skipping what it was meant to run.
 *
 * In a test:      it('...', (context) => { skipIf(context, needsCommand('skopeo')); ... })
 * A whole suite:  describeUnless(needsRoot(), 'gantry run', () => { ... })
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { describe, it, type TestContext } from 'vitest';
import { ciPackages, inCi } from './ci.js';

/** Why a test cannot run here. */
export interface SkipCause {
  /** What is missing, said so that a reader can act on it. */
  reason: string;
  /** What provides it in CI (a package of `.ci/run`, or "root"): under CI the test fails instead. */
  providedByCi?: string;
}

/** A cause, a bare reason (a fact of this machine's kernel or hardware), or nothing: it runs. */
export type Skip = SkipCause | string | undefined | false;

function onPath(command: string): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v "$1"', 'sh', command], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function causeFor(reason: string, debianPackage: string | undefined): SkipCause {
  return debianPackage !== undefined && ciPackages().has(debianPackage)
    ? { reason, providedByCi: debianPackage }
    : { reason };
}

/**
 * The cause when `command` is not on PATH; `debianPackage` names the package that has it (the
 * command's own name when absent), so CI knows whether it should have been there.
 */
export function needsCommand(command: string, debianPackage = command): SkipCause | undefined {
  if (onPath(command)) return undefined;
  return causeFor(`${command} is not installed (Debian package ${debianPackage})`, debianPackage);
}

/** The cause when none of `candidates` exists (a binary looked for in fixed places). */
export function needsFile(
  candidates: readonly string[],
  what: string,
  debianPackage?: string,
): SkipCause | undefined {
  if (candidates.some((file) => fs.existsSync(file))) return undefined;
  const from = debianPackage ? ` (Debian package ${debianPackage})` : '';
  return causeFor(`${what} is not installed: none of ${candidates.join(', ')}${from}`, debianPackage);
}

export const isRoot = process.getuid?.() === 0;

/** The cause when the tests do not run as root (CI always does). */
export function needsRoot(what = 'real namespaces, mounts and cgroups'): SkipCause | undefined {
  return isRoot ? undefined : { reason: `needs root (${what})`, providedByCi: 'root' };
}

/** The first of `causes` that applies, or undefined when none does. */
export function firstCause(...causes: Skip[]): SkipCause | undefined {
  for (const cause of causes) {
    if (!cause) continue;
    return typeof cause === 'string' ? { reason: cause } : cause;
  }
  return undefined;
}

/** The reason printed for a cause (and why CI fails on it). */
export function describeCause(cause: SkipCause): string {
  return cause.providedByCi && inCi
    ? `${cause.reason}, but .ci/run provides ${cause.providedByCi}: under CI this test must run`
    : cause.reason;
}

/** A test that CI must run found its cause missing. */
export class MissingInCiError extends Error {
  constructor(cause: SkipCause) {
    super(describeCause(cause));
    this.name = 'MissingInCiError';
  }
}

/**
 * Skips the running test with the cause's reason when there is one (or fails it under CI when CI
 * provides what is missing). Returns normally when the test can run.
 */
export function skipIf(context: TestContext, ...causes: Skip[]): void {
  const cause = firstCause(...causes);
  if (!cause) return;
  if (cause.providedByCi && inCi) throw new MissingInCiError(cause);
  context.skip(cause.reason);
}

/**
 * describe(name, body) when nothing is missing. Otherwise the body is not collected at all (its
 * hooks would need what is missing) and the suite holds one test, skipped with the reason (or
 * failing under CI), so the output says what did not run and why.
 */
export function describeUnless(causes: Skip | Skip[], name: string, body: () => void): void {
  const cause = firstCause(...(Array.isArray(causes) ? causes : [causes]));
  if (!cause) {
    describe(name, body);
    return;
  }
  describe(name, () => {
    it(`not run: ${cause.reason}`, (context) => skipIf(context, cause));
  });
}
