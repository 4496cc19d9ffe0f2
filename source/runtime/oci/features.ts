/**
 * `gantry-oci features`: what this runtime implements, in the runtime-spec's features format
 * (features.md), as `runc features` prints it, so a driver can ask before it relies on something.
 */
import { CAPABILITIES } from '../spec/capabilities.js';
import { knownMountOptions } from '../spec/mount-options.js';
import { OCI_VERSION } from '../spec/types.js';

const SECCOMP_ACTIONS = [
  'SCMP_ACT_ALLOW',
  'SCMP_ACT_ERRNO',
  'SCMP_ACT_KILL',
  'SCMP_ACT_KILL_PROCESS',
  'SCMP_ACT_KILL_THREAD',
  'SCMP_ACT_LOG',
  'SCMP_ACT_TRACE',
  'SCMP_ACT_TRAP',
];
const SECCOMP_OPERATORS = [
  'SCMP_CMP_EQ',
  'SCMP_CMP_GE',
  'SCMP_CMP_GT',
  'SCMP_CMP_LE',
  'SCMP_CMP_LT',
  'SCMP_CMP_MASKED_EQ',
  'SCMP_CMP_NE',
];
const SECCOMP_ARCHS: Record<string, string[]> = {
  x64: ['SCMP_ARCH_X86_64'],
  arm64: ['SCMP_ARCH_AARCH64'],
};

export function features(): Record<string, unknown> {
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: OCI_VERSION,
    hooks: ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'],
    mountOptions: [...new Set(knownMountOptions())].sort(),
    linux: {
      namespaces: ['cgroup', 'ipc', 'mount', 'network', 'pid', 'user', 'uts'],
      capabilities: [...CAPABILITIES],
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false, rdma: false },
      seccomp: {
        enabled: SECCOMP_ARCHS[process.arch] !== undefined,
        actions: SECCOMP_ACTIONS,
        operators: SECCOMP_OPERATORS,
        archs: SECCOMP_ARCHS[process.arch] ?? [],
        knownFlags: [],
        supportedFlags: [],
      },
      // As runc's: AppArmor profiles and SELinux labels are applied (refused where the host runs
      // neither module; spec/validate.ts).
      apparmor: { enabled: true },
      selinux: { enabled: true },
      intelRdt: { enabled: false },
      // Idmapped mounts (mounts[].uidMappings, "idmap") are refused, so a driver (CRI-O's
      // RuntimeSupportsIDMap) chowns volumes for a user namespace instead of relying on them.
      mountExtensions: { idmap: { enabled: false } },
    },
    annotations: {
      'org.opencontainers.runc.checkpoint.enabled': 'false',
      'io.gantry.oci.create.handoff': 'true',
    },
  };
}
