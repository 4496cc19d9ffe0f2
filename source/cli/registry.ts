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
  { name: 'run', group: 'Containers', description: 'Create and run a new container from an image', load: () => import('./commands/run.js') },
  { name: 'create', group: 'Containers', description: 'Create a new container', load: () => import('./commands/create.js') },
  { name: 'start', group: 'Containers', description: 'Start one or more stopped containers', load: () => import('./commands/start.js') },
  { name: 'ps', group: 'Containers', description: 'List containers', load: () => import('./commands/ps.js') },
  { name: 'inspect', group: 'Containers', description: 'Display detailed information on containers or images', load: () => import('./commands/inspect.js') },
  { name: 'logs', group: 'Containers', description: 'Fetch the logs of a container', load: () => import('./commands/logs.js') },
  { name: 'exec', group: 'Containers', description: 'Execute a command in a running container', load: () => import('./commands/exec.js') },
  { name: 'stop', group: 'Containers', description: 'Stop one or more running containers', load: () => import('./commands/stop.js') },
  { name: 'kill', group: 'Containers', description: 'Kill one or more running containers', load: () => import('./commands/kill.js') },
  { name: 'restart', group: 'Containers', description: 'Restart one or more containers', load: () => import('./commands/restart.js') },
  { name: 'wait', group: 'Containers', description: 'Block until containers stop, then print their exit codes', load: () => import('./commands/wait.js') },
  { name: 'rm', group: 'Containers', description: 'Remove one or more containers', load: () => import('./commands/rm.js') },
  { name: 'attach', group: 'Containers', description: "Attach to a running container's output (and input)", load: () => import('./commands/attach.js') },
  { name: 'image', group: 'Images', description: 'Manage images (ls, rm, import, from-host, tag)', load: () => import('./commands/image.js') },
  { name: 'images', group: 'Images', description: 'List images', load: () => import('./commands/images.js') },
  { name: 'container', group: 'Other', description: 'Internal container commands', hidden: true, load: () => import('./commands/container.js') },
];

export function findCommand(name: string): CommandEntry | undefined {
  return COMMANDS.find((command) => command.name === name);
}
