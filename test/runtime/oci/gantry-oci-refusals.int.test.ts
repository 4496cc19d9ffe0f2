/* eslint-disable @typescript-eslint/no-explicit-any -- tests edit arbitrary spec fields */
/**
 * What gantry-oci cannot honour it refuses with a message in the spec's words, leaving nothing
 * behind: systemd cgroups, --no-pivot (a chroot in place of pivot_root), an AppArmor profile on a
 * host without AppArmor, SELinux labels on a host without SELinux (and one that is no context
 * anywhere) and idmapped mounts (not implemented); kernel memory is ignored with a warning, as runc
 * ignores it.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { appArmorEnabled, selinuxEnabled } from '../../../source/runtime/spec/security-modules.js';
import { testName } from '../../support/engine.js';
import { editSpec, makeOciBundle, ociRunner, ociSuiteNeeds, tearDownOci } from '../../support/oci-bundle.js';
import { describeUnless } from '../../support/skip.js';

describeUnless(ociSuiteNeeds(), 'gantry-oci refusals', () => {
  let base: string;
  let bundle: string;
  let stateRoot: string;
  const cgroupParent = testName(`oci-refuse-${process.pid}`);
  const oci = ociRunner(() => ({ base, bundle, stateRoot }), { GANTRY_CGROUP_PARENT: cgroupParent });

  beforeAll(async () => {
    ({ base, bundle, stateRoot } = await makeOciBundle('oci-refuse'));
  });

  afterAll(async () => {
    expect(await tearDownOci(oci, { base, bundle, stateRoot }, cgroupParent)).toEqual([]);
  });

  it('refuses --systemd-cgroup, naming what to use instead', async () => {
    const result = await oci('--systemd-cgroup', 'state', 'any');
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('--systemd-cgroup is not supported');
    expect(result.stderr).toContain('--cgroup-manager=cgroupfs');
  });

  it('refuses --preserve-fds it would not honour, creating nothing; accepts 0', async () => {
    editSpec(bundle, (spec) => {
      spec.process.terminal = false;
      spec.process.args = ['true'];
    });
    const refused = await oci('create', '--preserve-fds', '2', '--bundle', bundle, 'fds');
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain('--preserve-fds 2: gantry-oci does not pass extra descriptors');
    expect(fs.existsSync(`${stateRoot}/fds`)).toBe(false);
    const accepted = await oci('create', '--preserve-fds', '0', '--bundle', bundle, 'fds');
    expect(accepted.exitCode).toBe(0);
    expect((await oci('delete', '--force', 'fds')).exitCode).toBe(0);
  });

  it('refuses --no-pivot (a chroot the process could leave), creating nothing', async () => {
    editSpec(bundle, (spec) => {
      spec.process.terminal = false;
      spec.process.args = ['true'];
    });
    for (const command of ['create', 'run']) {
      const refused = await oci(command, '--no-pivot', '--bundle', bundle, 'no-pivot');
      expect(refused.exitCode).toBe(1);
      expect(refused.stderr).toContain('--no-pivot is not supported');
      expect(refused.stderr).toContain('hint: leave out --no-pivot');
      expect(fs.existsSync(`${stateRoot}/no-pivot`)).toBe(false);
    }
  });

  it('refuses an idmapped mount (not implemented; features says so), creating nothing', async () => {
    const original = fs.readFileSync(`${bundle}/config.json`, 'utf8');
    const mount = { destination: '/data', type: 'bind', source: base };
    for (const idmapped of [
      { ...mount, options: ['rbind'], uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }] },
      { ...mount, options: ['rbind', 'idmap'] },
    ]) {
      editSpec(bundle, (spec) => {
        spec.process.terminal = false;
        spec.process.args = ['true'];
        spec.mounts.push(idmapped);
      });
      const refused = await oci('create', '--bundle', bundle, 'idmapped');
      expect(refused.exitCode).toBe(1);
      expect(refused.stderr).toContain('(/data) is an idmapped mount');
      expect(fs.existsSync(`${stateRoot}/idmapped`)).toBe(false);
      fs.writeFileSync(`${bundle}/config.json`, original);
    }
    const features = JSON.parse((await oci('features')).stdout);
    expect(features.linux.mountExtensions.idmap.enabled).toBe(false);
    expect(features.mountOptions).not.toContain('idmap');
  });

  it('refuses an AppArmor profile or SELinux label it cannot apply, creating nothing', async () => {
    // A host that runs AppArmor or SELinux applies them (test/security/apparmor.int.test.ts and
    // selinux.int.test.ts, in the cgroup v2 guest).
    const apparmor = appArmorEnabled()
      ? []
      : ([
          [
            'process.apparmorProfile',
            (spec: Record<string, any>) => (spec.process.apparmorProfile = 'docker-default'),
          ],
        ] as const);
    const selinux = selinuxEnabled()
      ? []
      : ([
          [
            'process.selinuxLabel',
            (spec: Record<string, any>) => (spec.process.selinuxLabel = 'system_u:system_r:container_t:s0'),
          ],
          [
            'linux.mountLabel',
            (spec: Record<string, any>) => (spec.linux.mountLabel = 'system_u:object_r:container_file_t:s0'),
          ],
        ] as const);
    // Never refused for want of a module: a label that could never be one.
    const malformed = [
      ['process.selinuxLabel', (spec: Record<string, any>) => (spec.process.selinuxLabel = 'container_t')],
    ] as const;
    for (const [field, edit] of [...apparmor, ...selinux, ...malformed]) {
      editSpec(bundle, (spec) => {
        delete spec.process.apparmorProfile;
        delete spec.process.selinuxLabel;
        delete spec.linux.mountLabel;
        spec.process.terminal = false;
        spec.process.args = ['true'];
        edit(spec);
      });
      const result = await oci('create', '--bundle', bundle, 'labelled');
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain(field);
      expect(result.stderr).toMatch(/not enabled on this host|is not an SELinux context/);
      expect(fs.existsSync(`${stateRoot}/labelled`)).toBe(false);
    }
  });

  it('runs a bundle with linux.resources.memory.kernel, warning that it is ignored', async () => {
    editSpec(bundle, (spec) => {
      delete spec.process.apparmorProfile;
      delete spec.process.selinuxLabel;
      delete spec.linux.mountLabel;
      spec.process.args = ['sh', '-c', 'echo ran'];
      spec.linux.resources = { ...spec.linux.resources, memory: { kernel: 64 << 20 } };
    });
    const result = await oci('run', '--bundle', bundle, 'kmem');
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toBe('ran\n');
    expect(result.stderr).toContain('warning: linux.resources.memory.kernel is ignored');
  });
});
