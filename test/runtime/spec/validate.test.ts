import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { validateSpec } from '../../../source/runtime/spec/validate.js';

/** Which security modules the validator is told the host runs (none, as on most CI machines). */
const modules = vi.hoisted(() => ({ appArmor: false, selinux: false }));
vi.mock('../../../source/runtime/spec/security-modules.js', async (importOriginal) => ({
  ...(await importOriginal<Record<string, unknown>>()),
  appArmorEnabled: () => modules.appArmor,
  selinuxEnabled: () => modules.selinux,
}));

const bundle = fs.mkdtempSync(path.join(os.tmpdir(), 'gantry-unit-spec-'));
fs.mkdirSync(path.join(bundle, 'rootfs'));
afterAll(() => fs.rmSync(bundle, { recursive: true, force: true }));

function spec(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ociVersion: '1.0.2',
    process: { args: ['sh'], cwd: '/', user: { uid: 0, gid: 0 }, env: ['PATH=/bin'] },
    root: { path: 'rootfs' },
    hostname: 'box',
    linux: { namespaces: [{ type: 'mount' }, { type: 'uts' }, { type: 'pid' }] },
    ...overrides,
  };
}

const check = (value: unknown) => () => validateSpec(value, { bundle, source: 'config.json' });

describe('spec validation', () => {
  it('accepts a well-formed spec', () => {
    expect(check(spec())).not.toThrow();
  });

  it.each([
    [{ ociVersion: '' }, /ociVersion is missing/],
    [{ process: undefined }, /process is missing/],
    [{ process: { args: [], cwd: '/', user: { uid: 0, gid: 0 } } }, /process.args must be a non-empty array/],
    [
      { process: { args: ['sh'], cwd: 'relative', user: { uid: 0, gid: 0 } } },
      /process.cwd must be an absolute path/,
    ],
    [{ process: { args: ['sh'], cwd: '/', user: { uid: 0, gid: 0 }, env: ['NOEQUALS'] } }, /"NAME=value"/],
    [
      {
        process: {
          args: ['sh'],
          cwd: '/',
          user: { uid: 0, gid: 0 },
          capabilities: { bounding: ['CAP_FLY'] },
        },
      },
      /unknown capability "CAP_FLY"/,
    ],
    [
      {
        process: {
          args: ['sh'],
          cwd: '/',
          user: { uid: 0, gid: 0 },
          rlimits: [{ type: 'RLIMIT_NOFILE', soft: 10, hard: 5 }],
        },
      },
      /above its hard limit/,
    ],
    [
      {
        process: {
          args: ['sh'],
          cwd: '/',
          user: { uid: 0, gid: 0 },
          rlimits: [{ type: 'RLIMIT_WINGS', soft: 1, hard: 1 }],
        },
      },
      /unknown type "RLIMIT_WINGS"/,
    ],
    [{ root: { path: 'missing' } }, /does not exist/],
    [{ linux: { namespaces: [{ type: 'mount' }, { type: 'mount' }] } }, /mount is given twice/],
    [{ linux: { namespaces: [{ type: 'mount' }, { type: 'galaxy' }] } }, /unknown type "galaxy"/],
    [{ linux: { namespaces: [{ type: 'mount' }, { type: 'user' }] } }, /uidMappings\/gidMappings are empty/],
    [
      {
        linux: {
          namespaces: [{ type: 'mount', path: '/proc/self/ns/mnt' }, { type: 'user' }],
          uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
          gidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
        },
      },
      /mount namespace joined by path cannot go with a new user namespace/,
    ],
    [
      { hostname: 'box', linux: { namespaces: [{ type: 'mount' }] } },
      /hostname can only be set with a uts namespace/,
    ],
    [{ mounts: [{ destination: 'relative', type: 'tmpfs' }] }, /must be an absolute path/],
    [{ mounts: [{ destination: '/x', type: 'bind' }] }, /bind mount without a source/],
    [
      {
        mounts: [
          {
            destination: '/v',
            type: 'bind',
            source: '/tmp',
            uidMappings: [{ containerID: 0, hostID: 100000, size: 1 }],
          },
        ],
      },
      /mounts\[0\] \(\/v\) is an idmapped mount .* not supported/,
    ],
    [
      { mounts: [{ destination: '/v', type: 'bind', source: '/tmp', options: ['rbind', 'ridmap'] }] },
      /idmapped mount/,
    ],
    [
      {
        mounts: [{ destination: '/data', type: 'bind', source: '/tmp', options: ['rbind', 'tmpcopyup'] }],
      },
      /mounts\[0\] \(\/data\) has option "tmpcopyup" but type "bind": it fills a tmpfs/,
    ],
    [
      { linux: { namespaces: [{ type: 'mount' }, { type: 'uts' }], sysctl: { 'net.ipv4.ip_forward': '1' } } },
      /needs a network namespace/,
    ],
    [
      { linux: { namespaces: [{ type: 'mount' }, { type: 'uts' }], sysctl: { 'vm.swappiness': '1' } } },
      /not namespaced/,
    ],
    [{ hooks: { prestart: [{ path: 'relative' }] } }, /must be absolute/],
    [{ hooks: { midstart: [] } }, /not a hook stage/],
    [
      { linux: { namespaces: [{ type: 'mount' }, { type: 'uts' }], rootfsPropagation: 'sideways' } },
      /rootfsPropagation "sideways" is not valid/,
    ],
  ])('rejects %j', (overrides, message) => {
    expect(check(spec(overrides))).toThrow(message);
  });

  it('prefixes every message with where the spec came from', () => {
    expect(check(spec({ ociVersion: 1 }))).toThrow(/^config.json: /);
    expect(check('not an object')).toThrow(/must be a JSON object/);
  });

  describe('security modules', () => {
    afterEach(() => {
      modules.appArmor = false;
      modules.selinux = false;
    });
    const withProfile = (profile: unknown) =>
      spec({ process: { args: ['sh'], cwd: '/', user: { uid: 0, gid: 0 }, apparmorProfile: profile } });

    it('accepts an AppArmor profile where the host runs AppArmor (the helper applies it)', () => {
      modules.appArmor = true;
      expect(check(withProfile('gantry-test'))).not.toThrow();
    });

    it('refuses an AppArmor profile where the host has no AppArmor, naming the field', () => {
      expect(check(withProfile('docker-default'))).toThrow(
        /process.apparmorProfile is "docker-default" but AppArmor is not enabled on this host/,
      );
    });

    it('refuses a profile name with a space or control character, or that is no string', () => {
      modules.appArmor = true;
      expect(check(withProfile('a b'))).toThrow(/has a space or control character/);
      expect(check(withProfile('a\nb'))).toThrow(/has a space or control character/);
      expect(check(withProfile(7))).toThrow(/process.apparmorProfile must be a string/);
    });

    const withLabel = (selinuxLabel: unknown) =>
      spec({ process: { args: ['sh'], cwd: '/', user: { uid: 0, gid: 0 }, selinuxLabel } });
    const withMountLabel = (mountLabel: unknown) =>
      spec({ linux: { namespaces: [{ type: 'mount' }, { type: 'uts' }], mountLabel } });

    it('refuses SELinux labels where the host has no SELinux, naming the field (runc’s validator refuses them too)', () => {
      expect(check(withLabel('system_u:system_r:container_t:s0'))).toThrow(
        /process.selinuxLabel is "system_u:system_r:container_t:s0" but SELinux is not enabled on this host .*remove the field/,
      );
      expect(check(withMountLabel('system_u:object_r:container_file_t:s0'))).toThrow(
        /linux.mountLabel is "system_u:object_r:container_file_t:s0" but SELinux is not enabled on this host/,
      );
    });

    it('accepts SELinux labels where the host runs SELinux (the helper applies them), with or without an MCS level', () => {
      modules.selinux = true;
      expect(check(withLabel('system_u:system_r:container_t:s0:c1,c2'))).not.toThrow();
      expect(check(withLabel('system_u:system_r:container_t'))).not.toThrow();
      expect(check(withMountLabel('system_u:object_r:container_file_t:s0:c1,c2'))).not.toThrow();
    });

    it.each([
      ['container_t', /is not an SELinux context; it must be USER:ROLE:TYPE\[:LEVEL\]/],
      ['system_u::container_t:s0', /is not an SELinux context/],
      ['system_u:system_r:container_t:', /is not an SELinux context/],
      ['system_u:system_r:container_t:s0 x', /has a space, quote or control character/],
      ['system_u:system_r:container_t:s0",size=1', /has a space, quote or control character/],
      [7, /must be a string/],
    ])('refuses %j as an SELinux label, naming the field', (label, message) => {
      modules.selinux = true;
      expect(check(withLabel(label))).toThrow(new RegExp(`process.selinuxLabel .*${message.source}`));
      expect(check(withMountLabel(label))).toThrow(new RegExp(`linux.mountLabel .*${message.source}`));
    });
  });
});
