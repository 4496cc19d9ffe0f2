/**
 * gantry-oci's `tmpcopyup` mount option (podman puts it on every --tmpfs mount): the tmpfs starts
 * with what the root has at its destination, owners, modes and xattrs kept, symlinks copied as
 * symlinks; writes stay in the tmpfs. A destination that is a symlink out of the root is resolved
 * inside it: nothing of the host is copied, covered or changed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { lgetxattr, lsetxattr } from '../../../source/runtime/sys/libc.js';
import { SyscallError } from '../../../source/runtime/errors.js';
import { testName } from '../../support/engine.js';
import { editSpec, makeOciBundle, ociRunner, ociSuiteNeeds, tearDownOci } from '../../support/oci-bundle.js';
import { describeUnless } from '../../support/skip.js';
import { HOST_GID, HOST_UID, mapBundle } from '../../support/userns.js';

describeUnless(ociSuiteNeeds(), 'gantry-oci tmpcopyup', () => {
  let base: string;
  let bundle: string;
  let stateRoot: string;
  let original: string;
  const cgroupParent = testName(`oci-copyup-${process.pid}`);
  const oci = ociRunner(() => ({ base, bundle, stateRoot }), { GANTRY_CGROUP_PARENT: cgroupParent });

  beforeAll(async () => {
    ({ base, bundle, stateRoot } = await makeOciBundle('oci-copyup', ['stat', 'readlink', 'mkdir']));
    original = fs.readFileSync(`${bundle}/config.json`, 'utf8');
  });

  afterAll(async () => {
    expect(await tearDownOci(oci, { base, bundle, stateRoot }, cgroupParent)).toEqual([]);
  });

  /** The bundle with a tmpcopyup tmpfs on `destination` and `args` as the process. */
  function withCopyUp(destination: string, args: string[], options: string[] = []): void {
    fs.writeFileSync(`${bundle}/config.json`, original);
    editSpec(bundle, (spec) => {
      spec.process.terminal = false;
      spec.process.args = args;
      spec.mounts.push({
        destination,
        type: 'tmpfs',
        source: 'tmpfs',
        options: ['nosuid', 'nodev', 'tmpcopyup', ...options],
      });
    });
  }

  it('fills the tmpfs with the directory it covers: owners, modes, times, xattrs, symlinks as symlinks', async () => {
    const data = `${bundle}/rootfs/data`;
    fs.mkdirSync(`${data}/sub`, { recursive: true });
    fs.writeFileSync(`${data}/secret`, 'from the image\n');
    fs.chownSync(`${data}/secret`, 1000, 1000);
    fs.chmodSync(`${data}/secret`, 0o640);
    fs.utimesSync(`${data}/secret`, 1_000_000_000, 1_000_000_000);
    fs.writeFileSync(`${data}/sub/nested`, 'deeper\n');
    fs.writeFileSync(`${data}/plain`, 'plain\n');
    fs.chownSync(`${data}/sub`, 1001, 1002);
    fs.chmodSync(`${data}/sub`, 0o750);
    fs.symlinkSync('/etc/passwd', `${data}/passwd-link`);
    fs.chmodSync(data, 0o711);
    lsetxattr(`${data}/secret`, 'user.origin', Buffer.from('image'));
    lsetxattr(`${data}/secret`, 'trusted.origin', Buffer.from('image-trusted'));

    withCopyUp('/data', ['sleep', '1000']);
    const created = await oci('create', '--bundle', bundle, 'copyup');
    expect(created.stderr).toBe('');
    expect(created.exitCode).toBe(0);
    const state = JSON.parse((await oci('state', 'copyup')).stdout);
    // The container's own view of the copy, from its mount namespace (the test runs as root).
    const inside = `/proc/${state.pid}/root/data`;
    expect(fs.readFileSync(`${inside}/secret`, 'utf8')).toBe('from the image\n');
    expect(fs.readFileSync(`${inside}/sub/nested`, 'utf8')).toBe('deeper\n');
    expect(lgetxattr(`${inside}/secret`, 'trusted.origin')?.toString()).toBe('image-trusted');
    const userXattr = lgetxattr(`${inside}/secret`, 'user.origin');
    if (userXattr === undefined) {
      // Only a kernel whose tmpfs refuses user.* (before Linux 6.6) may leave it behind.
      let refused = false;
      try {
        lsetxattr(`${inside}/secret`, 'user.probe', Buffer.from('x'));
      } catch (error) {
        refused = error instanceof SyscallError && error.errno === os.constants.errno.EOPNOTSUPP;
      }
      expect(refused, 'user.origin was not copied though the tmpfs takes user.* xattrs').toBe(true);
    } else {
      expect(userXattr.toString()).toBe('image');
    }
    expect(fs.statSync(`${inside}/secret`).mtimeMs).toBe(1_000_000_000_000);
    await oci('delete', '--force', 'copyup');

    withCopyUp('/data', [
      'sh',
      '-c',
      [
        'stat -f -c %T /data',
        'stat -c "%u:%g %a" /data /data/secret /data/sub',
        'readlink /data/passwd-link',
        'test -L /data/passwd-link && echo symlink',
        // runc's default spec keeps no CAP_DAC_OVERRIDE: root writes only what it owns.
        'echo changed > /data/plain && echo new > /data/new && cat /data/plain',
      ].join('; '),
    ]);
    const result = await oci('run', '--bundle', bundle, 'copyup-run');
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(result.stdout.split('\n')).toEqual([
      'tmpfs',
      '0:0 711',
      '1000:1000 640',
      '1001:1002 750',
      '/etc/passwd',
      'symlink',
      'changed',
      '',
    ]);
    // The writes went to the tmpfs: the root's files on disk are as they were.
    expect(fs.readFileSync(`${data}/plain`, 'utf8')).toBe('plain\n');
    expect(fs.existsSync(`${data}/new`)).toBe(false);
    expect(fs.readlinkSync(`${data}/passwd-link`)).toBe('/etc/passwd');

    const features = JSON.parse((await oci('features')).stdout);
    expect(features.mountOptions).toContain('tmpcopyup');
  });

  it('a read-only tmpcopyup tmpfs is filled first and read-only after', async () => {
    fs.mkdirSync(`${bundle}/rootfs/seeded`, { recursive: true });
    fs.writeFileSync(`${bundle}/rootfs/seeded/file`, 'seed\n');
    withCopyUp('/seeded', ['sh', '-c', 'cat /seeded/file; touch /seeded/other || echo refused'], ['ro']);
    const result = await oci('run', '--bundle', bundle, 'copyup-ro');
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toBe('seed\nrefused\n');
  });

  it('a destination that is a symlink out of the root is resolved in the root: the host is untouched', async () => {
    // The host directory the link names, as seen from the host's root: it must not be copied from,
    // covered or written to.
    const hostDir = fs.mkdtempSync(path.join(base, 'host-dir-'));
    fs.writeFileSync(`${hostDir}/host-file`, 'host\n');
    const escape = `/../../../../../../..${hostDir}`;
    fs.rmSync(`${bundle}/rootfs/data`, { recursive: true, force: true });
    fs.symlinkSync(escape, `${bundle}/rootfs/data`);

    withCopyUp('/data', ['sh', '-c', 'ls -a /data; echo written > /data/from-container']);
    const result = await oci('run', '--bundle', bundle, 'copyup-escape');
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    // Inside the root the link leads to <root>/<hostDir>, made empty: nothing of the host came in.
    expect(result.stdout).not.toContain('host-file');
    expect(fs.readdirSync(hostDir)).toEqual(['host-file']);
    expect(fs.readFileSync(`${hostDir}/host-file`, 'utf8')).toBe('host\n');
    const mountPoints = fs
      .readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((line) => line.split(' ')[4]);
    expect(mountPoints).not.toContain(hostDir);
    // The tmpfs went onto the directory inside the root, whose own contents the write did not reach.
    expect(fs.readdirSync(`${bundle}/rootfs${hostDir}`)).toEqual([]);
  });

  it('fills it inside a user namespace too: owners as the container sees them, the host untouched', async () => {
    const mapped = await makeOciBundle('oci-copyup-userns', ['stat']);
    try {
      // As under runc, the container's root must be able to reach its rootfs through the path.
      fs.chmodSync(mapped.base, 0o711);
      const data = `${mapped.bundle}/rootfs/data`;
      fs.mkdirSync(data);
      fs.writeFileSync(`${data}/owned`, 'mapped\n');
      await mapBundle(mapped.bundle);
      // The container's uid 1000 is HOST_UID + 1000 on the host.
      fs.chownSync(`${data}/owned`, HOST_UID + 1000, HOST_GID + 1000);
      fs.chmodSync(`${data}/owned`, 0o604);
      const hostDir = fs.mkdtempSync(path.join(mapped.base, 'host-dir-'));
      fs.writeFileSync(`${hostDir}/host-file`, 'host\n');
      fs.symlinkSync(`/../../../../../..${hostDir}`, `${mapped.bundle}/rootfs/escape`);
      editSpec(mapped.bundle, (spec) => {
        spec.process.terminal = false;
        spec.process.args = [
          'sh',
          '-c',
          'stat -f -c %T /data; stat -c "%u:%g %a" /data/owned; cat /data/owned; ls /escape; touch /escape/in',
        ];
        for (const destination of ['/data', '/escape'])
          spec.mounts.push({ destination, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'tmpcopyup'] });
      });
      const mappedOci = ociRunner(() => mapped, { GANTRY_CGROUP_PARENT: cgroupParent });
      const result = await mappedOci('run', '--bundle', mapped.bundle, 'copyup-userns');
      expect(result.stderr).toBe('');
      expect(result.exitCode).toBe(0);
      expect(result.stdout).toBe('tmpfs\n1000:1000 604\nmapped\n');
      expect(fs.readdirSync(hostDir)).toEqual(['host-file']);
    } finally {
      fs.rmSync(mapped.base, { recursive: true, force: true });
    }
  });

  it('refuses tmpcopyup on a mount that is not a tmpfs, creating nothing', async () => {
    fs.writeFileSync(`${bundle}/config.json`, original);
    editSpec(bundle, (spec) => {
      spec.process.terminal = false;
      spec.process.args = ['true'];
      spec.mounts.push({
        destination: '/bound',
        type: 'bind',
        source: base,
        options: ['rbind', 'tmpcopyup'],
      });
    });
    const refused = await oci('create', '--bundle', bundle, 'copyup-bind');
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain('(/bound) has option "tmpcopyup" but type "bind"');
    expect(fs.existsSync(`${stateRoot}/copyup-bind`)).toBe(false);
  });
});
