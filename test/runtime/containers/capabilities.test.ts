import { describe, expect, it } from 'vitest';
import { capabilitySet, heldCapabilities } from '../../../source/runtime/containers/spec-builder.js';
import { CAPABILITIES, DEFAULT_CAPABILITIES } from '../../../source/runtime/spec/capabilities.js';

// This host's bounding set: everything up to CAP_CHECKPOINT_RESTORE but CAP_SYS_RESOURCE (bit 24).
const status = 'Name:\tnode\nCapBnd:\t000001fffeffffff\nCapAmb:\t0000000000000000\n';

describe('container capabilities', () => {
  it('reads the bounding set gantry can hand on', () => {
    const held = heldCapabilities(status)!;
    expect(held.has('CAP_SYS_ADMIN')).toBe(true);
    expect(held.has('CAP_SYS_RESOURCE')).toBe(false);
    expect(held.size).toBe(CAPABILITIES.length - 1);
    expect(heldCapabilities('Name:\tnode\n')).toBeUndefined();
  });

  it("gives docker's default set, and --privileged every capability the host lets through", () => {
    const held = heldCapabilities(status);
    expect(capabilitySet([], [], false, held)).toEqual(
      CAPABILITIES.filter((name) => DEFAULT_CAPABILITIES.includes(name)),
    );
    const privileged = capabilitySet([], [], true, held);
    expect(privileged).not.toContain('CAP_SYS_RESOURCE');
    expect(privileged).toHaveLength(CAPABILITIES.length - 1);
    expect(capabilitySet(['ALL'], [], false, held)).toEqual(privileged);
  });

  it('refuses to add a capability the host withholds, naming it', () => {
    expect(() => capabilitySet(['SYS_RESOURCE'], [], false, heldCapabilities(status))).toThrow(
      '--cap-add CAP_SYS_RESOURCE: this host withholds it',
    );
    expect(capabilitySet(['NET_ADMIN'], ['KILL'], false, heldCapabilities(status))).toContain(
      'CAP_NET_ADMIN',
    );
  });
});
