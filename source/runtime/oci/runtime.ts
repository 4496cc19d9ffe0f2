/**
 * The OCI runtime (what `gantry-oci` drives): create / start / state / kill / delete / run on a
 * bundle directory, with runc's semantics. It shares the spec validation, the plan builder and
 * the native helper with the engine; it adds the runtime-namespace hooks and runc's state rules.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createCgroupManager, defaultDeviceRules, removeContainerCgroup } from '../cgroups/index.js';
import type { CgroupManager, Resources } from '../cgroups/types.js';
import { readTextInRoot } from '../in-root.js';
import { identify, isAlive, signalCgroupProcesses, signalIdentity } from '../containers/process-identity.js';
import { resolveUser } from '../containers/user.js';
import type { ProcessIdentity } from '../containers/record.js';
import { ConflictError, GantryError, hasCode, InvalidArgumentError, NotFoundError } from '../errors.js';
import { atomicWriteJson, FileLock, readJsonIfExists } from '../fsutil.js';
import { planFromSpec } from '../init/from-spec.js';
import { releaseExecFifo } from '../init/exec-fifo.js';
import { decodeField, startMonitor } from '../init/helper.js';
import { parseSignal } from '../signals.js';
import {
  OCI_VERSION,
  type OciHook,
  type OciLinuxResources,
  type OciSpec,
  type OciState,
} from '../spec/types.js';
import { validateSpec } from '../spec/validate.js';

export const DEFAULT_OCI_ROOT = '/run/gantry-oci';

export interface StoredState {
  id: string;
  bundle: string;
  created: string;
  init?: ProcessIdentity;
  monitor?: ProcessIdentity;
  cgroupParent: string;
  cgroupName: string;
  annotations: Record<string, string>;
}

export interface CreateOptions {
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
}

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.+-]{0,1023}$/;

export class HookError extends GantryError {}

/**
 * Converts the spec's linux.resources to the engine's Resources. As runc does, the device rules
 * of the spec are followed by the default allow list (mknod, the standard nodes, ptys) and by
 * an allow rule for every node in linux.devices.
 */
export function resourcesFromSpec(spec: OciSpec, warn: (message: string) => void = () => {}): Resources {
  const result = resourcesFromLinux(spec.linux?.resources);
  // runc 1.2 ignores it too: kernels from 5.4 on account kernel memory with the rest, and 6.x
  // removed memory.kmem.limit_in_bytes writes.
  if (spec.linux?.resources?.memory?.kernel !== undefined)
    warn(
      'linux.resources.memory.kernel is ignored: the kernel no longer limits kernel memory apart (as runc)',
    );
  const created = (spec.linux?.devices ?? [])
    .filter((d) => d.type !== 'p')
    .map((d) => ({
      allow: true,
      type: (d.type === 'b' ? 'b' : 'c') as 'b' | 'c',
      major: d.major ?? -1,
      minor: d.minor ?? -1,
      access: 'rwm',
    }));
  result.devices = [
    ...(result.devices ?? []),
    ...defaultDeviceRules().filter((rule) => rule.allow),
    ...created,
  ];
  return result;
}

function resourcesFromLinux(resources: OciLinuxResources | undefined): Resources {
  const result: Resources = {};
  if (!resources) return result;
  const memory = resources.memory;
  if (memory?.limit !== undefined) result.memory = memory.limit;
  if (memory?.reservation !== undefined) result.memoryReservation = memory.reservation;
  if (memory?.swap !== undefined) result.memorySwap = memory.swap;
  if (memory?.disableOOMKiller !== undefined) result.oomKillDisable = memory.disableOOMKiller;
  if (memory?.swappiness !== undefined) result.memorySwappiness = memory.swappiness;
  const cpu = resources.cpu;
  if (cpu?.shares !== undefined) result.cpuShares = cpu.shares;
  if (cpu?.quota !== undefined) result.cpuQuota = cpu.quota;
  if (cpu?.period !== undefined) result.cpuPeriod = cpu.period;
  if (cpu?.cpus) result.cpusetCpus = cpu.cpus;
  if (cpu?.mems) result.cpusetMems = cpu.mems;
  if (resources.pids?.limit !== undefined) result.pidsLimit = resources.pids.limit;
  const io = resources.blockIO;
  const throttle = (list: { major: number; minor: number; rate: number }[] | undefined) =>
    (list ?? []).map((d) => ({
      path: `${d.major}:${d.minor}`,
      major: d.major,
      minor: d.minor,
      rate: d.rate,
    }));
  if (io?.weight !== undefined) result.blkioWeight = io.weight;
  const weights = (io?.weightDevice ?? []).filter((d) => d.weight !== undefined);
  if (weights.length > 0) {
    result.blkioWeightDevice = weights.map((d) => ({
      path: `${d.major}:${d.minor}`,
      major: d.major,
      minor: d.minor,
      weight: d.weight as number,
    }));
  }
  if (io?.throttleReadBpsDevice) result.blkioDeviceReadBps = throttle(io.throttleReadBpsDevice);
  if (io?.throttleWriteBpsDevice) result.blkioDeviceWriteBps = throttle(io.throttleWriteBpsDevice);
  if (io?.throttleReadIOPSDevice) result.blkioDeviceReadIOps = throttle(io.throttleReadIOPSDevice);
  if (io?.throttleWriteIOPSDevice) result.blkioDeviceWriteIOps = throttle(io.throttleWriteIOPSDevice);
  if (resources.devices) {
    result.devices = resources.devices.map((d) => ({
      allow: d.allow,
      type: d.type ?? 'a',
      major: d.major ?? -1,
      minor: d.minor ?? -1,
      access: d.access ?? 'rwm',
    }));
  }
  if (resources.network?.classID !== undefined) result.netClsClassid = resources.network.classID;
  if (resources.network?.priorities) {
    result.netPrioIfpriomap = Object.fromEntries(
      resources.network.priorities.map((p) => [p.name, p.priority]),
    );
  }
  if (resources.hugepageLimits) {
    result.hugepageLimits = Object.fromEntries(resources.hugepageLimits.map((h) => [h.pageSize, h.limit]));
  }
  if (resources.unified && Object.keys(resources.unified).length > 0)
    result.unified = { ...resources.unified };
  return result;
}

/** Runs one hook with the state on stdin; rejects on failure or timeout. */
export async function runHook(stage: string, hook: OciHook, state: OciState): Promise<void> {
  const [argv0, ...args] = hook.args && hook.args.length > 0 ? hook.args : [hook.path];
  const child = spawn(hook.path, args, {
    argv0: argv0 ?? hook.path,
    env: Object.fromEntries(
      (hook.env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]),
    ),
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin!.on('error', () => undefined);
  child.stdin!.end(JSON.stringify(state));
  const result = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>(
    (resolve) => {
      let timer: NodeJS.Timeout | undefined;
      if (hook.timeout) {
        timer = setTimeout(() => {
          child.kill('SIGKILL');
          resolve({ code: null, signal: null, error: new Error(`timed out after ${hook.timeout} s`) });
        }, hook.timeout * 1000);
      }
      child.once('error', (error) => {
        if (timer) clearTimeout(timer);
        resolve({ code: null, signal: null, error });
      });
      child.once('exit', (code, signal) => {
        if (timer) clearTimeout(timer);
        resolve({ code, signal });
      });
    },
  );
  if (result.error || result.code !== 0) {
    const why =
      result.error?.message ?? (result.signal ? `signal ${result.signal}` : `exit status ${result.code}`);
    throw new HookError(
      `${stage} hook ${hook.path} failed: ${why}${stderr.trim() ? `: ${stderr.trim()}` : ''}`,
    );
  }
}

/**
 * As runc: a process without HOME in its environment gets its user's home from the root
 * filesystem's /etc/passwd, or "/".
 */
function withDefaultHome(spec: OciSpec, bundle: string): void {
  const proc = spec.process;
  if (!proc || (proc.env ?? []).some((entry) => entry.startsWith('HOME='))) return;
  const rootfs = path.resolve(bundle, spec.root?.path ?? 'rootfs');
  let home = '/';
  try {
    // Resolved inside the root filesystem, as runc reads it after pivot_root: a symlink to a host
    // file reaches the root's own copy of that path, if any.
    const passwd = readTextInRoot(rootfs, '/etc/passwd');
    home = resolveUser(String(proc.user?.uid ?? 0), passwd, undefined).home || '/';
  } catch {
    // no passwd file, or no entry: "/"
  }
  proc.env = [...(proc.env ?? []), `HOME=${home}`];
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  child.ref(); // startMonitor unref'd it: this wait must keep the event loop alive
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export class OciRuntime {
  constructor(
    readonly root: string,
    readonly options: { cgroupRoot: string; cgroupParent: string },
  ) {}

  private dir(id: string): string {
    return path.join(this.root, id);
  }

  private validateId(id: string): void {
    if (!ID_PATTERN.test(id)) {
      throw new InvalidArgumentError(
        `invalid container id ${JSON.stringify(id)}: use letters, digits, "_", ".", "+", "-", starting with a letter or digit`,
      );
    }
  }

  /** The stored state of a container (exec and the commands beside this class use it). */
  async load(id: string): Promise<StoredState> {
    this.validateId(id);
    const state = await readJsonIfExists<StoredState>(path.join(this.dir(id), 'state.json')).catch(
      (error: unknown) => {
        throw new GantryError(`the state of container ${id} is damaged: ${(error as Error).message}`);
      },
    );
    if (!state) throw new NotFoundError(`container ${id} does not exist`);
    return state;
  }

  cgroup(state: Pick<StoredState, 'cgroupParent' | 'cgroupName'>): CgroupManager {
    return createCgroupManager({
      cgroupRoot: this.options.cgroupRoot,
      parent: state.cgroupParent,
      name: state.cgroupName,
    });
  }

  status(state: StoredState): OciState['status'] {
    const dir = this.dir(state.id);
    if (!state.init) return 'creating';
    if (fs.existsSync(path.join(dir, 'exit.json')) || !isAlive(state.init)) return 'stopped';
    return fs.existsSync(path.join(dir, 'exec.fifo')) ? 'created' : 'running';
  }

  private ociState(state: StoredState, status = this.status(state)): OciState {
    return {
      ociVersion: OCI_VERSION,
      id: state.id,
      status,
      ...(status !== 'stopped' && state.init ? { pid: state.init.pid } : { pid: 0 }),
      bundle: state.bundle,
      annotations: state.annotations,
    };
  }

  async state(id: string): Promise<OciState> {
    return this.ociState(await this.load(id));
  }

  async list(): Promise<OciState[]> {
    let ids: string[];
    try {
      ids = await fsp.readdir(this.root);
    } catch (error) {
      if (hasCode(error, 'ENOENT')) return [];
      throw error;
    }
    const states: OciState[] = [];
    for (const id of ids) {
      try {
        states.push(await this.state(id));
      } catch {
        // a container being deleted, or not one of ours
      }
    }
    return states;
  }

  async readSpec(bundle: string): Promise<OciSpec> {
    const file = path.join(bundle, 'config.json');
    let text: string;
    try {
      text = await fsp.readFile(file, 'utf8');
    } catch (error) {
      throw new InvalidArgumentError(`cannot read ${file}: ${(error as Error).message}`, {
        hint: 'give the bundle directory with --bundle',
      });
    }
    let spec: unknown;
    try {
      spec = JSON.parse(text);
    } catch (error) {
      throw new InvalidArgumentError(`${file} is not valid JSON: ${(error as Error).message}`);
    }
    validateSpec(spec, { bundle, source: file });
    return spec;
  }

  /** Creates the container; returns once its process waits at the exec fifo. */
  async create(
    id: string,
    options: CreateOptions & { foreground?: boolean },
  ): Promise<{ wait?: Promise<number> }> {
    this.validateId(id);
    const bundle = path.resolve(options.bundle);
    const spec = await this.readSpec(bundle);
    if (options.consoleSocket && !spec.process?.terminal) {
      throw new InvalidArgumentError(
        '--console-socket was given but process.terminal is false: there is no pty to send',
        { hint: 'set process.terminal to true in config.json, or leave out --console-socket' },
      );
    }
    if (spec.process?.terminal && !options.consoleSocket && !options.foreground) {
      throw new InvalidArgumentError(
        'process.terminal is true but no --console-socket was given; one is required to receive the pty',
      );
    }
    const dir = this.dir(id);
    await fsp.mkdir(this.root, { recursive: true, mode: 0o700 });
    try {
      await fsp.mkdir(dir, { mode: 0o711 });
    } catch (error) {
      if (hasCode(error, 'EEXIST')) throw new ConflictError(`container with id ${id} already exists`);
      throw error;
    }
    const lock = (await FileLock.tryAcquire(path.join(dir, 'lock'), { wait: false }))!;
    withDefaultHome(spec, bundle);
    const cgroupsPath = spec.linux?.cgroupsPath;
    const stored: StoredState = {
      id,
      bundle,
      created: new Date().toISOString(),
      // The spec: an absolute path is relative to the cgroup root ("/x" is the root's child x),
      // a relative one to the runtime's own parent.
      cgroupParent: cgroupsPath
        ? cgroupsPath.startsWith('/')
          ? path.posix.dirname(path.posix.normalize(cgroupsPath)).replace(/^\//, '')
          : path.posix.join(this.options.cgroupParent, path.posix.dirname(cgroupsPath)).replace(/\/\.$/, '')
        : this.options.cgroupParent,
      cgroupName: cgroupsPath ? path.posix.basename(cgroupsPath) : id,
      annotations: spec.annotations ?? {},
    };
    const cgroup = this.cgroup(stored);
    try {
      await atomicWriteJson(path.join(dir, 'state.json'), stored);
      await cgroup.create(
        resourcesFromSpec(spec, (message) => process.stderr.write(`gantry-oci: warning: ${message}\n`)),
      );
      const runtimeHooks = [
        ...(spec.hooks?.prestart ?? []).map((hook) => ['prestart', hook] as const),
        ...(spec.hooks?.createRuntime ?? []).map((hook) => ['createRuntime', hook] as const),
      ];
      const plan = planFromSpec(spec, {
        bundle,
        stateDir: dir,
        cgroup,
        monitor: {
          fifoPath: 'exec.fifo',
          // Detached, as runc's create: no monitor stands between the caller and the container's
          // init, so the caller's subreaper (conmon, the containerd shim) reaps it and sees its
          // real exit status. In the foreground (run), the monitor waits and reports it.
          ...(options.foreground === true ? { exitFile: 'exit.json' } : { handoff: true }),
          passthrough: !spec.process?.terminal || options.foreground === true,
          foreground: options.foreground === true,
          hookSync: runtimeHooks.length > 0,
          ...(options.pidFile ? { pidFile: path.resolve(options.pidFile) } : {}),
          ...(options.consoleSocket ? { consoleSocket: path.resolve(options.consoleSocket) } : {}),
        },
        stateJson: JSON.stringify(this.ociState({ ...stored, init: { pid: 0, startTime: 0 } }, 'created')),
      });
      if (spec.process?.terminal && options.foreground && !options.consoleSocket) {
        // `run` in the foreground without a console socket: the container uses our terminal.
        plan.terminal = false;
      }
      const handle = await startMonitor(plan, {
        detached: options.foreground !== true,
        stdio: 'inherit',
        onPid: (containerPid, monitorPid) => {
          stored.init = identify(containerPid) ?? { pid: containerPid, startTime: 0 };
          stored.monitor = identify(monitorPid) ?? { pid: monitorPid, startTime: 0 };
        },
        onHooks: async (containerPid) => {
          const state = { ...this.ociState(stored, 'creating'), pid: containerPid };
          for (const [stage, hook] of runtimeHooks) await runHook(stage, hook, state);
        },
      });
      await atomicWriteJson(path.join(dir, 'state.json'), stored);
      // The helper exits right after "created": once it has, the init's parent is the caller's
      // subreaper, before the caller learns that create succeeded.
      if (!options.foreground) await exited(handle.child);
      const wait = options.foreground
        ? new Promise<number>((resolve) => {
            if (handle.child.exitCode !== null) resolve(handle.child.exitCode);
            else handle.child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 125)));
          })
        : undefined;
      return wait ? { wait } : {};
    } catch (error) {
      await removeContainerCgroup(cgroup).catch(() => undefined);
      await fsp.rm(dir, { recursive: true, force: true });
      throw error;
    } finally {
      lock.release();
    }
  }

  async start(id: string): Promise<void> {
    const state = await this.load(id);
    const status = this.status(state);
    if (status !== 'created')
      throw new ConflictError(
        `cannot start a container that is ${status}; only a created container can be started`,
      );
    const released = await releaseExecFifo(path.join(this.dir(id), 'exec.fifo'), state.init);
    if (released !== 'released') {
      throw new GantryError(
        `container ${id} did not take the start signal; its process has ${released === 'timeout' ? 'not answered' : 'exited'}`,
      );
    }
    const spec = await this.readSpec(state.bundle).catch(() => undefined);
    for (const hook of spec?.hooks?.poststart ?? []) {
      try {
        await runHook('poststart', hook, this.ociState(state, 'running'));
      } catch (error) {
        process.stderr.write(`gantry-oci: warning: ${(error as Error).message}\n`);
      }
    }
  }

  private signal(identity: ProcessIdentity, signal: number): void {
    if (!signalIdentity(identity, signal))
      throw new ConflictError(`the container's process ${identity.pid} is gone`);
  }

  async kill(id: string, signal: string = 'SIGTERM', options: { all?: boolean } = {}): Promise<void> {
    // 0 checks that the process is there, as kill(2) and runc take it.
    const number = signal === '0' ? 0 : parseSignal(signal);
    const state = await this.load(id);
    const status = this.status(state);
    // --all reaches what is left in the cgroup even after init ended (no pid namespace), as runc.
    if (options.all) {
      await this.signalCgroup(state, number);
      return;
    }
    if (status !== 'created' && status !== 'running')
      throw new ConflictError(`container ${id} is not running`);
    this.signal(state.init!, number);
  }

  private signalCgroup(state: StoredState, signal: number): Promise<number> {
    return signalCgroupProcesses(this.cgroup(state), signal);
  }

  /** Kills whatever is left in the cgroup (a container without its own pid namespace) and waits. */
  private async emptyCgroup(state: StoredState, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((await this.signalCgroup(state, 9)) > 0 && Date.now() < deadline) await sleep(10);
  }

  private async waitStopped(state: StoredState, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.status(state) === 'stopped' && !isAlive(state.monitor)) return true;
      await sleep(5);
    }
    return this.status(state) === 'stopped';
  }

  async delete(id: string, options: { force?: boolean } = {}): Promise<void> {
    let state: StoredState;
    try {
      state = await this.load(id);
    } catch (error) {
      if (error instanceof NotFoundError && options.force) return;
      throw error;
    }
    const status = this.status(state);
    if (status === 'running' && !options.force) {
      throw new ConflictError(`cannot delete container ${id} that is not stopped: running`, {
        hint: 'stop it first or use --force',
      });
    }
    if (status !== 'stopped' && state.init && isAlive(state.init)) {
      this.signal(state.init, 9);
      await this.waitStopped(state, 10_000);
    }
    // Without a pid namespace the init's children outlive it: --force (and run) end them too.
    if (options.force) await this.emptyCgroup(state, 10_000);
    const spec = await this.readSpec(state.bundle).catch(() => undefined);
    await removeContainerCgroup(this.cgroup(state));
    await fsp.rm(this.dir(id), { recursive: true, force: true });
    for (const hook of spec?.hooks?.poststop ?? []) {
      try {
        await runHook('poststop', hook, this.ociState(state, 'stopped'));
      } catch (error) {
        process.stderr.write(`gantry-oci: warning: ${(error as Error).message}\n`);
      }
    }
  }

  /** create + start; in the foreground, waits and deletes, returning the container's status. */
  async run(id: string, options: CreateOptions & { detach?: boolean; keep?: boolean }): Promise<number> {
    const { wait } = await this.create(id, { ...options, foreground: options.detach !== true });
    await this.start(id);
    if (!wait) return 0;
    const code = await wait;
    const exit = await readJsonIfExists<{ error?: string }>(path.join(this.dir(id), 'exit.json')).catch(
      () => undefined,
    );
    // --keep leaves the stopped container for `state` and `delete`, as runc's.
    if (options.keep) await this.emptyCgroup(await this.load(id), 10_000);
    else await this.delete(id, { force: true });
    if (exit?.error) throw new GantryError(decodeField(exit.error));
    return code;
  }
}
