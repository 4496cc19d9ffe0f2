/**
 * runc's recursive mount options that clear a flag (`rrw`, `rsuid`, `rdev`, `rexec`) against the
 * container's read-only and masked paths: a bundle that mounts /proc and /sys with them, or a mount
 * with `rrw` above a read-only path, must not leave /proc/sys, /proc/sysrq-trigger or a
 * `readonlyPaths` entry writable, nor a masked path readable; an image that links a mount's
 * destination into /proc/sys must not get a writable /proc/sys through it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { testName } from '../support/engine.js';
import { editSpec, makeOciBundle, ociRunner, ociSuiteNeeds, tearDownOci } from '../support/oci-bundle.js';
import { describeUnless } from '../support/skip.js';

const CLEARS = ['rrw', 'rsuid', 'rdev', 'rexec'];

describeUnless(ociSuiteNeeds(), 'recursive clears against read-only and masked paths', () => {
  let base: string;
  let bundle: string;
  let stateRoot: string;
  let original: string;
  const cgroupParent = testName(`sec-recursive-${process.pid}`);
  const oci = ociRunner(() => ({ base, bundle, stateRoot }), { GANTRY_CGROUP_PARENT: cgroupParent });

  beforeAll(async () => {
    ({ base, bundle, stateRoot } = await makeOciBundle('sec-recursive', ['stat', 'mkdir']));
    original = fs.readFileSync(`${bundle}/config.json`, 'utf8');
  });

  afterAll(async () => {
    expect(await tearDownOci(oci, { base, bundle, stateRoot }, cgroupParent)).toEqual([]);
  });

  it('/proc and /sys mounted rrw, rsuid, rdev, rexec and an rrw mount above a read-only path keep them read-only and masked', async () => {
    fs.mkdirSync(`${bundle}/rootfs/locked`, { recursive: true });
    fs.writeFileSync(`${bundle}/config.json`, original);
    editSpec(bundle, (spec) => {
      spec.process.terminal = false;
      spec.process.args = [
        'sh',
        '-c',
        [
          'cat /proc/self/mountinfo',
          'echo evil > /proc/sys/kernel/domainname && echo wrote-proc-sys',
          'touch /locked/inner/file && echo wrote-locked',
          'stat -c "keys %t:%T" /proc/keys',
          'ls -A /sys/firmware | wc -l',
        ].join('; '),
      ];
      for (const mount of spec.mounts)
        if (mount.destination === '/proc' || mount.destination === '/sys')
          mount.options = [...(mount.options ?? []).filter((o: string) => o !== 'ro'), ...CLEARS];
      // A read-only path with a mount below it, then an rrw bind of its parent over the parent.
      spec.mounts.push(
        { destination: '/locked', type: 'tmpfs', source: 'tmpfs', options: [] },
        { destination: '/locked/inner', type: 'tmpfs', source: 'tmpfs', options: [] },
        {
          destination: '/locked',
          type: 'bind',
          source: `${bundle}/rootfs/locked`,
          options: ['rbind', ...CLEARS],
        },
      );
      spec.linux.readonlyPaths = [...spec.linux.readonlyPaths, '/locked/inner'];
      expect(spec.linux.readonlyPaths).toContain('/proc/sys');
      expect(spec.linux.maskedPaths).toContain('/proc/keys');
      expect(spec.linux.maskedPaths).toContain('/sys/firmware');
    });
    const result = await oci('run', '--bundle', bundle, 'recursive-clears');
    const options = new Map<string, string[]>();
    const lines = result.stdout.split('\n');
    for (const line of lines) {
      const fields = line.split(' ');
      if (fields.length > 6) options.set(fields[4]!, fields[5]!.split(','));
    }
    // The clears reached the mounts the bundle named...
    expect(options.get('/proc')).toContain('rw');
    expect(options.get('/sys')).toContain('rw');
    // ...and not the read-only and masked paths, set up after every mount of the bundle.
    // (A read-only or masked path the kernel does not have, as /proc/sysrq-trigger without
    // CONFIG_MAGIC_SYSRQ, is skipped as runc skips it.)
    const readonly = ['/proc/sys', '/proc/sysrq-trigger', '/locked/inner', '/sys/firmware'].filter(
      (p) => p.startsWith('/locked') || fs.existsSync(p),
    );
    expect(readonly).toContain('/proc/sys');
    for (const p of readonly) expect(options.get(p), p).toContain('ro');
    expect(lines).not.toContain('wrote-proc-sys');
    expect(lines).not.toContain('wrote-locked');
    expect(lines).toContain('keys 1:3');
    expect(lines.at(-2)).toBe('0');
    expect(fs.readdirSync(`${bundle}/rootfs/locked`)).toEqual([]);
  });

  it('an image that links an rrw mount destination into /proc/sys is refused, creating nothing', async () => {
    const hostDir = fs.mkdtempSync(path.join(base, 'source-'));
    fs.rmSync(`${bundle}/rootfs/data`, { recursive: true, force: true });
    fs.symlinkSync('/proc/sys', `${bundle}/rootfs/data`);
    fs.writeFileSync(`${bundle}/config.json`, original);
    editSpec(bundle, (spec) => {
      spec.process.terminal = false;
      spec.process.args = ['true'];
      spec.mounts.push({
        destination: '/data',
        type: 'bind',
        source: hostDir,
        options: ['rbind', ...CLEARS],
      });
    });
    const refused = await oci('create', '--bundle', bundle, 'recursive-link');
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stderr).toContain('mount destination `/data` resolves into /proc through a symlink');
    expect(fs.existsSync(`${stateRoot}/recursive-link`)).toBe(false);
  });
});
