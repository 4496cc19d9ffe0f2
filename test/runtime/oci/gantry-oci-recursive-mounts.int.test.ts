/**
 * runc's recursive mount options (`rro`, `rrw`, `rnosuid`, `rnoexec`, ...) in gantry-oci: set or
 * cleared with mount_setattr(AT_RECURSIVE) on the mount and every mount below it. The mounts below
 * are the container's own: a tmpfs with a read-only tmpfs inside, bound recursively elsewhere, so
 * nothing of the host's mount table matters.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { testName } from '../../support/engine.js';
import { editSpec, makeOciBundle, ociRunner, ociSuiteNeeds, tearDownOci } from '../../support/oci-bundle.js';
import { describeUnless } from '../../support/skip.js';

describeUnless(ociSuiteNeeds(), 'gantry-oci recursive mount options', () => {
  let base: string;
  let bundle: string;
  let stateRoot: string;
  let original: string;
  const cgroupParent = testName(`oci-recursive-${process.pid}`);
  const oci = ociRunner(() => ({ base, bundle, stateRoot }), { GANTRY_CGROUP_PARENT: cgroupParent });
  let runs = 0;

  beforeAll(async () => {
    ({ base, bundle, stateRoot } = await makeOciBundle('oci-recursive'));
    original = fs.readFileSync(`${bundle}/config.json`, 'utf8');
  });

  afterAll(async () => {
    expect(await tearDownOci(oci, { base, bundle, stateRoot }, cgroupParent)).toEqual([]);
  });

  /**
   * The per-mount options (mountinfo's field 6) of /view and /view/inner, where /view is a
   * recursive bind of the container's /outer (a tmpfs) with `options`, /outer/inner a read-only
   * tmpfs below it.
   */
  async function viewOptions(options: string[]): Promise<Record<string, string[]>> {
    fs.writeFileSync(`${bundle}/config.json`, original);
    editSpec(bundle, (spec) => {
      spec.process.terminal = false;
      spec.process.args = ['cat', '/proc/self/mountinfo'];
      spec.mounts.push(
        { destination: '/outer', type: 'tmpfs', source: 'tmpfs', options: [] },
        { destination: '/outer/inner', type: 'tmpfs', source: 'tmpfs', options: ['ro'] },
        // The source is a host path, resolved in the container's mount namespace while it is set up.
        {
          destination: '/view',
          type: 'bind',
          source: `${bundle}/rootfs/outer`,
          options: ['rbind', ...options],
        },
      );
    });
    const result = await oci('run', '--bundle', bundle, `recursive-${runs++}`);
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    const seen: Record<string, string[]> = {};
    for (const line of result.stdout.split('\n')) {
      const fields = line.split(' ');
      if (fields[4] === '/view' || fields[4] === '/view/inner')
        seen[fields[4]] = (fields[5] ?? '').split(',');
    }
    expect(Object.keys(seen).sort()).toEqual(['/view', '/view/inner']);
    return seen;
  }

  const access = (seen: Record<string, string[]>) => [seen['/view']![0], seen['/view/inner']![0]];

  it('rro makes the mount and every mount below it read-only; without it the mount below keeps its own', async () => {
    expect(access(await viewOptions([]))).toEqual(['rw', 'ro']);
    expect(access(await viewOptions(['rro']))).toEqual(['ro', 'ro']);
  });

  it('rrw clears read-only on the mount and every mount below it, as runc does (not only an earlier rro)', async () => {
    expect(access(await viewOptions(['rrw']))).toEqual(['rw', 'rw']);
    // After "ro" too: runc applies the recursive attributes after the mount's own flags.
    expect(access(await viewOptions(['ro', 'rrw']))).toEqual(['rw', 'rw']);
    // The last of rro and rrw wins.
    expect(access(await viewOptions(['rro', 'rrw']))).toEqual(['rw', 'rw']);
    expect(access(await viewOptions(['rrw', 'rro']))).toEqual(['ro', 'ro']);
  });

  it('rnosuid, rnodev, rnoexec and rnoatime reach every mount below', async () => {
    const plain = await viewOptions([]);
    for (const mount of ['/view', '/view/inner']) expect(plain[mount]).not.toContain('noexec');
    const seen = await viewOptions(['rnosuid', 'rnodev', 'rnoexec', 'rnoatime']);
    for (const mount of ['/view', '/view/inner'])
      expect(seen[mount]).toEqual(expect.arrayContaining(['nosuid', 'nodev', 'noexec', 'noatime']));
    const features = JSON.parse((await oci('features')).stdout);
    expect(features.mountOptions).toEqual(
      expect.arrayContaining(['rro', 'rrw', 'rnosuid', 'rnoexec', 'rnoatime']),
    );
  });
});
