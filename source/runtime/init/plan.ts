/**
 * The plan handed to the native helper: every decision made, nothing left to policy. The helper
 * executes it in order (see native/plan.c for the wire format, native/init.c for the order).
 */

export type PlanNamespace = 'pid' | 'net' | 'ipc' | 'uts' | 'mnt' | 'cgroup' | 'user' | 'time';

export interface PlanMount {
  source: string;
  /** Path inside the container's root. */
  destination: string;
  /** A filesystem type, "bind" or "remount". */
  type: string;
  flags: number;
  propagation: number;
  data: string;
  /** mount_setattr attributes set and cleared on it and every mount below it once it is made (`rro`, `rnosuid`, ...). */
  recursive?: { set: number; clear: number };
  /** A tmpfs filled with what the root has at the destination before it covers it (`tmpcopyup`). */
  copyUp?: boolean;
}

export interface PlanDevice {
  path: string;
  type: 'c' | 'b' | 'p';
  major: number;
  minor: number;
  mode: number;
  uid: number;
  gid: number;
  /** Bind this host node instead of making one (a user namespace may not mknod). */
  bindFrom?: string;
}

export interface PlanHook {
  stage: 'createContainer' | 'startContainer';
  path: string;
  args: string[];
  env: string[];
  /** Seconds; 0 waits forever. */
  timeout: number;
}

export interface PlanRlimit {
  resource: number;
  /** undefined = RLIM_INFINITY */
  soft: number | undefined;
  hard: number | undefined;
}

export interface PlanCapabilities {
  bounding: bigint;
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
  ambient: bigint;
}

export interface PlanProcess {
  args: string[];
  env: string[];
  cwd: string;
  uid: number;
  gid: number;
  additionalGids: number[];
  umask?: number;
  rlimits: PlanRlimit[];
  capabilities?: PlanCapabilities;
  noNewPrivileges: boolean;
  oomScoreAdj?: number;
  /** A compiled seccomp BPF program (struct sock_filter array). */
  seccomp?: Buffer;
  /** An AppArmor profile (loaded on the host) that confines the process from its execve on. */
  apparmorProfile?: string;
  /** An SELinux context the process (and the session keyring it makes) gets from its execve on. */
  selinuxLabel?: string;
}

export interface HelperPlan {
  mode: 'init' | 'exec';
  /** Directory the monitor works in; relative paths below resolve against it. */
  stateDir?: string;
  logPath?: string;
  /** Rotation of the log: no file above `size` bytes (0: no limit), `files` files kept. */
  logMax?: { size: number; files: number };
  attachPath?: string;
  fifoPath?: string;
  pidFile?: string;
  consoleSocket?: string;
  /**
   * The OOM kill counter: `file` and the key of its counter line. With `eventControl` (cgroup v1)
   * the monitor registers an eventfd for `file` there; without, it watches `file` with inotify.
   */
  oomCounter?: { file: string; key: string; eventControl?: string };
  /** The monitor appends "TIMESTAMP oom COUNT" here for every OOM kill it is told about. */
  eventsFile?: string;
  exitFile?: string;
  exitCommand?: string[];
  /**
   * The restart policy the monitor applies itself (native/restart.c): `policy` is the code of
   * restart-policy.ts, `maxRetries` 0 for no limit; the monitor reports its runs in `runFile` and
   * restarts nothing once `stopFile` exists.
   */
  restart?: { policy: number; maxRetries: number; runFile: string; stopFile: string };
  /**
   * Health checks the monitor runs itself (native/health.c): the exec plan in `planFile`, the
   * state written to `file`, `program` named in an exec failure's output; docker's timings in ms.
   */
  health?: {
    intervalMs: number;
    timeoutMs: number;
    startPeriodMs: number;
    retries: number;
    planFile: string;
    file: string;
    program: string;
  };
  openStdin?: boolean;
  stdinOnce?: boolean;
  terminal?: boolean;
  passthrough?: boolean;
  foreground?: boolean;
  /**
   * No monitor: the helper exits once the container is created, so the container's init is
   * reparented to the caller's subreaper (gantry-oci create, as runc's).
   */
  handoff?: boolean;
  detach?: boolean;
  hookSync?: boolean;
  consoleSize?: { rows: number; cols: number };
  namespaces: { type: PlanNamespace; path?: string }[];
  /** A new session keyring the container's process joins (runc's `_ses.ID`); none: the caller's. */
  sessionKeyring?: string;
  uidMappings?: { containerID: number; hostID: number; size: number }[];
  gidMappings?: { containerID: number; hostID: number; size: number }[];
  setgroupsDeny?: boolean;
  cgroupProcs: string[];
  rootfs?: string;
  rootOverlay?: { data: string; cwd: string };
  /**
   * A root the monitor builds on the host's side and hands to the container's init (a user
   * namespace): an overlay of `lowers` (top first), idmapped with the container's mapping when
   * `idmap` is set.
   */
  rootLayers?: { lowers: string[]; upper: string; work: string; idmap: boolean };
  rootPropagation?: number;
  rootReadonly?: boolean;
  mounts: PlanMount[];
  devices: PlanDevice[];
  symlinks: { target: string; path: string }[];
  mkdirs: { path: string; mode: number }[];
  maskedPaths: string[];
  readonlyPaths: string[];
  /** The SELinux context of the tmpfs that masks a directory (the spec's linux.mountLabel). */
  mountLabel?: string;
  sysctl: Record<string, string>;
  hostname?: string;
  domainname?: string;
  loopback?: boolean;
  /** Published ports the monitor binds and keeps while the container runs. */
  holdPorts?: { protocol: 'tcp' | 'udp'; address: string; port: number }[];
  hooks: PlanHook[];
  stateJson?: string;
  process: PlanProcess;
  /**
   * Tests only: the helper stops at the named point, writes "POINT PID HOSTPID" to the fifo
   * `ready` and waits for a byte on the fifo `go` (see testPauseFromEnvironment).
   */
  testPause?: { point: string; ready: string; go: string };
}

/** Percent-encodes bytes that would break the line format; a lone "%" is the empty string. */
export function encodeField(value: string): string {
  if (value === '') return '%';
  const bytes = Buffer.from(value, 'utf8');
  let out = '';
  for (const byte of bytes) {
    if (byte <= 0x20 || byte === 0x25 || byte === 0x7f)
      out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    else out += String.fromCharCode(byte);
  }
  // Multi-byte UTF-8 passes through as raw bytes; re-decode them as one string.
  return Buffer.from(out, 'latin1').toString('utf8');
}

function line(directive: string, ...fields: (string | number)[]): string {
  return [
    directive,
    ...fields.map((field) => (typeof field === 'number' ? String(field) : encodeField(field))),
  ].join(' ');
}

function limit(value: number | undefined): string {
  return value === undefined ? 'inf' : String(value);
}

/** Serialises a plan. The result always ends with "end\n". */
export function serializePlan(plan: HelperPlan): string {
  const lines: string[] = ['version 1', line('mode', plan.mode)];
  const optional = (directive: string, value: string | undefined) => {
    if (value !== undefined) lines.push(line(directive, value));
  };
  const flag = (directive: string, value: boolean | undefined) => {
    if (value) lines.push(directive);
  };
  optional('statedir', plan.stateDir);
  optional('log', plan.logPath);
  if (plan.logMax) lines.push(line('logmax', plan.logMax.size, plan.logMax.files));
  optional('attach', plan.attachPath);
  optional('fifo', plan.fifoPath);
  optional('pidfile', plan.pidFile);
  optional('consolesocket', plan.consoleSocket);
  if (plan.oomCounter) lines.push(line('oom', plan.oomCounter.file, plan.oomCounter.key));
  if (plan.oomCounter?.eventControl) lines.push(line('oomcontrol', plan.oomCounter.eventControl));
  optional('events', plan.eventsFile);
  optional('exitfile', plan.exitFile);
  for (const arg of plan.exitCommand ?? []) lines.push(line('exitcmd', arg));
  if (plan.restart) {
    lines.push(line('restart', plan.restart.policy, plan.restart.maxRetries));
    lines.push(line('runfile', plan.restart.runFile));
    lines.push(line('stopfile', plan.restart.stopFile));
  }
  if (plan.health) {
    const health = plan.health;
    lines.push(line('health', health.intervalMs, health.timeoutMs, health.startPeriodMs, health.retries));
    lines.push(line('healthplan', health.planFile));
    lines.push(line('healthfile', health.file));
    lines.push(line('healthprogram', health.program));
  }
  flag('stdin', plan.openStdin);
  flag('stdinonce', plan.stdinOnce);
  flag('terminal', plan.terminal);
  flag('passthrough', plan.passthrough);
  flag('foreground', plan.foreground);
  flag('handoff', plan.handoff);
  flag('detach', plan.detach);
  flag('hooksync', plan.hookSync);
  if (plan.consoleSize) lines.push(line('size', plan.consoleSize.rows, plan.consoleSize.cols));
  for (const ns of plan.namespaces)
    lines.push(ns.path === undefined ? line('ns', ns.type) : line('ns', ns.type, ns.path));
  optional('keyring', plan.sessionKeyring);
  for (const map of plan.uidMappings ?? []) lines.push(line('uidmap', map.containerID, map.hostID, map.size));
  for (const map of plan.gidMappings ?? []) lines.push(line('gidmap', map.containerID, map.hostID, map.size));
  flag('setgroupsdeny', plan.setgroupsDeny);
  for (const file of plan.cgroupProcs) lines.push(line('cgroupprocs', file));
  optional('rootfs', plan.rootfs);
  if (plan.rootOverlay) lines.push(line('rootoverlay', plan.rootOverlay.data, plan.rootOverlay.cwd));
  for (const lower of plan.rootLayers?.lowers ?? []) lines.push(line('rootlower', lower));
  if (plan.rootLayers)
    lines.push(line('rootupper', plan.rootLayers.upper, plan.rootLayers.work, plan.rootLayers.idmap ? 1 : 0));
  if (plan.rootPropagation !== undefined) lines.push(line('rootprop', plan.rootPropagation));
  flag('rootreadonly', plan.rootReadonly);
  for (const m of plan.mounts)
    lines.push(
      line(
        'mount',
        m.source,
        m.destination,
        m.type,
        m.flags,
        m.propagation,
        m.data,
        ...(m.recursive ? [`recursive=${m.recursive.set}:${m.recursive.clear}`] : []),
        ...(m.copyUp ? ['tmpcopyup'] : []),
      ),
    );
  for (const dir of plan.mkdirs) lines.push(line('mkdir', dir.path, dir.mode));
  for (const d of plan.devices)
    lines.push(
      d.bindFrom === undefined
        ? line('mkdev', d.path, d.type, d.major, d.minor, d.mode, d.uid, d.gid)
        : line('bindev', d.path, d.type, d.major, d.minor, d.bindFrom),
    );
  for (const s of plan.symlinks) lines.push(line('symlink', s.target, s.path));
  for (const p of plan.maskedPaths) lines.push(line('mask', p));
  for (const p of plan.readonlyPaths) lines.push(line('readonly', p));
  optional('mountlabel', plan.mountLabel);
  for (const [key, value] of Object.entries(plan.sysctl)) lines.push(line('sysctl', key, value));
  optional('hostname', plan.hostname);
  optional('domainname', plan.domainname);
  flag('lo', plan.loopback);
  for (const held of plan.holdPorts ?? [])
    lines.push(line('holdport', held.protocol, held.address, held.port));
  for (const hook of plan.hooks) {
    lines.push(line('hook', hook.stage, hook.timeout, hook.path));
    for (const arg of hook.args) lines.push(line('hookarg', arg));
    for (const env of hook.env) lines.push(line('hookenv', env));
  }
  optional('state', plan.stateJson);
  const proc = plan.process;
  for (const arg of proc.args) lines.push(line('arg', arg));
  for (const env of proc.env) lines.push(line('env', env));
  lines.push(line('cwd', proc.cwd));
  lines.push(line('user', proc.uid, proc.gid));
  for (let i = 0; i < proc.additionalGids.length; i += 12) {
    lines.push(line('groups', ...proc.additionalGids.slice(i, i + 12)));
  }
  if (proc.umask !== undefined) lines.push(line('umask', proc.umask));
  for (const r of proc.rlimits) lines.push(['rlimit', r.resource, limit(r.soft), limit(r.hard)].join(' '));
  if (proc.capabilities) {
    const c = proc.capabilities;
    lines.push(
      ['caps', c.bounding, c.effective, c.permitted, c.inheritable, c.ambient]
        .map((v) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v))
        .join(' '),
    );
  }
  flag('nnp', proc.noNewPrivileges);
  if (proc.oomScoreAdj !== undefined) lines.push(line('oomscore', proc.oomScoreAdj));
  if (proc.apparmorProfile) lines.push(line('apparmor', proc.apparmorProfile));
  if (proc.selinuxLabel) lines.push(line('selinux', proc.selinuxLabel));
  if (proc.seccomp) lines.push(`seccomp ${proc.seccomp.toString('hex')}`);
  if (plan.testPause)
    lines.push(line('testpause', plan.testPause.point, plan.testPause.ready, plan.testPause.go));
  lines.push('end');
  return `${lines.join('\n')}\n`;
}
