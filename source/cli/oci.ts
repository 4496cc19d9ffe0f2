/**
 * `gantry-oci`: the OCI runtime command line with runc's syntax, so tools that drive runc can
 * drive Gantry: create, start, state, kill, delete, run, exec, list, spec.
 */
import fs from 'node:fs';
import path from 'node:path';
import { bool, formatHelp, list, parseArgs, str, UsageError, type CommandSpec } from './args.js';
import { GantryError } from '../runtime/errors.js';

const GLOBAL: CommandSpec = {
  name: '',
  usage: '[GLOBAL OPTIONS] COMMAND [OPTIONS] ID',
  description: 'The OCI runtime command line of Gantry (runc-compatible syntax)',
  stopAtFirstPositional: true,
  options: [
    {
      name: 'root',
      type: 'string',
      placeholder: 'dir',
      description: 'Root directory for container state (default /run/gantry-oci)',
    },
    { name: 'log', type: 'string', placeholder: 'file', description: 'Also write errors to this file' },
    { name: 'log-format', type: 'string', placeholder: 'text|json', description: 'Format of --log entries' },
    { name: 'debug', type: 'boolean', description: 'Accepted for runc compatibility' },
    {
      name: 'systemd-cgroup',
      type: 'boolean',
      description: 'Refused: gantry-oci manages cgroups through cgroupfs only',
    },
    { name: 'rootless', type: 'string', description: 'Accepted for runc compatibility', hidden: true },
    { name: 'version', short: 'v', type: 'boolean', description: 'Print the version' },
  ],
};

const BUNDLE = {
  name: 'bundle',
  short: 'b',
  type: 'string',
  placeholder: 'dir',
  description: 'Path to the bundle directory (default: current directory)',
} as const;
const PID_FILE = {
  name: 'pid-file',
  type: 'string',
  placeholder: 'file',
  description: 'Write the container process id to this file',
} as const;
const CONSOLE = {
  name: 'console-socket',
  type: 'string',
  placeholder: 'path',
  description: 'Unix socket that receives the pty master (for terminal: true)',
} as const;
const IGNORED = [
  {
    name: 'no-pivot',
    type: 'boolean',
    description: 'Accepted for runc compatibility (pivot_root is always used)',
    hidden: true,
  },
  { name: 'no-new-keyring', type: 'boolean', description: 'Accepted for runc compatibility', hidden: true },
  { name: 'preserve-fds', type: 'number', description: 'Accepted for runc compatibility', hidden: true },
] as const;

const COMMANDS: Record<string, CommandSpec> = {
  create: {
    name: 'create',
    usage: 'create [OPTIONS] ID',
    description: 'Create a container from a bundle; its process waits for start',
    minArgs: 1,
    maxArgs: 1,
    options: [BUNDLE, PID_FILE, CONSOLE, ...IGNORED],
  },
  start: {
    name: 'start',
    usage: 'start ID',
    description: 'Start the user process of a created container',
    minArgs: 1,
    maxArgs: 1,
    options: [],
  },
  state: {
    name: 'state',
    usage: 'state ID',
    description: 'Print the state of a container as JSON',
    minArgs: 1,
    maxArgs: 1,
    options: [],
  },
  kill: {
    name: 'kill',
    usage: 'kill [OPTIONS] ID [SIGNAL]',
    description: 'Send a signal (default SIGTERM) to the container process',
    minArgs: 1,
    maxArgs: 2,
    options: [
      {
        name: 'all',
        short: 'a',
        type: 'boolean',
        description: 'Send the signal to every process of the container',
      },
    ],
  },
  delete: {
    name: 'delete',
    usage: 'delete [OPTIONS] ID',
    description: 'Delete a stopped container and everything it holds',
    minArgs: 1,
    maxArgs: 1,
    options: [
      {
        name: 'force',
        short: 'f',
        type: 'boolean',
        description: 'Kill the container first if it is running',
      },
    ],
  },
  run: {
    name: 'run',
    usage: 'run [OPTIONS] ID',
    description: 'Create and start a container; wait for it unless --detach',
    minArgs: 1,
    maxArgs: 1,
    options: [
      BUNDLE,
      PID_FILE,
      CONSOLE,
      { name: 'detach', short: 'd', type: 'boolean', description: 'Detach from the container process' },
      { name: 'keep', type: 'boolean', description: 'Do not delete the container after it exits' },
      ...IGNORED,
    ],
  },
  exec: {
    name: 'exec',
    usage: 'exec [OPTIONS] ID COMMAND [ARGS...]',
    description: 'Run a process in a created or running container',
    minArgs: 1,
    stopAtFirstPositional: true,
    options: [
      {
        name: 'process',
        short: 'p',
        type: 'string',
        placeholder: 'file',
        description: "A process.json (the spec's process object) to run instead of COMMAND",
      },
      { name: 'tty', short: 't', type: 'boolean', description: 'Give the process a pseudo-terminal' },
      CONSOLE,
      PID_FILE,
      { name: 'detach', short: 'd', type: 'boolean', description: 'Do not wait for the process' },
      { name: 'cwd', type: 'string', placeholder: 'dir', description: 'Working directory (process.cwd)' },
      { name: 'env', short: 'e', type: 'list', description: 'Add NAME=value to process.env' },
      {
        name: 'user',
        short: 'u',
        type: 'string',
        placeholder: 'uid[:gid]',
        description: 'process.user, as numbers',
      },
      {
        name: 'additional-gids',
        short: 'g',
        type: 'list',
        description: 'process.user.additionalGids, as numbers',
      },
      { name: 'cap', short: 'c', type: 'list', description: 'Add a capability (CAP_NAME) to the process' },
      { name: 'no-new-privs', type: 'boolean', description: 'Set process.noNewPrivileges' },
      ...IGNORED.filter((o) => o.name === 'preserve-fds'),
    ],
  },
  list: {
    name: 'list',
    usage: 'list [OPTIONS]',
    description: 'List containers',
    maxArgs: 0,
    options: [
      { name: 'format', short: 'f', type: 'string', description: 'table or json' },
      { name: 'quiet', short: 'q', type: 'boolean', description: 'Only print ids' },
    ],
  },
  spec: {
    name: 'spec',
    usage: 'spec [OPTIONS]',
    description: 'Write a default config.json to the bundle directory',
    maxArgs: 0,
    options: [BUNDLE],
  },
};

function usage(): string {
  const lines = [
    'Usage:  gantry-oci [GLOBAL OPTIONS] COMMAND [OPTIONS] ID',
    '',
    GLOBAL.description,
    '',
    'Commands:',
  ];
  for (const command of Object.values(COMMANDS))
    lines.push(`  ${command.name.padEnd(8)} ${command.description}`);
  lines.push(
    '',
    'Global options:',
    '  --root dir   Root directory for container state (default /run/gantry-oci)',
    '  --log file   Also write errors to this file',
  );
  return `${lines.join('\n')}\n`;
}

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

export async function main(argv: readonly string[]): Promise<number> {
  let global;
  try {
    global = parseArgs(GLOBAL, argv);
  } catch (error) {
    process.stderr.write(`gantry-oci: ${(error as Error).message}\n`);
    return 2;
  }
  if (global.options.version) {
    process.stdout.write('gantry-oci version 0.1.0\nspec: 1.2.0\n');
    return 0;
  }
  const [name, ...rest] = global.args;
  if (!name || global.help) {
    process.stdout.write(usage());
    return name ? 0 : 1;
  }
  const spec = COMMANDS[name];
  if (!spec) {
    process.stderr.write(`gantry-oci: unknown command ${JSON.stringify(name)}\n${usage()}`);
    return 2;
  }
  const logFile = str(global.options, 'log');
  const logFormat = str(global.options, 'log-format');
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
      process.stdout.write(formatHelp(spec).replace(/gantry /g, 'gantry-oci '));
      return 0;
    }
    const { OciRuntime, DEFAULT_OCI_ROOT } = await import('../runtime/oci/runtime.js');
    const runtime = new OciRuntime(path.resolve(str(global.options, 'root') ?? DEFAULT_OCI_ROOT), {
      cgroupRoot: process.env.GANTRY_CGROUP_ROOT ?? '/sys/fs/cgroup',
      cgroupParent: process.env.GANTRY_CGROUP_PARENT ?? 'gantry-oci',
    });
    const id = parsed.args[0]!;
    const bundle = path.resolve(str(parsed.options, 'bundle') ?? process.cwd());
    const pidFile = str(parsed.options, 'pid-file');
    const consoleSocket = str(parsed.options, 'console-socket');
    const createOptions = {
      bundle,
      ...(pidFile ? { pidFile } : {}),
      ...(consoleSocket ? { consoleSocket } : {}),
    };
    switch (name) {
      case 'create':
        await runtime.create(id, createOptions);
        return 0;
      case 'start':
        await runtime.start(id);
        return 0;
      case 'state':
        process.stdout.write(`${JSON.stringify(await runtime.state(id), null, 2)}\n`);
        return 0;
      case 'kill':
        await runtime.kill(id, parsed.args[1] ?? 'SIGTERM', { all: bool(parsed.options, 'all') });
        return 0;
      case 'delete':
        await runtime.delete(id, { force: bool(parsed.options, 'force') });
        return 0;
      case 'run': {
        const ignore = () => undefined;
        for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const) process.on(signal, ignore);
        return await runtime.run(id, {
          ...createOptions,
          detach: bool(parsed.options, 'detach'),
          keep: bool(parsed.options, 'keep'),
        });
      }
      case 'exec': {
        const { ociExec } = await import('../runtime/oci/exec.js');
        const processFile = str(parsed.options, 'process');
        const cwd = str(parsed.options, 'cwd');
        const user = str(parsed.options, 'user');
        return await ociExec(runtime, id, {
          args: parsed.args.slice(1),
          tty: bool(parsed.options, 'tty'),
          detach: bool(parsed.options, 'detach'),
          env: list(parsed.options, 'env'),
          additionalGids: list(parsed.options, 'additional-gids'),
          caps: list(parsed.options, 'cap'),
          noNewPrivileges: bool(parsed.options, 'no-new-privs'),
          ...(processFile ? { processFile: path.resolve(processFile) } : {}),
          ...(consoleSocket ? { consoleSocket } : {}),
          ...(pidFile ? { pidFile } : {}),
          ...(cwd !== undefined ? { cwd } : {}),
          ...(user !== undefined ? { user } : {}),
        });
      }
      case 'list': {
        const states = await runtime.list();
        if (bool(parsed.options, 'quiet')) for (const s of states) process.stdout.write(`${s.id}\n`);
        else if (str(parsed.options, 'format') === 'json')
          process.stdout.write(`${JSON.stringify(states)}\n`);
        else {
          const { table } = await import('./format.js');
          process.stdout.write(
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
  } catch (error) {
    // The shared argument parser names the docker-style CLI; this is gantry-oci.
    const message = (error instanceof Error ? error.message : String(error)).replace(
      /(["'])gantry /g,
      '$1gantry-oci ',
    );
    process.stderr.write(`gantry-oci: ${message}\n`);
    if (error instanceof GantryError && error.hint) process.stderr.write(`hint: ${error.hint}\n`);
    logError(logFile, logFormat, message);
    return error instanceof UsageError ? 2 : 1;
  }
}
