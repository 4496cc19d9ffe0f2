/** The command line of `gantry-oci`: runc's commands and flags, with usage text in the spec's terms. */
import type { CommandSpec } from './args.js';

export const GLOBAL: CommandSpec = {
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
    { name: 'criu', type: 'string', description: 'Accepted for runc compatibility', hidden: true },
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
  {
    name: 'preserve-fds',
    type: 'number',
    description: 'Only 0: extra descriptors are not passed on yet',
    hidden: true,
  },
] as const;

export const COMMANDS: Record<string, CommandSpec> = {
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
  pause: {
    name: 'pause',
    usage: 'pause ID',
    description: 'Suspend every process of the container (freeze its cgroup)',
    minArgs: 1,
    maxArgs: 1,
    options: [],
  },
  resume: {
    name: 'resume',
    usage: 'resume ID',
    description: 'Resume the processes of a paused container',
    minArgs: 1,
    maxArgs: 1,
    options: [],
  },
  ps: {
    name: 'ps',
    usage: 'ps [OPTIONS] ID [PS OPTIONS...]',
    description: "List the processes of the container's cgroup",
    minArgs: 1,
    stopAtFirstPositional: true,
    options: [
      {
        name: 'format',
        short: 'f',
        type: 'string',
        placeholder: 'table|json',
        description: 'table (ps -ef rows) or json (an array of host pids)',
      },
    ],
  },
  update: {
    name: 'update',
    usage: 'update [OPTIONS] ID',
    description: "Change the container's linux.resources",
    minArgs: 1,
    maxArgs: 1,
    options: [
      {
        name: 'resources',
        short: 'r',
        type: 'string',
        placeholder: 'file',
        description: 'A linux.resources object in JSON ("-" reads it from stdin)',
      },
      { name: 'memory', type: 'string', placeholder: 'bytes', description: 'memory.limit' },
      { name: 'memory-reservation', type: 'string', placeholder: 'bytes', description: 'memory.reservation' },
      {
        name: 'memory-swap',
        type: 'string',
        placeholder: 'bytes',
        description: 'memory.swap (memory and swap)',
      },
      { name: 'kernel-memory', type: 'string', description: 'memory.kernel: ignored, as runc', hidden: true },
      { name: 'kernel-memory-tcp', type: 'string', description: 'memory.kernelTCP: ignored', hidden: true },
      { name: 'cpu-share', type: 'string', placeholder: 'shares', description: 'cpu.shares' },
      { name: 'cpu-quota', type: 'string', placeholder: 'us', description: 'cpu.quota' },
      { name: 'cpu-period', type: 'string', placeholder: 'us', description: 'cpu.period' },
      { name: 'cpuset-cpus', type: 'string', placeholder: 'list', description: 'cpu.cpus' },
      { name: 'cpuset-mems', type: 'string', placeholder: 'list', description: 'cpu.mems' },
      { name: 'pids-limit', type: 'string', placeholder: 'n', description: 'pids.limit' },
      { name: 'blkio-weight', type: 'string', placeholder: 'weight', description: 'blockIO.weight' },
    ],
  },
  events: {
    name: 'events',
    usage: 'events [OPTIONS] ID',
    description: 'Print statistics and OOM events of the container as JSON lines',
    minArgs: 1,
    maxArgs: 1,
    options: [
      { name: 'stats', type: 'boolean', description: 'Print the statistics once and exit' },
      {
        name: 'interval',
        type: 'string',
        placeholder: 'duration',
        description: 'Time between statistics (default 5s)',
      },
    ],
  },
  features: {
    name: 'features',
    usage: 'features',
    description: 'Print what this runtime implements (the runtime-spec features document)',
    maxArgs: 0,
    options: [],
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

export function usage(): string {
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
