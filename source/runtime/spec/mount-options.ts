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
 * Options runc accepts that change nothing for us here. `idmap`/`ridmap` and the recursive
 * attributes are not among them: validation refuses those (not implemented) rather than make a
 * mount that silently lacks what the spec asked for.
 */
const IGNORED = new Set(['copy-symlink']);

/**
 * runc's recursive mount_setattr attributes (`rnosuid`, ...), which gantry-oci does not implement
 * but `rro`/`rrw`. Unknown options otherwise become mount data, which the kernel ignores on a bind
 * mount: these would be dropped without a word.
 */
const RECURSIVE_ATTRIBUTES = [
  'ro',
  'rw',
  'nosuid',
  'suid',
  'nodev',
  'dev',
  'noexec',
  'exec',
  'nodiratime',
  'diratime',
  'relatime',
  'norelatime',
  'noatime',
  'atime',
  'strictatime',
  'nostrictatime',
  'nosymfollow',
  'symfollow',
];
/** `rro`/`rrw` are honoured (mount_setattr MOUNT_ATTR_RDONLY with AT_RECURSIVE, kernel 5.12+). */
const RECURSIVE_READONLY: Record<string, boolean> = { rro: true, rrw: false };
const UNSUPPORTED = new Set(
  RECURSIVE_ATTRIBUTES.map((name) => `r${name}`).filter((name) => !(name in RECURSIVE_READONLY)),
);
/** A tmpfs filled with what the root has at its destination before it covers it (podman's --tmpfs). */
export const COPY_UP = 'tmpcopyup';

/** The first option in `options` that gantry-oci refuses (see UNSUPPORTED), if any. */
export function unsupportedMountOption(options: readonly string[] = []): string | undefined {
  return options.find((option) => UNSUPPORTED.has(option));
}

export interface ParsedMountOptions {
  flags: number;
  propagation: number;
  data: string[];
  /** Read-only for this mount and every mount below it (`rro`), not only the top one (`ro`). */
  recursiveReadonly: boolean;
  /** `tmpcopyup`: the tmpfs starts with the files the root has at the destination. */
  copyUp: boolean;
}

export function parseMountOptions(options: readonly string[] = []): ParsedMountOptions {
  let flags = 0;
  let propagation = 0;
  const data: string[] = [];
  let recursiveReadonly = false;
  let copyUp = false;
  for (const option of options) {
    const set = SET_FLAGS[option];
    const clear = CLEAR_FLAGS[option];
    const propagate = PROPAGATION[option];
    if (set !== undefined) flags |= set;
    else if (clear !== undefined) flags &= ~clear;
    else if (propagate !== undefined) propagation = propagate;
    else if (RECURSIVE_READONLY[option] !== undefined) recursiveReadonly = RECURSIVE_READONLY[option];
    else if (option === COPY_UP) copyUp = true;
    else if (!IGNORED.has(option)) data.push(option);
  }
  return { flags, propagation, data, recursiveReadonly, copyUp };
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
    ...Object.keys(RECURSIVE_READONLY),
    COPY_UP,
    ...IGNORED,
  ];
}
