/**
 * --security-opt apparmor=PROFILE: which profile the spec gets, and the refusal at create where
 * the host has no AppArmor (the module check is stubbed: this runs on hosts with and without it).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseSecurityOptions } from '../../../source/runtime/containers/create.js';
import { appArmorProfile } from '../../../source/runtime/containers/security-options.js';

const modules = vi.hoisted(() => ({ appArmor: false }));
vi.mock('../../../source/runtime/spec/security-modules.js', async (importOriginal) => ({
  ...(await importOriginal<Record<string, unknown>>()),
  appArmorEnabled: () => modules.appArmor,
  selinuxEnabled: () => false,
}));

describe('--security-opt apparmor', () => {
  afterEach(() => {
    modules.appArmor = false;
  });

  it('gives the spec the last profile named; unconfined (the default here) gives none', () => {
    expect(appArmorProfile({ SecurityOpt: ['apparmor=one', 'seccomp=unconfined', 'apparmor:two'] })).toBe(
      'two',
    );
    expect(appArmorProfile({ SecurityOpt: ['apparmor=one', 'apparmor=unconfined'] })).toBeUndefined();
    expect(appArmorProfile({ SecurityOpt: [] })).toBeUndefined();
  });

  it('is accepted at create where the host runs AppArmor', () => {
    modules.appArmor = true;
    expect(parseSecurityOptions(['apparmor=gantry-test'])).toEqual({});
  });

  it('is refused at create where the host has no AppArmor, except unconfined', () => {
    expect(() => parseSecurityOptions(['apparmor=gantry-test'])).toThrow(
      /apparmor=gantry-test: AppArmor is not enabled on this host/,
    );
    expect(parseSecurityOptions(['apparmor=unconfined'])).toEqual({});
  });

  it('refuses what cannot be a profile name', () => {
    modules.appArmor = true;
    expect(() => parseSecurityOptions(['apparmor=a b'])).toThrow(/not a profile name/);
  });
});
