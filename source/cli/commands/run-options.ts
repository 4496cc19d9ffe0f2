/** The flags `run` and `create` share, and their conversion to the engine's CreateOptions. */
import type { CreateOptions } from '../../runtime/containers/create.js';
import { InvalidArgumentError } from '../../runtime/errors.js';
import { bool, keyValues, list, num, str, type OptionSpec, type OptionValues } from '../args.js';
import { deviceOptionsFrom, RESOURCE_OPTIONS, resourcesFromOptions } from './resource-options.js';

export const CREATE_OPTIONS: OptionSpec[] = [
  { name: 'name', type: 'string', description: 'Assign a name to the container' },
  {
    name: 'env',
    short: 'e',
    type: 'list',
    description: 'Set environment variables (NAME=value, or NAME to pass ours)',
  },
  {
    name: 'env-file',
    type: 'list',
    placeholder: 'file',
    description: 'Read environment variables from a file',
  },
  {
    name: 'workdir',
    short: 'w',
    type: 'string',
    placeholder: 'dir',
    description: 'Working directory inside the container',
  },
  {
    name: 'user',
    short: 'u',
    type: 'string',
    placeholder: 'user',
    description: 'Username or UID (format: <name|uid>[:<group|gid>])',
  },
  { name: 'hostname', short: 'h', type: 'string', description: 'Container host name' },
  { name: 'interactive', short: 'i', type: 'boolean', description: 'Keep STDIN open' },
  {
    name: 'attach',
    short: 'a',
    type: 'list',
    placeholder: 'list',
    description:
      'Attach to STDIN, STDOUT or STDERR (repeatable; default: STDOUT and STDERR, and STDIN with -i)',
  },
  { name: 'tty', short: 't', type: 'boolean', description: 'Allocate a pseudo-TTY' },
  { name: 'rm', type: 'boolean', description: 'Automatically remove the container when it exits' },
  {
    name: 'volume',
    short: 'v',
    type: 'list',
    description:
      'Bind mount a host path or mount a volume: HOST-PATH|VOLUME:CONTAINER-PATH[:MODES] (MODES: ro|rw, z|Z, nocopy, [r]private|[r]shared|[r]slave, comma-separated), or CONTAINER-PATH for an anonymous volume',
  },
  {
    name: 'mount',
    type: 'list',
    description:
      'Attach a filesystem mount: type=bind|volume|tmpfs,source=,target=[,readonly][,bind-propagation=][,bind-nonrecursive][,volume-nocopy][,volume-label=K=V][,tmpfs-size=][,tmpfs-mode=]',
  },
  { name: 'tmpfs', type: 'list', description: 'Mount a tmpfs directory: CONTAINER-PATH[:OPTIONS]' },
  {
    name: 'volumes-from',
    type: 'list',
    placeholder: 'list',
    description: 'Mount volumes from the specified container(s): CONTAINER[:ro|rw]',
  },
  {
    name: 'network',
    type: 'string',
    placeholder: 'network',
    description:
      'Connect to a network: bridge (the default), none (own stack with only lo), host, container:NAME|ID, or a network made with `network create`',
  },
  { name: 'net', type: 'string', placeholder: 'network', description: 'Same as --network', hidden: true },
  {
    name: 'publish',
    short: 'p',
    type: 'list',
    placeholder: 'list',
    description: "Publish a container's port to the host: [IP:][HOSTPORT:]CONTAINERPORT[/tcp|udp]",
  },
  {
    name: 'publish-all',
    short: 'P',
    type: 'boolean',
    description: 'Publish every exposed port to a free host port',
  },
  { name: 'expose', type: 'list', placeholder: 'list', description: 'Expose a port or a range of ports' },
  {
    name: 'network-alias',
    type: 'list',
    placeholder: 'list',
    description: 'Another name the container answers to on its user network',
  },
  { name: 'ip', type: 'string', description: 'IPv4 address (e.g. 10.89.0.10), on a user network' },
  { name: 'add-host', type: 'list', placeholder: 'list', description: 'Add a line to /etc/hosts (NAME:IP)' },
  { name: 'dns', type: 'list', placeholder: 'list', description: 'Set custom DNS servers' },
  { name: 'dns-search', type: 'list', placeholder: 'list', description: 'Set custom DNS search domains' },
  { name: 'dns-option', type: 'list', placeholder: 'list', description: 'Set DNS options' },
  {
    name: 'entrypoint',
    type: 'string',
    placeholder: 'cmd',
    description: 'Overwrite the default ENTRYPOINT of the image',
  },
  {
    name: 'pid',
    type: 'string',
    placeholder: 'string',
    description:
      "PID namespace to use: private (the default), host (the host's: its processes are visible) or container:NAME|ID (join that container's)",
  },
  {
    name: 'ipc',
    type: 'string',
    placeholder: 'string',
    description:
      "IPC namespace to use: private (the default), shareable (the same here: any can be joined), host (the host's, with its /dev/shm) or container:NAME|ID",
  },
  {
    name: 'uts',
    type: 'string',
    placeholder: 'string',
    description:
      "UTS namespace to use: host (the host's hostname) or container:NAME|ID (join that container's, with its hostname); not with --hostname. By default the container has its own",
  },
  { name: 'read-only', type: 'boolean', description: "Mount the container's root filesystem as read only" },
  { name: 'privileged', type: 'boolean', description: 'Give extended privileges to this container' },
  {
    name: 'userns',
    type: 'string',
    placeholder: 'mode',
    description:
      'User namespace: host (the default), auto[:size=N] (a range of the gantry entry of /etc/subuid and /etc/subgid), keep-id (your uid and gid map to themselves)',
  },
  {
    name: 'uidmap',
    type: 'list',
    placeholder: 'map',
    description:
      "Map the container's uids CONTAINER..CONTAINER+SIZE-1 to the host's HOST..: CONTAINER:HOST:SIZE",
  },
  {
    name: 'gidmap',
    type: 'list',
    placeholder: 'map',
    description: 'As --uidmap for gids (default: the same as --uidmap)',
  },
  { name: 'cap-add', type: 'list', description: 'Add Linux capabilities' },
  { name: 'cap-drop', type: 'list', description: 'Drop Linux capabilities' },
  { name: 'ulimit', type: 'list', description: 'Ulimit options (NAME=SOFT[:HARD])' },
  {
    name: 'security-opt',
    type: 'list',
    description:
      'Security options: seccomp=unconfined|PROFILE.json, no-new-privileges[=true|false] (on by default, unlike docker: setuid binaries do not raise privileges; no-new-privileges=false turns it off)',
  },
  { name: 'label', short: 'l', type: 'list', description: 'Set metadata on a container (KEY=VALUE)' },
  {
    name: 'log-driver',
    type: 'string',
    placeholder: 'driver',
    description: 'Logging driver: k8s-file (the default; json-file and local are taken as its names) or none',
  },
  {
    name: 'log-opt',
    type: 'list',
    description:
      'Log driver options: max-size=SIZE (default 20m, -1 for no limit), max-file=N (default 5); rotated by size',
  },
  {
    name: 'restart',
    type: 'string',
    placeholder: 'policy',
    description:
      "Restart policy when the container exits: no, on-failure[:max-retries], always, unless-stopped (the container's monitor restarts it; no daemon)",
  },
  { name: 'stop-signal', type: 'string', placeholder: 'signal', description: 'Signal to stop the container' },
  {
    name: 'stop-timeout',
    type: 'number',
    placeholder: 'seconds',
    description: 'Timeout to stop a container',
  },
  {
    name: 'health-cmd',
    type: 'string',
    placeholder: 'string',
    description: 'Command to run to check health',
  },
  {
    name: 'health-interval',
    type: 'string',
    placeholder: 'duration',
    description: 'Time between running the check (ms|s|m|h) (default 30s)',
  },
  {
    name: 'health-retries',
    type: 'number',
    placeholder: 'int',
    description: 'Consecutive failures needed to report unhealthy (default 3)',
  },
  {
    name: 'health-timeout',
    type: 'string',
    placeholder: 'duration',
    description: 'Maximum time to allow one check to run (ms|s|m|h) (default 30s)',
  },
  {
    name: 'health-start-period',
    type: 'string',
    placeholder: 'duration',
    description: 'Start period for the container to initialize before failures count (ms|s|m|h) (default 0s)',
  },
  {
    name: 'init',
    type: 'boolean',
    description:
      'Run an init inside the container that forwards signals and reaps processes (at /sbin/docker-init)',
  },
  { name: 'no-healthcheck', type: 'boolean', description: 'Disable any container-specified HEALTHCHECK' },
  ...RESOURCE_OPTIONS,
];

async function readEnvFiles(files: readonly string[]): Promise<string[]> {
  const { readFile } = await import('node:fs/promises');
  const env: string[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const reason =
        code === 'ENOENT'
          ? 'no such file'
          : code === 'EISDIR'
            ? 'it is a directory'
            : code === 'EACCES'
              ? 'permission denied'
              : (error as Error).message;
      throw new InvalidArgumentError(`--env-file ${file}: ${reason}`, {
        hint: 'give a file of NAME=VALUE lines (# starts a comment)',
      });
    }
    for (const line of text.split('\n')) {
      const trimmed = line.trim();
      if (trimmed === '' || trimmed.startsWith('#')) continue;
      env.push(trimmed);
    }
  }
  return env;
}

export async function createOptionsFrom(
  options: OptionValues,
  args: readonly string[],
): Promise<CreateOptions> {
  const [image, ...command] = args;
  const labels = keyValues(options, 'label');
  const network = str(options, 'network') ?? str(options, 'net');
  const entrypoint = str(options, 'entrypoint');
  const result: CreateOptions = {
    image: image!,
    ...(command.length > 0 ? { command } : {}),
    ...(entrypoint !== undefined ? { entrypoint } : {}),
    env: [...(await readEnvFiles(list(options, 'env-file'))), ...list(options, 'env')],
    tty: bool(options, 'tty'),
    interactive: bool(options, 'interactive'),
    autoRemove: bool(options, 'rm'),
    volumes: list(options, 'volume'),
    mounts: list(options, 'mount'),
    tmpfs: list(options, 'tmpfs'),
    volumesFrom: list(options, 'volumes-from'),
    readOnly: bool(options, 'read-only'),
    privileged: bool(options, 'privileged'),
    capAdd: list(options, 'cap-add'),
    capDrop: list(options, 'cap-drop'),
    ulimits: list(options, 'ulimit'),
    securityOpt: list(options, 'security-opt'),
    labels,
    resources: resourcesFromOptions(options),
    ...deviceOptionsFrom(options),
    publish: list(options, 'publish'),
    publishAll: bool(options, 'publish-all'),
    expose: list(options, 'expose'),
    networkAliases: list(options, 'network-alias'),
    addHosts: list(options, 'add-host'),
    dns: list(options, 'dns'),
    dnsSearch: list(options, 'dns-search'),
    dnsOptions: list(options, 'dns-option'),
  };
  const attach = list(options, 'attach');
  if (attach.length > 0) {
    const streams = attach.map((stream) => stream.toLowerCase());
    const bad = streams.find((stream) => stream !== 'stdin' && stream !== 'stdout' && stream !== 'stderr');
    if (bad !== undefined)
      throw new InvalidArgumentError(
        `invalid argument "${bad}" for "-a, --attach": valid streams are STDIN, STDOUT and STDERR`,
      );
    result.attach = {
      stdin: streams.includes('stdin'),
      stdout: streams.includes('stdout'),
      stderr: streams.includes('stderr'),
    };
  }
  const name = str(options, 'name');
  if (name !== undefined) result.name = name;
  const ip = str(options, 'ip');
  if (ip !== undefined) result.ip = ip;
  const workdir = str(options, 'workdir');
  if (workdir !== undefined) result.workdir = workdir;
  const user = str(options, 'user');
  if (user !== undefined) result.user = user;
  const hostname = str(options, 'hostname');
  if (hostname !== undefined) result.hostname = hostname;
  if (network !== undefined) result.network = network;
  const pid = str(options, 'pid');
  if (pid !== undefined) result.pid = pid;
  const ipc = str(options, 'ipc');
  if (ipc !== undefined) result.ipc = ipc;
  const uts = str(options, 'uts');
  if (uts !== undefined) result.uts = uts;
  const userns = str(options, 'userns');
  if (userns !== undefined) result.userns = userns;
  if (list(options, 'uidmap').length > 0) result.uidmap = list(options, 'uidmap');
  if (list(options, 'gidmap').length > 0) result.gidmap = list(options, 'gidmap');
  const logDriver = str(options, 'log-driver');
  if (logDriver !== undefined) result.logDriver = logDriver;
  const logOptions = list(options, 'log-opt');
  if (logOptions.length > 0) result.logOptions = logOptions;
  const restart = str(options, 'restart');
  if (restart !== undefined) result.restart = restart;
  const stopSignal = str(options, 'stop-signal');
  if (stopSignal !== undefined) result.stopSignal = stopSignal;
  const healthCmd = str(options, 'health-cmd');
  if (healthCmd !== undefined) result.healthCmd = healthCmd;
  const healthInterval = str(options, 'health-interval');
  if (healthInterval !== undefined) result.healthInterval = healthInterval;
  const healthTimeout = str(options, 'health-timeout');
  if (healthTimeout !== undefined) result.healthTimeout = healthTimeout;
  const healthStartPeriod = str(options, 'health-start-period');
  if (healthStartPeriod !== undefined) result.healthStartPeriod = healthStartPeriod;
  const healthRetries = num(options, 'health-retries');
  if (healthRetries !== undefined) result.healthRetries = healthRetries;
  if (bool(options, 'no-healthcheck')) result.noHealthcheck = true;
  if (bool(options, 'init')) result.init = true;
  const stopTimeout = num(options, 'stop-timeout');
  if (stopTimeout !== undefined) result.stopTimeout = stopTimeout;
  return result;
}
