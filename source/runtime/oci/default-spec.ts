/** The config.json `gantry-oci spec` writes: the same defaults as `runc spec`. */
import { DEFAULT_MASKED_PATHS, DEFAULT_MOUNTS, DEFAULT_READONLY_PATHS } from '../spec/defaults.js';
import { OCI_VERSION, type OciMount, type OciSpec } from '../spec/types.js';

/**
 * Where `runc spec` differs from the engine's default mounts: /proc without options, and the
 * cgroup mount's options in runc's order (the same set).
 */
const RUNC_SPEC_OPTIONS: Readonly<Record<string, readonly string[] | undefined>> = {
  '/proc': undefined,
  '/sys/fs/cgroup': ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'],
};

function runcSpecMounts(): OciMount[] {
  return DEFAULT_MOUNTS.map(({ options, ...mount }) => {
    const runcOptions = Object.hasOwn(RUNC_SPEC_OPTIONS, mount.destination)
      ? RUNC_SPEC_OPTIONS[mount.destination]
      : options;
    return runcOptions ? { ...mount, options: [...runcOptions] } : mount;
  });
}

export function defaultBundleSpec(): OciSpec {
  const caps = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];
  return {
    ociVersion: OCI_VERSION,
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ['sh'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'gantry',
    mounts: runcSpecMounts(),
    linux: {
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      namespaces: [
        { type: 'pid' },
        { type: 'network' },
        { type: 'ipc' },
        { type: 'uts' },
        { type: 'mount' },
        { type: 'cgroup' },
      ],
      maskedPaths: [...DEFAULT_MASKED_PATHS],
      readonlyPaths: [...DEFAULT_READONLY_PATHS],
    },
  };
}
