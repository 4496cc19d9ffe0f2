/**
 * The one entry point callers use: picks the v1 or v2 driver for the host's layout (or the one
 * given) and returns it behind CgroupManager.
 */
import { DEFAULT_CGROUP_ROOT, detectCgroupLayout, hostCgroupLayout, type CgroupLayout } from './detect.js';
import { hostCgroupFs, type CgroupFs } from './fs.js';
import type { CgroupManager } from './types.js';
import type { DeviceFilter } from './v2/devices.js';
import type { SchedulerOf } from './v2/io.js';
import { V1CgroupManager } from './v1/manager.js';
import { V2CgroupManager } from './v2/manager.js';

export interface CgroupManagerOptions {
  /** Mount point of the cgroup filesystems (default /sys/fs/cgroup; tests give a fake tree). */
  cgroupRoot?: string;
  /** Directory holding the engine's containers in each hierarchy, e.g. "gantry" or "a/b". */
  parent: string;
  /** The container's directory name (its id). */
  name: string;
  /** The host layout; detected from mountinfo (or the fake tree) when absent. */
  layout?: CgroupLayout;
  /** Kernel access; the host's cgroupfs when absent. Tests inject a fake. */
  fs?: CgroupFs;
  /** Receives what docker would print as a warning (a limit this host cannot enforce). */
  onWarning?: (message: string) => void;
  /** How long freeze()/thaw() wait for the freezer to settle (default 5 s). */
  freezeTimeoutMs?: number;
  /** How long destroy() retries while exiting processes keep the cgroup busy (default 3 s). */
  destroyTimeoutMs?: number;
  /**
   * cgroup v2: loads and attaches the device rules' BPF program; the host's bpf(2) when absent.
   * Tests on a fake tree inject one that records the program instead.
   */
  deviceFilter?: DeviceFilter;
  /** cgroup v2: a disk's I/O scheduler (per-device weights need BFQ); sysfs when absent. */
  schedulerOf?: SchedulerOf;
  /** cgroup v2: this process's cgroup; /proc/self/cgroup when absent. */
  ownCgroup?: () => string | undefined;
}

function layoutFor(cgroupRoot: string): CgroupLayout {
  // The host's layout is read once per process; any other root (a fake tree) each time.
  return cgroupRoot === DEFAULT_CGROUP_ROOT
    ? hostCgroupLayout(cgroupRoot)
    : detectCgroupLayout({ cgroupRoot });
}

export function createCgroupManager(options: CgroupManagerOptions): CgroupManager {
  const layout = options.layout ?? layoutFor(options.cgroupRoot ?? DEFAULT_CGROUP_ROOT);
  const common = {
    layout,
    parent: options.parent,
    name: options.name,
    fs: options.fs ?? hostCgroupFs,
    warn: options.onWarning ?? (() => undefined),
    ...(options.freezeTimeoutMs === undefined ? {} : { freezeTimeoutMs: options.freezeTimeoutMs }),
    ...(options.destroyTimeoutMs === undefined ? {} : { destroyTimeoutMs: options.destroyTimeoutMs }),
  };
  if (layout.driver === 1) return new V1CgroupManager(common);
  return new V2CgroupManager({
    ...common,
    deviceFilter: options.deviceFilter,
    schedulerOf: options.schedulerOf,
    ownCgroup: options.ownCgroup,
  });
}
