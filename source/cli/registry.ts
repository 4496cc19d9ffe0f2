/** Every command, loaded only when it runs so the CLI starts fast. */
import type { CommandModule } from './context.js';

export interface CommandEntry {
  name: string;
  description: string;
  group: 'Containers' | 'Images' | 'Other';
  hidden?: boolean;
  load: () => Promise<CommandModule>;
}

export const COMMANDS: CommandEntry[] = [
  {
    name: 'run',
    group: 'Containers',
    description: 'Create and run a new container from an image',
    load: () => import('./commands/run.js'),
  },
  {
    name: 'create',
    group: 'Containers',
    description: 'Create a new container',
    load: () => import('./commands/create.js'),
  },
  {
    name: 'start',
    group: 'Containers',
    description: 'Start one or more stopped containers',
    load: () => import('./commands/start.js'),
  },
  { name: 'ps', group: 'Containers', description: 'List containers', load: () => import('./commands/ps.js') },
  {
    name: 'inspect',
    group: 'Containers',
    description: 'Display detailed information on containers or images',
    load: () => import('./commands/inspect.js'),
  },
  {
    name: 'logs',
    group: 'Containers',
    description: 'Fetch the logs of a container',
    load: () => import('./commands/logs.js'),
  },
  {
    name: 'exec',
    group: 'Containers',
    description: 'Execute a command in a running container',
    load: () => import('./commands/exec.js'),
  },
  {
    name: 'stop',
    group: 'Containers',
    description: 'Stop one or more running containers',
    load: () => import('./commands/stop.js'),
  },
  {
    name: 'kill',
    group: 'Containers',
    description: 'Kill one or more running containers',
    load: () => import('./commands/kill.js'),
  },
  {
    name: 'restart',
    group: 'Containers',
    description: 'Restart one or more containers',
    load: () => import('./commands/restart.js'),
  },
  {
    name: 'wait',
    group: 'Containers',
    description: 'Block until containers stop, then print their exit codes',
    load: () => import('./commands/wait.js'),
  },
  {
    name: 'pause',
    group: 'Containers',
    description: 'Pause all processes within one or more containers',
    load: () => import('./commands/pause.js'),
  },
  {
    name: 'unpause',
    group: 'Containers',
    description: 'Unpause all processes within one or more containers',
    load: () => import('./commands/unpause.js'),
  },
  {
    name: 'update',
    group: 'Containers',
    description: 'Update resource limits of one or more containers',
    load: () => import('./commands/update.js'),
  },
  {
    name: 'stats',
    group: 'Containers',
    description: 'Display a live stream of container resource usage statistics',
    load: () => import('./commands/stats.js'),
  },
  {
    name: 'events',
    group: 'Other',
    description: 'Get real time events from the engine',
    load: () => import('./commands/events.js'),
  },
  {
    name: 'rm',
    group: 'Containers',
    description: 'Remove one or more containers',
    load: () => import('./commands/rm.js'),
  },
  {
    name: 'attach',
    group: 'Containers',
    description: "Attach to a running container's output (and input)",
    load: () => import('./commands/attach.js'),
  },
  {
    name: 'image',
    group: 'Images',
    description: 'Manage images (ls, rm, import, export, pull, push, tree, history, prune, from-host, tag)',
    load: () => import('./commands/image.js'),
  },
  {
    name: 'pull',
    group: 'Images',
    description: 'Download an image from a registry',
    load: () => import('./commands/pull.js'),
  },
  {
    name: 'push',
    group: 'Images',
    description: 'Upload an image to a registry',
    load: () => import('./commands/push.js'),
  },
  {
    name: 'login',
    group: 'Images',
    description: 'Log in to a registry',
    load: () => import('./commands/login.js'),
  },
  {
    name: 'logout',
    group: 'Images',
    description: 'Log out of a registry',
    load: () => import('./commands/logout.js'),
  },
  {
    name: 'build',
    group: 'Images',
    description: 'Build an image from a Containerfile',
    load: () => import('./commands/build.js'),
  },
  {
    name: 'commit',
    group: 'Containers',
    description: "Create a new image from a container's changes",
    load: () => import('./commands/commit.js'),
  },
  {
    name: 'diff',
    group: 'Containers',
    description: "Inspect changes to files or directories on a container's filesystem",
    load: () => import('./commands/diff.js'),
  },
  {
    name: 'history',
    group: 'Images',
    description: 'Show the history of an image',
    load: () => import('./commands/history.js'),
  },
  { name: 'images', group: 'Images', description: 'List images', load: () => import('./commands/images.js') },
  {
    name: 'tag',
    group: 'Images',
    description: 'Give an image another name',
    load: () => import('./commands/tag.js'),
  },
  {
    name: 'rmi',
    group: 'Images',
    description: 'Remove one or more images',
    load: () => import('./commands/rmi.js'),
  },
  {
    name: 'rename',
    group: 'Containers',
    description: 'Rename a container',
    load: () => import('./commands/rename.js'),
  },
  {
    name: 'port',
    group: 'Containers',
    description: 'List port mappings or a specific mapping for the container',
    load: () => import('./commands/port.js'),
  },
  {
    name: 'network',
    group: 'Other',
    description: 'Manage networks (create, ls, inspect, rm, connect, disconnect, prune)',
    load: () => import('./commands/network.js'),
  },
  {
    name: 'cp',
    group: 'Containers',
    description: 'Copy files/folders between a container and the local filesystem',
    load: () => import('./commands/cp.js'),
  },
  {
    name: 'top',
    group: 'Containers',
    description: 'Display the running processes of a container',
    load: () => import('./commands/top.js'),
  },
  {
    name: 'healthcheck',
    group: 'Containers',
    description: "Run a container's health check now",
    load: () => import('./commands/healthcheck.js'),
  },
  {
    name: 'generate',
    group: 'Other',
    description: 'Generate a systemd unit that starts a container at boot',
    load: () => import('./commands/generate.js'),
  },
  {
    name: 'kube',
    group: 'Other',
    description: 'Generate Kubernetes manifests from containers and pods, and play them here',
    load: () => import('./commands/kube.js'),
  },
  {
    name: 'pod',
    group: 'Other',
    description: 'Manage pods (ls, inspect, start, stop, rm)',
    load: () => import('./commands/pod.js'),
  },
  {
    name: 'volume',
    group: 'Other',
    description: 'Manage volumes (create, ls, inspect, rm, prune)',
    load: () => import('./commands/volume.js'),
  },
  {
    name: 'save',
    group: 'Images',
    description: 'Save an image to a tar archive (docker-archive, to STDOUT or -o FILE)',
    load: () => import('./commands/save.js'),
  },
  {
    name: 'load',
    group: 'Images',
    description: 'Load an image from a tar archive or STDIN',
    load: () => import('./commands/load.js'),
  },
  {
    name: 'export',
    group: 'Containers',
    description: "Export a container's filesystem as a tar archive",
    load: () => import('./commands/export.js'),
  },
  {
    name: 'import',
    group: 'Images',
    description: 'Import the contents from a tarball to create a filesystem image',
    load: () => import('./commands/import.js'),
  },
  {
    name: 'connection',
    group: 'Other',
    description: 'Manage named connections to remote hosts (add, ls, rm, default)',
    load: () => import('./commands/connection.js'),
  },
  {
    name: 'info',
    group: 'Other',
    description: 'Display system-wide information',
    load: () => import('./commands/info.js'),
  },
  {
    name: 'system',
    group: 'Other',
    description: 'Manage gantry (df: disk usage, prune: remove unused data, service --stdio)',
    load: () => import('./commands/system.js'),
  },
  {
    name: 'container',
    group: 'Other',
    description: 'Manage containers (container ls, rm, inspect, ...: every container command)',
    load: () => import('./commands/container.js'),
  },
];

export function findCommand(name: string): CommandEntry | undefined {
  return COMMANDS.find((command) => command.name === name);
}

/** docker's `container VERB` names that differ from the top-level command's. */
const CONTAINER_VERBS: Record<string, string> = { ls: 'ps', list: 'ps', remove: 'rm' };
/** docker's `image VERB` names of image commands that live at the top level here. */
const IMAGE_VERBS: Record<string, string> = { build: 'build', load: 'load', remove: 'rmi' };
/** Top-level commands that are about containers though listed elsewhere. */
const CONTAINER_COMMANDS = new Set(['commit', 'diff', 'port', 'cp', 'rename', 'top', 'export']);

/**
 * `gantry container ls -a` is `gantry ps -a`, as docker's management commands are: the verb names
 * a container command (or one of docker's other names for it). Verbs the `container` command
 * handles itself (cleanup, prune) are left to it.
 */
export function resolveManagementCommand(
  name: string,
  rest: readonly string[],
): { name: string; rest: readonly string[] } {
  const [verb, ...args] = rest;
  if (name === 'image' && verb !== undefined && IMAGE_VERBS[verb])
    return { name: IMAGE_VERBS[verb], rest: args };
  if (name !== 'container' || verb === undefined) return { name, rest };
  const target = CONTAINER_VERBS[verb] ?? verb;
  return containerVerbs().includes(verb) ? { name: target, rest: args } : { name, rest };
}

/** The verbs `gantry container` takes. */
export function containerVerbs(): string[] {
  const verbs = COMMANDS.filter(
    (entry) => !entry.hidden && (entry.group === 'Containers' || CONTAINER_COMMANDS.has(entry.name)),
  ).map((entry) => entry.name);
  return [...verbs, ...Object.keys(CONTAINER_VERBS)].sort();
}
