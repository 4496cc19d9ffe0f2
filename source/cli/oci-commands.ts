/** The command line of `gantry-oci`: runc's commands and flags, with usage text in the spec's terms. */
import type { CommandSpec, OptionSpec } from './args.js';

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

const BUNDLE: OptionSpec = {
  name: 'bundle',
  short: 'b',
  type: 'string',
  placeholder: 'dir',
  description: 'Path to the bundle directory (default: current directory)',
};
const PID_FILE: OptionSpec = {
  name: 'pid-file',
  type: 'string',
  placeholder: 'file',
  description: 'Write the container process id to this file',
};
const CONSOLE: OptionSpec = {
  name: 'console-socket',
  type: 'string',
  placeholder: 'path',
  description: 'Unix socket that receives the pty master (for terminal: true)',
};
const DETACH: OptionSpec = {
  name: 'detach',
  short: 'd',
  type: 'boolean',
  description: 'Detach from the process',
};
const PRESERVE_FDS: OptionSpec = {
  name: 'preserve-fds',
  type: 'number',
  description: 'Only 0: extra descriptors are not passed on yet',
  hidden: true,
};

/**
 * runc's `update` flags, each with its placeholder and the linux.resources field it sets, and the
 * key oci.ts hands to update() (one table for the flags and their reading).
 */
export const UPDATE_FIELDS = [
  ['memory', 'bytes', 'memory.limit', 'memory'],
  ['memory-reservation', 'bytes', 'memory.reservation', 'memoryReservation'],
  ['memory-swap', 'bytes', 'memory.swap (memory and swap)', 'memorySwap'],
  ['cpu-share', 'shares', 'cpu.shares', 'cpuShares'],
  ['cpu-quota', 'us', 'cpu.quota', 'cpuQuota'],
  ['cpu-period', 'us', 'cpu.period', 'cpuPeriod'],
  ['cpuset-cpus', 'list', 'cpu.cpus', 'cpusetCpus'],
  ['cpuset-mems', 'list', 'cpu.mems', 'cpusetMems'],
  ['pids-limit', 'n', 'pids.limit', 'pidsLimit'],
  ['blkio-weight', 'weight', 'blockIO.weight', 'blkioWeight'],
] as const;

/** What `create` and `run` take alike (runc's create flags). */
const CREATE_FLAGS: readonly OptionSpec[] = [
  BUNDLE,
  PID_FILE,
  CONSOLE,
  {
    name: 'no-pivot',
    type: 'boolean',
    description: 'Refused: the root is always changed with pivot_root (a chroot could be left)',
    hidden: true,
  },
  {
    name: 'no-new-keyring',
    type: 'boolean',
    description: "Keep the caller's session keyring (default: a new one, _ses.ID, as runc)",
  },
  PRESERVE_FDS,
];

/** A command that takes one container id and no flags. */
function onId(name: string, description: string): CommandSpec {
  return { name, usage: `${name} ID`, description, minArgs: 1, maxArgs: 1, options: [] };
}

export const COMMANDS: Record<string, CommandSpec> = {
  create: {
    name: 'create',
    usage: 'create [OPTIONS] ID',
    description: 'Create a container from a bundle; its process waits for start',
    minArgs: 1,
    maxArgs: 1,
    options: [...CREATE_FLAGS],
  },
  start: onId('start', 'Start the user process of a created container'),
  state: onId('state', 'Print the state of a container as JSON'),
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
      ...CREATE_FLAGS,
      DETACH,
      { name: 'keep', type: 'boolean', description: 'Do not delete the container after it exits' },
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
      DETACH,
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
      {
        name: 'apparmor',
        type: 'string',
        placeholder: 'profile',
        description: 'process.apparmorProfile (a loaded profile; refused where the host has no AppArmor)',
      },
      {
        name: 'process-label',
        type: 'string',
        placeholder: 'label',
        description: 'process.selinuxLabel (an SELinux context; refused where the host has no SELinux)',
      },
      PRESERVE_FDS,
    ],
  },
  pause: onId('pause', 'Suspend every process of the container (freeze its cgroup)'),
  resume: onId('resume', 'Resume the processes of a paused container'),
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
      ...UPDATE_FIELDS.map(([name, placeholder, field]): OptionSpec => ({
        name,
        type: 'string',
        placeholder,
        description: field,
      })),
      { name: 'kernel-memory', type: 'string', description: 'memory.kernel: ignored, as runc', hidden: true },
      { name: 'kernel-memory-tcp', type: 'string', description: 'memory.kernelTCP: ignored', hidden: true },
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

/**
 * runc's commands gantry-oci refuses, with why. They fail even with --help: CRI-O and podman decide
 * that a runtime can checkpoint when `checkpoint --help` exits 0.
 */
export const REFUSED: Record<string, { description: string; message: string; hint: string }> = {
  checkpoint: {
    description: 'Refused: no checkpoint of a running container (no CRIU support)',
    message:
      'checkpoint is not supported: gantry-oci cannot save the processes of a running container (it has no CRIU support); the container was left as it was',
    hint: 'stop the container and create a new one from its bundle, or use runc for checkpoint/restore',
  },
  restore: {
    description: 'Refused: no restore from a checkpoint (no CRIU support)',
    message:
      'restore is not supported: gantry-oci cannot restore a container from a checkpoint (it has no CRIU support); no container was created',
    hint: 'create the container from its bundle instead (gantry-oci create), or use runc for checkpoint/restore',
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
  for (const [name, refused] of Object.entries(REFUSED))
    lines.push(`  ${name.padEnd(8)} ${refused.description}`);
  lines.push('', 'Global options:');
  for (const option of GLOBAL.options.filter((o) => !o.hidden))
    lines.push(
      `  --${`${option.name} ${option.placeholder ?? ''}`.trimEnd().padEnd(20)} ${option.description}`,
    );
  return `${lines.join('\n')}\n`;
}
