/** docker's STATUS column: "Up 5 minutes", "Exited (0) 3 seconds ago", "Created". */
import type { ContainerRecord } from '../runtime/containers/record.js';
import { ago, humanDuration } from './format.js';

/** docker's " (healthy)", " (unhealthy)", " (health: starting)" after "Up ...". */
function healthSuffix(record: ContainerRecord): string {
  const health = record.State.Health;
  if (!health) return '';
  return health.Status === 'starting' ? ' (health: starting)' : ` (${health.Status})`;
}

export function statusText(record: ContainerRecord, now = Date.now()): string {
  const state = record.State;
  switch (state.Status) {
    case 'running':
      if (state.Restarting) return `Restarting (${state.ExitCode}) ${ago(state.FinishedAt, now)}`;
      return `Up ${humanDuration(now - Date.parse(state.StartedAt))}${healthSuffix(record)}`;
    case 'paused':
      return `Up ${humanDuration(now - Date.parse(state.StartedAt))} (Paused)`;
    case 'exited':
      return `Exited (${state.ExitCode}) ${ago(state.FinishedAt, now)}`;
    case 'removing':
      return 'Removal In Progress';
    default:
      return 'Created';
  }
}

export function commandText(record: ContainerRecord): string {
  return [...record.Config.Entrypoint, ...record.Config.Cmd].join(' ');
}
