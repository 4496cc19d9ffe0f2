/**
 * What CI provides, read without vitest (the skip reporter runs in vitest's main process, where
 * the test API cannot be loaded): whether this is a CI run, and the packages `.ci/run` installs.
 */
import fs from 'node:fs';
import path from 'node:path';

const REPO = path.resolve(import.meta.dirname, '..', '..');

/** True when the `CI` variable says so (GitHub, GitLab and most CI systems set CI=true). */
export const inCi = (() => {
  const value = (process.env.CI ?? '').toLowerCase();
  return value !== '' && value !== '0' && value !== 'false';
})();

let ciPackagesCache: Set<string> | undefined;

/** The Debian packages `.ci/run` installs (its `packages=(...)` line). */
export function ciPackages(): Set<string> {
  if (!ciPackagesCache) {
    let script = '';
    try {
      script = fs.readFileSync(path.join(REPO, '.ci', 'run'), 'utf8');
    } catch {
      // no CI script in this tree: nothing is provided
    }
    const list = /^\s*packages=\(([^)]*)\)/m.exec(script)?.[1] ?? '';
    ciPackagesCache = new Set(list.split(/\s+/).filter(Boolean));
  }
  return ciPackagesCache;
}
