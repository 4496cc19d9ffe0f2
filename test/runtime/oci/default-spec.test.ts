import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultBundleSpec } from '../../../source/runtime/oci/default-spec.js';
import { DEFAULT_MOUNTS } from '../../../source/runtime/spec/defaults.js';
import { needsCommand, skipIf } from '../../support/skip.js';

describe('gantry-oci spec', () => {
  it('mounts what the engine mounts, with /proc and the cgroup options as runc spec writes them', () => {
    const mounts = defaultBundleSpec().mounts ?? [];
    expect(mounts[0]).toEqual({ destination: '/proc', type: 'proc', source: 'proc' });
    expect(mounts.at(-1)).toEqual({
      destination: '/sys/fs/cgroup',
      type: 'cgroup',
      source: 'cgroup',
      options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'],
    });
    expect(mounts.slice(1, -1)).toEqual(DEFAULT_MOUNTS.slice(1, -1));
  });

  it('writes the mounts `runc spec` writes, in its order', (context) => {
    skipIf(context, needsCommand('runc'));
    const bundle = fs.mkdtempSync(path.join(os.tmpdir(), 'gantry-runc-spec-'));
    try {
      execFileSync('runc', ['spec'], { cwd: bundle });
      const runc = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8')) as {
        mounts: unknown;
      };
      expect(JSON.stringify(defaultBundleSpec().mounts)).toBe(JSON.stringify(runc.mounts));
    } finally {
      fs.rmSync(bundle, { recursive: true, force: true });
    }
  });
});
