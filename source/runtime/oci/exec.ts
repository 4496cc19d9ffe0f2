/**
 * `gantry-oci exec`: runc's exec on the engine's hardened exec path (the same helper, plan and
 * relay as `gantry exec`: a non-dumpable sealed helper with an empty environment, namespaces
 * joined user first and mount last, seccomp and capabilities of the process). What differs is
 * runc's contract: the process comes from --process or from the bundle's process with flags on
 * top, a pty goes to --console-socket when one is given, and with --detach and no terminal the
 * process keeps the descriptors its caller (conmon, the containerd shim) handed us.
 */
import fsp from 'node:fs/promises';
import { ConflictError, InvalidArgumentError } from '../errors.js';
import { atomicWriteFile } from '../fsutil.js';
import { execPlanFromSpec } from '../init/from-spec.js';
import { startExec } from '../init/helper.js';
import type { HelperPlan } from '../init/plan.js';
import { namespacesToJoin } from '../containers/exec.js';
import type { OciProcess, OciSpec } from '../spec/types.js';
import { validateSpec } from '../spec/validate.js';
import { containerCgroup } from './cgroup.js';
import { readSpec } from './spec-file.js';
import type { OciStore } from './store.js';

export interface OciExecOptions {
  /** process.json in the spec's format; replaces the bundle's process entirely (runc --process). */
  processFile?: string;
  /** The command when there is no process file. */
  args: string[];
  tty: boolean;
  consoleSocket?: string;
  pidFile?: string;
  detach: boolean;
  cwd?: string;
  env: string[];
  /** "UID[:GID]", numbers only, as runc takes it. */
  user?: string;
  additionalGids: string[];
  caps: string[];
  noNewPrivileges: boolean;
  /** runc's --apparmor: process.apparmorProfile. */
  apparmorProfile?: string;
  /** runc's --process-label: process.selinuxLabel (refused where the host has no SELinux). */
  processLabel?: string;
}

function parseId(value: string, what: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 0xfffffffe) {
    throw new InvalidArgumentError(`invalid ${what} ${JSON.stringify(value)}: a number is expected`, {
      hint: 'gantry-oci exec takes --user UID[:GID] and --additional-gids GID as numbers, as runc does',
    });
  }
  return Number(value);
}

async function readProcessFile(file: string): Promise<OciProcess> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (error) {
    throw new InvalidArgumentError(`cannot read the process file ${file}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text) as OciProcess;
  } catch (error) {
    throw new InvalidArgumentError(`${file} is not valid JSON: ${(error as Error).message}`);
  }
}

/** runc's getProcess: the bundle's process with the command-line flags on top. */
function processFromFlags(base: OciProcess, options: OciExecOptions): OciProcess {
  if (options.args.length === 0) {
    throw new InvalidArgumentError('exec needs a command to run (or --process FILE)', {
      hint: 'gantry-oci exec [OPTIONS] ID COMMAND [ARGS...]',
    });
  }
  const proc: OciProcess = { ...base, args: options.args, terminal: options.tty };
  proc.env = [...(base.env ?? []), ...options.env];
  if (options.cwd !== undefined) proc.cwd = options.cwd;
  if (options.user !== undefined) {
    const [uid, gid] = options.user.split(':', 2);
    proc.user = {
      ...proc.user,
      uid: parseId(uid ?? '', 'uid'),
      ...(gid !== undefined ? { gid: parseId(gid, 'gid') } : {}),
    };
  }
  if (options.additionalGids.length > 0) {
    proc.user = { ...proc.user, additionalGids: options.additionalGids.map((g) => parseId(g, 'gid')) };
  }
  if (options.caps.length > 0) {
    const add = (set: string[] | undefined) => [...new Set([...(set ?? []), ...options.caps])];
    const caps = base.capabilities ?? {};
    proc.capabilities = {
      ...caps,
      bounding: add(caps.bounding),
      effective: add(caps.effective),
      permitted: add(caps.permitted),
      // runc adds ambient only where inheritable has it; exec'd caps go to the three sets above.
    };
  }
  if (options.noNewPrivileges) proc.noNewPrivileges = true;
  if (options.apparmorProfile !== undefined) proc.apparmorProfile = options.apparmorProfile;
  if (options.processLabel !== undefined) proc.selinuxLabel = options.processLabel;
  return proc;
}

/** Runs a process in a created or running container; resolves with its exit code (0 if detached). */
export async function ociExec(store: OciStore, id: string, options: OciExecOptions): Promise<number> {
  const state = await store.load(id);
  const status = store.status(state);
  if (status === 'stopped') throw new ConflictError(`cannot exec in a stopped container ${id}`);
  if (status === 'creating' || !state.init) throw new ConflictError(`container ${id} is still being created`);
  if (status === 'paused' || (await containerCgroup(store, state).freezerState()) !== 'thawed') {
    throw new ConflictError(`cannot exec in a paused container ${id}`, { hint: `gantry-oci resume ${id}` });
  }
  if (options.tty && options.detach && !options.consoleSocket) {
    throw new InvalidArgumentError('cannot allocate a tty for a detached exec without --console-socket', {
      hint: 'give --console-socket PATH to receive the pty, or leave out --tty',
    });
  }
  const spec = await readSpec(state.bundle);
  const proc = options.processFile
    ? await readProcessFile(options.processFile)
    : processFromFlags(spec.process!, options);
  // As runc's newInitConfig: a process that names no profile or label runs under the container's
  // (podman's exec passes a --process file that names neither).
  if (!proc.apparmorProfile && spec.process?.apparmorProfile)
    proc.apparmorProfile = spec.process.apparmorProfile;
  if (!proc.selinuxLabel && spec.process?.selinuxLabel) proc.selinuxLabel = spec.process.selinuxLabel;
  if (options.consoleSocket && !proc.terminal) {
    throw new InvalidArgumentError('--console-socket was given but the process has no terminal', {
      hint: 'add --tty (or "terminal": true in the process file)',
    });
  }
  const execSpec: OciSpec = { ...spec, process: proc };
  validateSpec(execSpec, { bundle: state.bundle, source: options.processFile ?? 'the exec flags' });
  const plan: HelperPlan = {
    ...execPlanFromSpec(execSpec, {
      namespaces: namespacesToJoin(spec, state.init.pid),
      ...(state.sessionKeyring ? { sessionKeyring: state.sessionKeyring } : {}),
      cgroupProcs: containerCgroup(store, state).procsFiles(),
      detach: options.detach,
      interactive: !options.detach,
    }),
    ...(options.consoleSocket ? { consoleSocket: options.consoleSocket } : {}),
    // Detached without a terminal: the process keeps the caller's descriptors, as runc's does.
    passthrough: options.detach,
  };
  // Our stdio go to the helper: its relay (pipes or a pty of the container's own) when attached,
  // the process itself when detached without a terminal.
  const handle = await startExec(plan, ['inherit', 'inherit', 'inherit']);
  if (options.pidFile) await atomicWriteFile(options.pidFile, String(handle.pid));
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'] as const;
  const forward = (signal: NodeJS.Signals) => handle.signal(signal);
  for (const signal of signals) process.on(signal, forward);
  try {
    return await handle.exit;
  } finally {
    for (const signal of signals) process.off(signal, forward);
  }
}
