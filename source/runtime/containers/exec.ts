/**
 * `exec`: a new process in a running container. The plan joins the container's namespaces in
 * the kernel's required order (user first, mount last) and its cgroup; the process gets the
 * container's environment and user, never the caller's.
 */
import fs from 'node:fs';
import { ConflictError, GantryError, InvalidArgumentError } from '../errors.js';
import { execPlanFromSpec, sessionKeyringName, type ExecContext } from '../init/from-spec.js';
import { startExec, type ExecHandle } from '../init/helper.js';
import type { HelperPlan } from '../init/plan.js';
import type { OciSpec } from '../spec/types.js';
import { openRoot, readTextInRoot } from '../in-root.js';
import { readContainerSpec, type EngineCore } from './core.js';
import type { ContainerRecord } from './record.js';
import { resolveUser } from './user.js';

export interface ExecOptions {
  command: string[];
  env?: string[];
  workdir?: string;
  user?: string;
  tty?: boolean;
  interactive?: boolean;
  detach?: boolean;
  privileged?: boolean;
  /**
   * The relay's stdio are pipes the caller reads and writes (an exec for a remote client), not
   * this process's own; the handle then carries them.
   */
  pipes?: boolean;
  /** The pty's size at the start (with pipes there is no terminal of ours to read it from). */
  consoleSize?: { rows: number; cols: number };
}

/** setns order: user first (it grants the rest), mount last (paths stop resolving after it). */
const NAMESPACE_ORDER: [string, HelperPlan['namespaces'][number]['type']][] = [
  ['user', 'user'],
  ['ipc', 'ipc'],
  ['uts', 'uts'],
  ['network', 'net'],
  ['pid', 'pid'],
  ['cgroup', 'cgroup'],
  ['mount', 'mnt'],
];

/** The namespaces of the spec, as the /proc/PID/ns entries of its init, in the order to join them. */
export function namespacesToJoin(spec: OciSpec, pid: number): ExecContext['namespaces'] {
  const present = new Set<string>((spec.linux?.namespaces ?? []).map((ns) => ns.type));
  return NAMESPACE_ORDER.filter(([type]) => present.has(type)).map(([, name]) => ({
    type: name,
    path: `/proc/${pid}/ns/${name}`,
  }));
}

export async function execInContainer(
  core: EngineCore,
  record: ContainerRecord,
  options: ExecOptions,
): Promise<ExecHandle> {
  if (record.State.Status === 'paused')
    throw new ConflictError(`container ${record.Name} is paused, unpause it first`);
  if (record.State.Status !== 'running' || !record.InitProcess) {
    throw new ConflictError(`container ${record.Name} is not running`);
  }
  if (options.command.length === 0) throw new GantryError('no command given to exec');
  if (options.workdir !== undefined && !options.workdir.startsWith('/')) {
    throw new InvalidArgumentError(
      `invalid working directory ${JSON.stringify(options.workdir)}: it must be an absolute path`,
    );
  }
  const spec = await readContainerSpec(core, record);
  const proc = spec.process!;
  const pid = record.InitProcess.pid;
  const namespaces = namespacesToJoin(spec, pid);
  let env = proc.env ?? [];
  for (const entry of options.env ?? []) {
    const name = entry.split('=', 1)[0]!;
    env = [...env.filter((e) => e.split('=', 1)[0] !== name), entry];
  }
  if (options.tty && !env.some((e) => e.startsWith('TERM='))) env.push('TERM=xterm');
  let user = proc.user;
  if (options.user !== undefined) {
    // The container's files, resolved inside its root: /etc/passwd may be a symlink it planted
    // to a host file, which /proc/PID/root/etc/passwd would follow on the host.
    const root = openRoot(`/proc/${pid}/root`);
    let passwd: string | undefined;
    let group: string | undefined;
    try {
      passwd = readTextInRoot(root, '/etc/passwd');
      group = readTextInRoot(root, '/etc/group');
    } finally {
      fs.closeSync(root);
    }
    const resolved = resolveUser(options.user, passwd, group);
    user = { uid: resolved.uid, gid: resolved.gid, additionalGids: resolved.additionalGids };
    // HOME follows the user exec runs as (as runc does), unless someone set it on purpose.
    const setHome = (list: readonly string[]) => list.some((e) => e.startsWith('HOME='));
    if (!setHome(record.Config.Env) && !setHome(options.env ?? []))
      env = [...env.filter((e) => !e.startsWith('HOME=')), `HOME=${resolved.home || '/'}`];
  }
  const execPlan = execPlanFromSpec(
    {
      ...spec,
      process: {
        ...proc,
        args: options.command,
        env,
        ...(options.consoleSize
          ? { consoleSize: { height: options.consoleSize.rows, width: options.consoleSize.cols } }
          : {}),
        cwd: options.workdir ?? proc.cwd,
        user,
        terminal: options.tty ?? false,
      },
    },
    {
      namespaces,
      sessionKeyring: sessionKeyringName(record.Id),
      cgroupProcs: core.cgroup(record).procsFiles(),
      detach: options.detach ?? false,
      interactive: options.interactive ?? false,
    },
  );
  // As docker: stdin only with -i; -t alone gives a terminal for output. These are the relay's
  // stdio: the process gets pipes or a pty of its own.
  const relay = options.pipes ? 'pipe' : 'inherit';
  const stdin = options.interactive ? relay : 'ignore';
  // With pipes the caller's terminal is elsewhere (a remote client's): its sizes come by resize().
  return startExec(execPlan, options.detach ? ['ignore', 'ignore', 'ignore'] : [stdin, relay, relay], {
    resizable: options.pipes === true,
  });
}
