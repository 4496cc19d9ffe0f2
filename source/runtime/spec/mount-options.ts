/**
 * Mount options of a spec ("ro", "nosuid", "rbind", "mode=755", ...) to mount(2) flags,
 * propagation flags and the data string, the way runc's parseMountOptions does it.
 */

export const MS = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  SYNCHRONOUS: 0x10,
  REMOUNT: 0x20,
  MANDLOCK: 0x40,
  DIRSYNC: 0x80,
  NOSYMFOLLOW: 0x100,
  NOATIME: 0x400,
  NODIRATIME: 0x800,
  BIND: 0x1000,
  REC: 0x4000,
  UNBINDABLE: 0x20000,
  PRIVATE: 0x40000,
  SLAVE: 0x80000,
  SHARED: 0x100000,
  RELATIME: 0x200000,
  STRICTATIME: 0x1000000,
} as const;

const SET_FLAGS: Record<string, number> = {
  ro: MS.RDONLY,
  nosuid: MS.NOSUID,
  nodev: MS.NODEV,
  noexec: MS.NOEXEC,
  sync: MS.SYNCHRONOUS,
  remount: MS.REMOUNT,
  mand: MS.MANDLOCK,
  dirsync: MS.DIRSYNC,
  nosymfollow: MS.NOSYMFOLLOW,
  noatime: MS.NOATIME,
  nodiratime: MS.NODIRATIME,
  bind: MS.BIND,
  rbind: MS.BIND | MS.REC,
  relatime: MS.RELATIME,
  strictatime: MS.STRICTATIME,
};

const CLEAR_FLAGS: Record<string, number> = {
  rw: MS.RDONLY,
  suid: MS.NOSUID,
  dev: MS.NODEV,
  exec: MS.NOEXEC,
  async: MS.SYNCHRONOUS,
  nomand: MS.MANDLOCK,
  atime: MS.NOATIME,
  diratime: MS.NODIRATIME,
  norelatime: MS.RELATIME,
  nostrictatime: MS.STRICTATIME,
  symfollow: MS.NOSYMFOLLOW,
};

const PROPAGATION: Record<string, number> = {
  private: MS.PRIVATE,
  rprivate: MS.PRIVATE | MS.REC,
  shared: MS.SHARED,
  rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE,
  rslave: MS.SLAVE | MS.REC,
  unbindable: MS.UNBINDABLE,
  runbindable: MS.UNBINDABLE | MS.REC,
};

/**
 * Options runc accepts that change nothing for us here. `idmap`/`ridmap` are not among them:
 * validation refuses those (not implemented) rather than make a mount that silently lacks what the
 * spec asked for.
 */
const IGNORED = new Set(['copy-symlink']);

/** mount_setattr(2)'s attributes (linux/mount.h); the atime ones are an enum in MOUNT_ATTR__ATIME. */
export const MOUNT_ATTR = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  ATIME_MASK: 0x70,
  RELATIME: 0,
  NOATIME: 0x10,
  STRICTATIME: 0x20,
  NODIRATIME: 0x80,
  NOSYMFOLLOW: 0x200000,
} as const;

/**
 * runc's recursive attributes: set or cleared with mount_setattr(AT_RECURSIVE) on the mount and
 * every mount below it, after it is made (runc's recAttrFlags). `rrw` is not only the undoing of an
 * earlier `rro`: it clears read-only on the mounts below too, as runc does.
 */
const RECURSIVE_ATTRIBUTES: Record<string, { clear: boolean; attribute: number }> = {
  rro: { clear: false, attribute: MOUNT_ATTR.RDONLY },
  rrw: { clear: true, attribute: MOUNT_ATTR.RDONLY },
  rnosuid: { clear: false, attribute: MOUNT_ATTR.NOSUID },
  rsuid: { clear: true, attribute: MOUNT_ATTR.NOSUID },
  rnodev: { clear: false, attribute: MOUNT_ATTR.NODEV },
  rdev: { clear: true, attribute: MOUNT_ATTR.NODEV },
  rnoexec: { clear: false, attribute: MOUNT_ATTR.NOEXEC },
  rexec: { clear: true, attribute: MOUNT_ATTR.NOEXEC },
  rnodiratime: { clear: false, attribute: MOUNT_ATTR.NODIRATIME },
  rdiratime: { clear: true, attribute: MOUNT_ATTR.NODIRATIME },
  rrelatime: { clear: false, attribute: MOUNT_ATTR.RELATIME },
  rnorelatime: { clear: true, attribute: MOUNT_ATTR.RELATIME },
  rnoatime: { clear: false, attribute: MOUNT_ATTR.NOATIME },
  ratime: { clear: true, attribute: MOUNT_ATTR.NOATIME },
  rstrictatime: { clear: false, attribute: MOUNT_ATTR.STRICTATIME },
  rnostrictatime: { clear: true, attribute: MOUNT_ATTR.STRICTATIME },
  rnosymfollow: { clear: false, attribute: MOUNT_ATTR.NOSYMFOLLOW },
  rsymfollow: { clear: true, attribute: MOUNT_ATTR.NOSYMFOLLOW },
};
/** A tmpfs filled with what the root has at its destination before it covers it (podman's --tmpfs). */
export const COPY_UP = 'tmpcopyup';

/** What the recursive options ask of mount_setattr: attributes to set and to clear. */
export interface RecursiveAttributes {
  set: number;
  clear: number;
}

export interface ParsedMountOptions {
  flags: number;
  propagation: number;
  data: string[];
  /** From `rro`, `rnosuid`, ...: for this mount and every mount below it; none when absent. */
  recursive: RecursiveAttributes | undefined;
  /** `tmpcopyup`: the tmpfs starts with the files the root has at the destination. */
  copyUp: boolean;
}

/** One recursive option on top of those before it, the way runc's parseMountOptions folds them. */
function withRecursive(
  { set, clear }: RecursiveAttributes,
  option: { clear: boolean; attribute: number },
): RecursiveAttributes {
  if (option.clear) return { set: set & ~option.attribute, clear: clear | option.attribute };
  // The atime settings are an enum: setting one takes the whole MOUNT_ATTR__ATIME field in `clear`.
  const atime = (option.attribute & MOUNT_ATTR.ATIME_MASK) === option.attribute ? MOUNT_ATTR.ATIME_MASK : 0;
  return { set: set | option.attribute, clear: (clear & ~option.attribute) | atime };
}

export function parseMountOptions(options: readonly string[] = []): ParsedMountOptions {
  let flags = 0;
  let propagation = 0;
  const data: string[] = [];
  let recursive: RecursiveAttributes | undefined;
  let copyUp = false;
  for (const option of options) {
    const set = SET_FLAGS[option];
    const clear = CLEAR_FLAGS[option];
    const propagate = PROPAGATION[option];
    if (set !== undefined) flags |= set;
    else if (clear !== undefined) flags &= ~clear;
    else if (propagate !== undefined) propagation = propagate;
    else if (RECURSIVE_ATTRIBUTES[option] !== undefined)
      recursive = withRecursive(recursive ?? { set: 0, clear: 0 }, RECURSIVE_ATTRIBUTES[option]);
    else if (option === COPY_UP) copyUp = true;
    else if (!IGNORED.has(option)) data.push(option);
  }
  return { flags, propagation, data, recursive, copyUp };
}

export function propagationFlags(name: string | undefined): number | undefined {
  if (name === undefined || name === '') return undefined;
  return PROPAGATION[name];
}

/** Every option name parseMountOptions knows (gantry-oci features lists them). */
export function knownMountOptions(): string[] {
  return [
    ...Object.keys(SET_FLAGS),
    ...Object.keys(CLEAR_FLAGS),
    ...Object.keys(PROPAGATION),
    ...Object.keys(RECURSIVE_ATTRIBUTES),
    COPY_UP,
    ...IGNORED,
  ];
}
