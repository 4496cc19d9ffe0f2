/**
 * `gantry-oci`: the OCI runtime command line with runc's syntax, so tools that drive runc
 * (podman's conmon, containerd's shim, CRI-O) can drive Gantry. Each command loads only its own
 * module: `state`, `kill`, `start` and `delete`, what drivers call most, stay cheap.
 */
import fs from 'node:fs';
import path from 'node:path';
import { bool, formatHelp, list, parseArgs, str, UsageError, type ParsedArgs } from './args.js';
import { COMMANDS, GLOBAL, REFUSED, UPDATE_FIELDS, usage } from './oci-commands.js';
import type { UpdateFlags } from '../runtime/oci/update.js';
import { GantryError, InvalidArgumentError } from '../runtime/errors.js';
import { DEFAULT_OCI_ROOT, OciStore } from '../runtime/oci/store.js';

function logError(file: string | undefined, format: string | undefined, message: string): void {
  if (!file) return;
  const line =
    format === 'json'
      ? JSON.stringify({ level: 'error', msg: message, time: new Date().toISOString() })
      : `error: ${message}`;
  try {
    fs.appendFileSync(file, `${line}\n`);
  } catch {
    // the log is a convenience; the message is on stderr already
  }
}

function write(text: string): void {
  process.stdout.write(text);
}

async function dispatch(name: string, store: OciStore, parsed: ParsedArgs): Promise<number> {
  const id = parsed.args[0]!;
  const options = parsed.options;
  const preserved = options['preserve-fds'];
  if (typeof preserved === 'number' && preserved > 0) {
    // Never ignored in silence: the process would miss descriptors its caller counts on.
    throw new InvalidArgumentError(
      `--preserve-fds ${preserved}: gantry-oci does not pass extra descriptors to the process yet (only 0 is accepted)`,
    );
  }
  if (bool(options, 'no-pivot')) {
    throw new InvalidArgumentError(
      '--no-pivot is not supported: gantry-oci always changes the root with pivot_root (runc then uses a chroot, which a process holding CAP_SYS_CHROOT can leave)',
      {
        hint: 'leave out --no-pivot; pivot_root fails only on an initramfs root: put the bundle on another filesystem',
      },
    );
  }
  const bundle = path.resolve(str(options, 'bundle') ?? process.cwd());
  const pidFile = str(options, 'pid-file');
  const consoleSocket = str(options, 'console-socket');
  const createOptions = {
    bundle,
    newKeyring: !bool(options, 'no-new-keyring'),
    ...(pidFile ? { pidFile } : {}),
    ...(consoleSocket ? { consoleSocket } : {}),
  };
  switch (name) {
    case 'state':
      write(`${JSON.stringify(await store.state(id), null, 2)}\n`);
      return 0;
    case 'kill': {
      const { kill } = await import('../runtime/oci/kill.js');
      await kill(store, id, parsed.args[1] ?? 'SIGTERM', { all: bool(options, 'all') });
      return 0;
    }
    case 'start': {
      const { start } = await import('../runtime/oci/start.js');
      await start(store, id);
      return 0;
    }
    case 'delete': {
      const { deleteContainer } = await import('../runtime/oci/delete.js');
      await deleteContainer(store, id, { force: bool(options, 'force') });
      return 0;
    }
    case 'create': {
      const { create } = await import('../runtime/oci/create.js');
      await create(store, id, createOptions);
      return 0;
    }
    case 'run': {
      const { run } = await import('../runtime/oci/run.js');
      const ignore = () => undefined;
      for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const) process.on(signal, ignore);
      return await run(store, id, {
        ...createOptions,
        detach: bool(options, 'detach'),
        keep: bool(options, 'keep'),
      });
    }
    case 'exec': {
      const { ociExec } = await import('../runtime/oci/exec.js');
      const processFile = str(options, 'process');
      const cwd = str(options, 'cwd');
      const user = str(options, 'user');
      const apparmorProfile = str(options, 'apparmor');
      const processLabel = str(options, 'process-label');
      return await ociExec(store, id, {
        args: parsed.args.slice(1),
        tty: bool(options, 'tty'),
        detach: bool(options, 'detach'),
        env: list(options, 'env'),
        additionalGids: list(options, 'additional-gids'),
        caps: list(options, 'cap'),
        noNewPrivileges: bool(options, 'no-new-privs'),
        ...(processFile ? { processFile: path.resolve(processFile) } : {}),
        ...(consoleSocket ? { consoleSocket } : {}),
        ...(pidFile ? { pidFile } : {}),
        ...(cwd !== undefined ? { cwd } : {}),
        ...(user !== undefined ? { user } : {}),
        ...(apparmorProfile !== undefined ? { apparmorProfile } : {}),
        ...(processLabel !== undefined ? { processLabel } : {}),
      });
    }
    case 'pause':
    case 'resume': {
      const commands = await import('../runtime/oci/pause.js');
      await (name === 'pause' ? commands.pause(store, id) : commands.resume(store, id));
      return 0;
    }
    case 'ps': {
      const { ps } = await import('../runtime/oci/ps.js');
      write(await ps(store, id, { format: str(options, 'format') ?? 'table', psArgs: parsed.args.slice(1) }));
      return 0;
    }
    case 'update': {
      const { update } = await import('../runtime/oci/update.js');
      const flags: UpdateFlags = {};
      const set = (key: keyof UpdateFlags, value: string | undefined) => {
        if (value !== undefined) flags[key] = value;
      };
      set('resources', str(options, 'resources'));
      set('kernelMemory', str(options, 'kernel-memory') ?? str(options, 'kernel-memory-tcp'));
      for (const [name, , , key] of UPDATE_FIELDS) set(key, str(options, name));
      await update(store, id, flags);
      return 0;
    }
    case 'events': {
      const { events, parseInterval } = await import('../runtime/oci/events.js');
      await events(store, id, {
        stats: bool(options, 'stats'),
        intervalMs: parseInterval(str(options, 'interval') ?? '5s'),
        write,
      });
      return 0;
    }
    case 'features': {
      const { features } = await import('../runtime/oci/features.js');
      write(`${JSON.stringify(features(), null, 2)}\n`);
      return 0;
    }
    case 'list': {
      const states = await store.list();
      if (bool(options, 'quiet')) for (const s of states) write(`${s.id}\n`);
      else if (str(options, 'format') === 'json') write(`${JSON.stringify(states)}\n`);
      else {
        const { table } = await import('./format.js');
        write(
          table(
            ['ID', 'PID', 'STATUS', 'BUNDLE'],
            states.map((s) => [s.id, String(s.pid ?? 0), s.status, s.bundle]),
          ),
        );
      }
      return 0;
    }
    case 'spec': {
      const { defaultBundleSpec } = await import('../runtime/oci/default-spec.js');
      const file = path.join(bundle, 'config.json');
      if (fs.existsSync(file)) throw new GantryError(`${file} already exists; remove it first`);
      fs.writeFileSync(file, `${JSON.stringify(defaultBundleSpec(), null, '\t')}\n`);
      return 0;
    }
  }
  return 2;
}

export async function main(argv: readonly string[]): Promise<number> {
  let global;
  try {
    global = parseArgs(GLOBAL, argv);
  } catch (error) {
    process.stderr.write(`gantry-oci: ${(error as Error).message}\n`);
    return 2;
  }
  if (global.options.version) {
    write('gantry-oci version 0.1.0\nspec: 1.2.0\n');
    return 0;
  }
  const [name, ...rest] = global.args;
  if (!name || global.help) {
    write(usage());
    return name ? 0 : 1;
  }
  const logFile = str(global.options, 'log');
  const logFormat = str(global.options, 'log-format');
  const refused = REFUSED[name];
  if (refused) {
    process.stderr.write(`gantry-oci: ${refused.message}\nhint: ${refused.hint}\n`);
    logError(logFile, logFormat, refused.message);
    return 1;
  }
  const spec = COMMANDS[name];
  if (!spec) {
    process.stderr.write(`gantry-oci: unknown command ${JSON.stringify(name)}\n${usage()}`);
    return 2;
  }
  if (bool(global.options, 'systemd-cgroup')) {
    const message =
      '--systemd-cgroup is not supported: gantry-oci manages cgroups through cgroupfs (cgroupsPath is a path, not slice:prefix:name)';
    process.stderr.write(
      `gantry-oci: ${message}\nhint: drive it with cgroupfs: podman --cgroup-manager=cgroupfs, containerd's runc options SystemdCgroup = false\n`,
    );
    logError(logFile, logFormat, message);
    return 1;
  }
  try {
    const parsed = parseArgs({ ...spec, name: spec.name }, rest);
    if (parsed.help) {
      write(formatHelp(spec).replace(/gantry /g, 'gantry-oci '));
      return 0;
    }
    const store = new OciStore(path.resolve(str(global.options, 'root') ?? DEFAULT_OCI_ROOT), {
      cgroupRoot: process.env.GANTRY_CGROUP_ROOT ?? '/sys/fs/cgroup',
      cgroupParent: process.env.GANTRY_CGROUP_PARENT ?? 'gantry-oci',
    });
    return await dispatch(name, store, parsed);
  } catch (error) {
    // The shared argument parser names the docker-style CLI (its usage line too); this is gantry-oci.
    const message = (error instanceof Error ? error.message : String(error))
      .replace(/(^|["'\s])gantry (?=[a-z])/gm, '$1gantry-oci ')
      .replace(/\n*$/, '');
    process.stderr.write(`gantry-oci: ${message}\n`);
    if (error instanceof GantryError && error.hint) process.stderr.write(`hint: ${error.hint}\n`);
    logError(logFile, logFormat, message);
    return error instanceof UsageError ? 2 : 1;
  }
}
