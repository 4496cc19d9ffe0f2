/**
 * v2 has no devices files: access to device nodes is decided by a BPF_CGROUP_DEVICE program
 * attached to the cgroup. The driver compiles the rules (device-filter.ts) and hands the program
 * to a DeviceFilter, the one kernel access of the v2 driver that is not a file: unit tests on a
 * fake tree inject a recording one, and the host's loads and attaches through sys/bpf.ts.
 */
import { GantryError, SyscallError, UnsupportedError } from '../../errors.js';
import type * as BpfModule from '../../sys/bpf.js';
import type { DeviceRule, Resources } from '../types.js';
import { compileDeviceFilter, encodeInstructions } from './device-filter.js';

export interface DeviceFilter {
  /**
   * Loads `program` (struct bpf_insn[]) without attaching it, so a host that refuses BPF
   * programs, or this program, is found before the container's cgroup exists.
   */
  check(program: Buffer): Promise<void>;
  /**
   * Attaches `program` to the cgroup directory `dir`, then detaches the device programs attached
   * there before, so the cgroup is never without a filter. When loading or attaching fails, the
   * cgroup keeps the programs it had; when detaching fails, it never allows more than the new
   * program does.
   */
  replace(dir: string, program: Buffer): Promise<void>;
}

/** The program for a rule list, as the kernel reads it. */
export function deviceProgram(rules: readonly DeviceRule[]): Buffer {
  return encodeInstructions(compileDeviceFilter(rules));
}

export function recordDeviceRules(resources: Resources): DeviceRule[] | undefined {
  return resources.devices?.map((rule) => ({ ...rule }));
}

const LICENSE = 'Apache-2.0';
const PROGRAM_NAME = 'gantry_devices';

// Loaded on first use (like the libc binding behind it), so commands that never attach a
// program do not load it.
type Bpf = typeof BpfModule;

/** Turns a refused BPF_PROG_LOAD into what a user can act on. */
function loadError(bpf: Bpf, error: unknown, dir: string | undefined): unknown {
  if (!(error instanceof SyscallError) || error.syscall !== 'bpf(BPF_PROG_LOAD)') return error;
  const what = `loading the device filter${dir === undefined ? '' : ` for ${dir}`}`;
  if (error.code === 'EPERM') {
    return new UnsupportedError(`${what}: EPERM; the kernel refuses BPF programs`, {
      cause: error,
      hint: 'run as root (CAP_BPF and CAP_SYS_ADMIN); kernel.unprivileged_bpf_disabled, kernel lockdown, or an RLIMIT_MEMLOCK too low (kernels before 5.11) also refuse them',
    });
  }
  if (error.code === 'ENOSYS' || (error.code === 'EINVAL' && !(error instanceof bpf.BpfVerifierError))) {
    return new UnsupportedError(
      `${what}: ${error.code}; the kernel has no BPF cgroup device programs, so device rules cannot be enforced on cgroup v2`,
      { cause: error, hint: 'Linux 4.17 or later with CONFIG_CGROUP_BPF and CONFIG_BPF_SYSCALL is needed' },
    );
  }
  return new GantryError(`${what}: ${error.message}`, { cause: error });
}

function load(bpf: Bpf, program: Buffer, dir?: string): number {
  try {
    return bpf.loadProgram({
      type: bpf.BPF_PROG_TYPE_CGROUP_DEVICE,
      instructions: program,
      license: LICENSE,
      name: PROGRAM_NAME,
      expectedAttachType: bpf.BPF_CGROUP_DEVICE,
    });
  } catch (error) {
    throw loadError(bpf, error, dir);
  }
}

/** fds of the device programs attached to the cgroup itself; closed by the caller. */
function attachedPrograms(bpf: Bpf, cgroupFd: number, dir: string): number[] {
  const fds: number[] = [];
  try {
    for (const id of bpf.queryPrograms(cgroupFd, bpf.BPF_CGROUP_DEVICE, dir)) {
      try {
        fds.push(bpf.programFdById(id));
      } catch (error) {
        // A program an LSM hides from us (runc meets systemd's under SELinux) cannot be detached;
        // device programs only ever narrow access, so leaving it attached is safe.
        if (error instanceof SyscallError && (error.code === 'EPERM' || error.code === 'EACCES')) continue;
        // Detached between the query and now.
        if (error instanceof SyscallError && error.code === 'ENOENT') continue;
        throw error;
      }
    }
    return fds;
  } catch (error) {
    for (const fd of fds) bpf.closeFd(fd);
    throw error;
  }
}

export const hostDeviceFilter: DeviceFilter = {
  async check(program) {
    const bpf = await import('../../sys/bpf.js');
    bpf.closeFd(load(bpf, program));
  },
  async replace(dir, program) {
    const bpf = await import('../../sys/bpf.js');
    const programFd = load(bpf, program, dir);
    let cgroupFd: number | undefined;
    let old: number[] = [];
    try {
      cgroupFd = bpf.openCgroupDirectory(dir);
      old = attachedPrograms(bpf, cgroupFd, dir);
      bpf.attachProgram(cgroupFd, programFd, bpf.BPF_CGROUP_DEVICE, bpf.BPF_F_ALLOW_MULTI, dir);
      let detached = 0;
      try {
        for (const fd of old) {
          bpf.detachProgram(cgroupFd, fd, bpf.BPF_CGROUP_DEVICE, dir);
          detached += 1;
        }
      } catch (error) {
        // With none of the old programs gone, the cgroup goes back to them alone. Once one is
        // gone the new one stays: a device passes only when every attached program allows it,
        // so the cgroup allows no more than the new program does.
        if (detached === 0) {
          try {
            bpf.detachProgram(cgroupFd, programFd, bpf.BPF_CGROUP_DEVICE, dir);
          } catch {
            // Both stay attached, which allows no more than the old program alone.
          }
        }
        throw error;
      }
    } finally {
      for (const fd of old) bpf.closeFd(fd);
      if (cgroupFd !== undefined) bpf.closeFd(cgroupFd);
      // The attachment holds the program; the fd is no longer needed.
      bpf.closeFd(programFd);
    }
  },
};
