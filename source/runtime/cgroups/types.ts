/**
 * The one cgroup interface callers see. Version differences (v1 per-controller hierarchies,
 * v2 unified tree) live only inside cgroups/; everything outside talks to CgroupManager.
 */

/** A block device throttle: `--device-read-bps /dev/sda:1mb` becomes { major, minor, rate }. */
export interface DeviceThrottle {
  /** Host path the user named (kept for inspect output). */
  path: string;
  major: number;
  minor: number;
  rate: number;
}

export interface DeviceWeight {
  path: string;
  major: number;
  minor: number;
  weight: number;
}

/** One device cgroup rule: type a|b|c, major/minor (-1 = wildcard), access "rwm". */
export interface DeviceRule {
  allow: boolean;
  type: 'a' | 'b' | 'c';
  major: number;
  minor: number;
  access: string;
}

/**
 * Limits of a container, in docker's vocabulary and units (bytes, CFS microseconds, shares).
 * Absent fields leave the kernel default; `0` means "unset" only where docker says so.
 */
export interface Resources {
  /** --memory: hard limit in bytes. */
  memory?: number;
  /** --memory-reservation: soft limit in bytes (v1 soft_limit_in_bytes, v2 memory.low). */
  memoryReservation?: number;
  /** --memory-swap: memory + swap in bytes; -1 unlimited. */
  memorySwap?: number;
  /** --memory-high (v2 only): throttle point in bytes. */
  memoryHigh?: number;
  /** --kernel-memory (v1 kernels that still have kmem.limit_in_bytes). */
  kernelMemory?: number;
  /** --oom-kill-disable */
  oomKillDisable?: boolean;
  /** --memory-swappiness: 0-100, how readily the kernel swaps this cgroup's memory (v1 only). */
  memorySwappiness?: number;
  /** --cpu-shares (v1 shares; v2 weight via the standard conversion). */
  cpuShares?: number;
  /** --cpu-period in microseconds. */
  cpuPeriod?: number;
  /** --cpu-quota in microseconds; -1 unlimited. --cpus N sets quota = N * period. */
  cpuQuota?: number;
  /** --cpuset-cpus, e.g. "0-1,3". */
  cpusetCpus?: string;
  /** --cpuset-mems */
  cpusetMems?: string;
  /** --blkio-weight 10..1000 */
  blkioWeight?: number;
  blkioWeightDevice?: DeviceWeight[];
  blkioDeviceReadBps?: DeviceThrottle[];
  blkioDeviceWriteBps?: DeviceThrottle[];
  blkioDeviceReadIOps?: DeviceThrottle[];
  blkioDeviceWriteIOps?: DeviceThrottle[];
  /** --pids-limit; -1 or 0 unlimited. */
  pidsLimit?: number;
  /** Device allow/deny rules in order (defaults first, then --device and --device-cgroup-rule). */
  devices?: DeviceRule[];
  /** --net-cls-classid (v1 net_cls.classid). */
  netClsClassid?: number;
  /** --net-prio IFACE=PRIO (v1 net_prio.ifpriomap). */
  netPrioIfpriomap?: Record<string, number>;
  /** hugetlb limits by page size ("2MB" -> bytes). */
  hugepageLimits?: Record<string, number>;
  /**
   * cgroup v2 files by name with raw values (the OCI spec's linux.resources.unified), written
   * after the named limits; refused on cgroup v1.
   */
  unified?: Record<string, string>;
}

export interface CgroupStats {
  /** Sample time, ms since epoch. */
  time: number;
  memory?: {
    /** Usage as the kernel reports it (includes page cache). */
    usage: number;
    /** Usage minus reclaimable cache, the figure docker shows. */
    workingSet: number;
    /** Effective limit, or undefined for none. */
    limit?: number;
    maxUsage?: number;
    /** Swap in use (v1: memsw usage minus memory usage; v2: memory.swap.current). */
    swapUsage?: number;
    /** Page cache (v1 total_cache, v2 memory.stat file). */
    cache?: number;
    /** Anonymous memory (v1 total_rss, v2 memory.stat anon). */
    anon?: number;
    oomKills: number;
    oomEvents?: number;
  };
  cpu?: {
    /** Total CPU time in nanoseconds. */
    usageNanos: number;
    userNanos?: number;
    systemNanos?: number;
    periods?: number;
    throttledPeriods?: number;
    throttledNanos?: number;
    /** CFS quota as a number of CPUs (quota/period), undefined when unlimited. */
    quotaCpus?: number;
  };
  pids?: { current: number; limit?: number };
  io?: { readBytes: number; writeBytes: number; readOps: number; writeOps: number };
  /** v2 pressure stall information, `avg10` etc. per resource. */
  pressure?: Record<string, { some?: PressureLine; full?: PressureLine }>;
}

export interface PressureLine {
  avg10: number;
  avg60: number;
  avg300: number;
  total: number;
}

/** Options of CgroupManager.stats(). */
export interface StatsOptions {
  summary?: boolean;
  /**
   * Only this figure (its summary files): what a list sorted by it needs of the rows off screen.
   * Implies `summary`.
   */
  only?: 'cpu' | 'memory' | 'pids';
}

export type FreezerState = 'thawed' | 'frozen' | 'freezing';

export interface CgroupManager {
  readonly version: 1 | 2;
  /** The container's cgroup path relative to each hierarchy root, e.g. "/gantry/<id>". */
  readonly path: string;
  /** Creates the cgroup in every hierarchy the engine uses and applies `resources`. */
  create(resources: Resources): Promise<void>;
  /** Changes limits of an existing cgroup; on a refused value nothing else is left changed. */
  update(resources: Resources): Promise<void>;
  /**
   * Files the native helper writes its own pid ("0") into, so the container (or an exec) is in
   * the cgroup before it runs user code.
   */
  procsFiles(): string[];
  /**
   * Where the monitor reads the OOM kill count: file and the key of the counter line. With
   * `eventControl` (v1) the monitor registers an eventfd for `file` there (cgroup.event_control);
   * without it (v2) the kernel modifies `file` on every event, so the monitor watches it with
   * inotify.
   */
  oomCounter(): { file: string; key: string; eventControl?: string } | undefined;
  /**
   * Checks that this host can apply `resources` (the validators, plus every controller and kernel
   * feature they need) without touching the container's cgroup, so a container is refused at
   * create rather than at start. create() and update() make the same checks.
   */
  checkSupport(resources: Resources, options?: { update?: boolean }): Promise<void>;
  /** Mount instructions for /sys/fs/cgroup inside the container (see mounts/). */
  containerMounts(): CgroupMount[];
  freeze(): Promise<void>;
  thaw(): Promise<void>;
  freezerState(): Promise<FreezerState>;
  pids(): Promise<number[]>;
  /**
   * Usage figures. `summary` reads only what a table row shows (memory use and limit, CPU time,
   * pids): a third of the files, for sampling many containers at once.
   */
  stats(options?: StatsOptions): Promise<CgroupStats>;
  /** Removes the cgroup from every hierarchy (processes must be gone). Idempotent. */
  destroy(): Promise<void>;
  exists(): Promise<boolean>;
  /**
   * Removes the parent directory (and its ancestors named in the parent path) in every hierarchy
   * where it is empty and was created by Gantry (marked when created, so a later process knows).
   * Never removes a directory someone else made or one that still has children or processes.
   */
  removeParentIfEmpty(): Promise<void>;
  /**
   * How device rules are enforced: "cgroup" when the driver wrote them to the v1 devices
   * controller; "ebpf" when the driver attached a BPF_CGROUP_DEVICE program built from them to
   * the cgroup (cgroup v2 has no devices files). Either way the driver enforces them.
   */
  readonly deviceEnforcement: 'cgroup' | 'ebpf';
  /** The device rules given to the last create()/update() of this object, in order. */
  deviceRules(): DeviceRule[] | undefined;
}

/** A mount the container gets under /sys/fs/cgroup. */
export interface CgroupMount {
  /** Path inside the container, e.g. "/sys/fs/cgroup/memory". */
  destination: string;
  /** "cgroup", "cgroup2" or "bind" */
  type: 'cgroup' | 'cgroup2' | 'bind';
  /** Host source for bind mounts; mount options (controller names) for cgroup. */
  source: string;
  options: string[];
}
