/**
 * Mount options to mount(2) flags and runc's recursive attributes: the recursive options fold the
 * way runc's parseMountOptions folds them (the last of a set/clear pair wins; an atime setting
 * takes the whole atime field), and tmpcopyup is an extension, not mount data.
 */
import { describe, expect, it } from 'vitest';
import {
  knownMountOptions,
  MOUNT_ATTR,
  MS,
  parseMountOptions,
} from '../../../source/runtime/spec/mount-options.js';

describe('parseMountOptions', () => {
  it('leaves the recursive attributes out when no recursive option is given', () => {
    expect(parseMountOptions(['rbind', 'ro']).recursive).toBeUndefined();
  });

  it('rro sets read-only, rrw clears it; the later one wins', () => {
    expect(parseMountOptions(['rro']).recursive).toEqual({ set: MOUNT_ATTR.RDONLY, clear: 0 });
    expect(parseMountOptions(['rrw']).recursive).toEqual({ set: 0, clear: MOUNT_ATTR.RDONLY });
    expect(parseMountOptions(['rro', 'rrw']).recursive).toEqual({ set: 0, clear: MOUNT_ATTR.RDONLY });
    expect(parseMountOptions(['rrw', 'rro']).recursive).toEqual({ set: MOUNT_ATTR.RDONLY, clear: 0 });
    // rrw says nothing of the mount's own flags: "ro" stays a flag, rrw clears it after the mount.
    expect(parseMountOptions(['ro', 'rrw']).flags & MS.RDONLY).toBe(MS.RDONLY);
  });

  it('combines recursive attributes; an atime setting clears the whole atime field first', () => {
    expect(parseMountOptions(['rnosuid', 'rnoexec', 'rnodev']).recursive).toEqual({
      set: MOUNT_ATTR.NOSUID | MOUNT_ATTR.NOEXEC | MOUNT_ATTR.NODEV,
      clear: 0,
    });
    expect(parseMountOptions(['rnoatime']).recursive).toEqual({
      set: MOUNT_ATTR.NOATIME,
      clear: MOUNT_ATTR.ATIME_MASK,
    });
    expect(parseMountOptions(['rrelatime']).recursive).toEqual({ set: 0, clear: MOUNT_ATTR.ATIME_MASK });
  });

  it('takes tmpcopyup as the copy-up extension, not as data for the filesystem', () => {
    const parsed = parseMountOptions(['nosuid', 'tmpcopyup', 'size=64m']);
    expect(parsed.copyUp).toBe(true);
    expect(parsed.data).toEqual(['size=64m']);
    expect(parseMountOptions(['nosuid']).copyUp).toBe(false);
  });

  it('knows every recursive option and tmpcopyup (gantry-oci features lists them)', () => {
    expect(knownMountOptions()).toEqual(
      expect.arrayContaining(['rro', 'rrw', 'rnosuid', 'rsuid', 'rnosymfollow', 'ratime', 'tmpcopyup']),
    );
  });
});
