/**
 * The seccomp profile `gantry run` applies unless --privileged or --security-opt
 * seccomp=unconfined: docker's protections written as a deny list. The syscalls docker's
 * default profile leaves out are refused with EPERM unless the container holds the capability
 * docker ties them to; namespace-creating clone flags need CAP_SYS_ADMIN; clone3 answers ENOSYS
 * so libc falls back to clone, whose flags can be checked.
 */
import type { OciSeccomp } from './types.js';

const BY_CAPABILITY: Record<string, string[]> = {
  CAP_SYS_ADMIN: [
    'mount',
    'umount',
    'umount2',
    'pivot_root',
    'setns',
    'unshare',
    'fsopen',
    'fsconfig',
    'fsmount',
    'fspick',
    'move_mount',
    'open_tree',
    'mount_setattr',
    'quotactl',
    'quotactl_fd',
    'lookup_dcookie',
    'fanotify_init',
    'name_to_handle_at',
    'swapon',
    'swapoff',
  ],
  CAP_SYS_BOOT: ['reboot', 'kexec_load', 'kexec_file_load'],
  CAP_SYS_MODULE: [
    'init_module',
    'finit_module',
    'delete_module',
    'create_module',
    'get_kernel_syms',
    'query_module',
  ],
  CAP_SYS_RAWIO: ['iopl', 'ioperm'],
  CAP_SYS_TIME: ['settimeofday', 'stime', 'clock_settime', 'clock_adjtime'],
  CAP_SYS_PTRACE: ['ptrace', 'process_vm_readv', 'process_vm_writev', 'kcmp', 'pidfd_getfd'],
  CAP_SYS_NICE: ['get_mempolicy', 'set_mempolicy', 'mbind', 'move_pages'],
  CAP_DAC_READ_SEARCH: ['open_by_handle_at'],
  CAP_SYS_PACCT: ['acct'],
  CAP_SYS_TTY_CONFIG: ['vhangup'],
  CAP_SYSLOG: ['syslog'],
};

/** Not namespaced or long obsolete: refused whatever the capabilities. */
const ALWAYS = [
  'add_key',
  'keyctl',
  'request_key',
  'userfaultfd',
  'uselib',
  'ustat',
  'sysfs',
  '_sysctl',
  'nfsservctl',
  'vm86',
  'vm86old',
  'io_uring_setup',
  'io_uring_enter',
  'io_uring_register',
];

/** bpf and perf_event_open need either of two capabilities. */
const EITHER: [string, string[]][] = [
  ['bpf', ['CAP_SYS_ADMIN', 'CAP_BPF']],
  ['perf_event_open', ['CAP_SYS_ADMIN', 'CAP_PERFMON']],
];

const CLONE_NAMESPACE_FLAGS = [
  0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000,
];
const ENOSYS = 38;

export function defaultSeccompProfile(capabilities: readonly string[]): OciSeccomp {
  const held = new Set(capabilities);
  const denied = [...ALWAYS];
  for (const [capability, names] of Object.entries(BY_CAPABILITY))
    if (!held.has(capability)) denied.push(...names);
  for (const [name, needs] of EITHER) if (!needs.some((c) => held.has(c))) denied.push(name);
  const syscalls: NonNullable<OciSeccomp['syscalls']> = [
    { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS },
    { names: denied, action: 'SCMP_ACT_ERRNO', errnoRet: 1 },
  ];
  if (!held.has('CAP_SYS_ADMIN')) {
    for (const flag of CLONE_NAMESPACE_FLAGS) {
      syscalls.push({
        names: ['clone'],
        action: 'SCMP_ACT_ERRNO',
        errnoRet: 1,
        args: [{ index: 0, value: flag, valueTwo: flag, op: 'SCMP_CMP_MASKED_EQ' }],
      });
    }
  }
  return {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_AARCH64'],
    syscalls,
  };
}
