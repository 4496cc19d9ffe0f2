/**
 * `gantry-oci create`: the container's process set up and waiting at the exec fifo. Detached, as
 * runc's create, the helper exits once it is created, so the process is the caller's (its
 * subreaper's) to reap; `run` in the foreground keeps the helper as a monitor that waits for it.
 */
import type { ChildProcess } from 'node:child_process';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { identify } from '../containers/process-identity.js';
import { ConflictError, hasCode, InvalidArgumentError } from '../errors.js';
import { atomicWriteJson, FileLock } from '../fsutil.js';
import { planFromSpec, sessionKeyringName } from '../init/from-spec.js';
import { startMonitor } from '../init/helper.js';
import { containerCgroup, removeCgroup } from './cgroup.js';
import { runHook } from './hooks.js';
import { resourcesFromSpec } from './resources.js';
import { readSpec, withDefaultHome } from './spec-file.js';
import type { OciStore, StoredState } from './store.js';

export interface CreateOptions {
  bundle: string;
  /** A session keyring of its own (`_ses.ID`), as runc's default; false: --no-new-keyring. */
  newKeyring?: boolean;
  pidFile?: string;
  consoleSocket?: string;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  child.ref(); // startMonitor unref'd it: this wait must keep the event loop alive
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Creates the container; returns once its process waits at the exec fifo. */
export async function create(
  store: OciStore,
  id: string,
  options: CreateOptions & { foreground?: boolean },
): Promise<{ wait?: Promise<number> }> {
  store.validateId(id);
  const bundle = path.resolve(options.bundle);
  const spec = await readSpec(bundle);
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
  const dir = store.dir(id);
  await fsp.mkdir(store.root, { recursive: true, mode: 0o700 });
  try {
    await fsp.mkdir(dir, { mode: 0o711 });
  } catch (error) {
    if (hasCode(error, 'EEXIST')) throw new ConflictError(`container with id ${id} already exists`);
    throw error;
  }
  const lock = (await FileLock.tryAcquire(path.join(dir, 'lock'), { wait: false }))!;
  withDefaultHome(spec, bundle);
  if (!spec.linux?.namespaces?.some((ns) => ns.type === 'mount') && (spec.mounts?.length ?? 0) > 0)
    process.stderr.write(
      'gantry-oci: warning: mounts are not made without a mount namespace (as runc): the process sees the filesystem of the runtime\n',
    );
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
        : path.posix.join(store.options.cgroupParent, path.posix.dirname(cgroupsPath)).replace(/\/\.$/, '')
      : store.options.cgroupParent,
    cgroupName: cgroupsPath ? path.posix.basename(cgroupsPath) : id,
    annotations: spec.annotations ?? {},
    // Recorded for exec, which joins the same one (none with --no-new-keyring, as runc).
    ...(options.newKeyring === false ? {} : { sessionKeyring: sessionKeyringName(id) }),
  };
  const cgroup = containerCgroup(store, stored);
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
      ...(stored.sessionKeyring ? { sessionKeyring: stored.sessionKeyring } : {}),
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
      stateJson: JSON.stringify(store.ociState({ ...stored, init: { pid: 0, startTime: 0 } }, 'created')),
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
        const state = { ...store.ociState(stored, 'creating'), pid: containerPid };
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
    await removeCgroup(store, stored).catch(() => undefined);
    await fsp.rm(dir, { recursive: true, force: true });
    throw error;
  } finally {
    lock.release();
  }
}
