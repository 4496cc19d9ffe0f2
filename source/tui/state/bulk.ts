/**
 * Actions on several containers at once: with containers marked (Space), start/stop, pause,
 * restart, kill and remove act on every marked one instead of the selected one. Each container
 * gets its own effect, so each shows its own progress (and stop countdown) and its own result.
 * Pure, like interpret.ts, which asks here first.
 */
import type { ContainerRecord } from '../../runtime/containers/record.js';
import type { CommandId } from '../keymap/keymap.js';
import { isActive } from './selectors.js';
import type { Action, Effect, TuiState } from './types.js';

export interface BulkResult {
  actions: Action[];
  effects: Effect[];
}

type ContainerOp = Extract<Effect, { type: 'container' }>['op'];

/** The marked containers that still exist, in the order they are listed. */
export function markedContainers(state: TuiState): ContainerRecord[] {
  const { marked, records } = state.containers;
  return marked.flatMap((id) => (records[id] ? [records[id]] : []));
}

/** "web, db and 3 more": the names a question or a message lists. */
export function nameList(records: readonly { Name?: string; name?: string }[], shown = 5): string {
  const names = records.map((record) => record.Name ?? record.name ?? '');
  if (names.length <= shown)
    return names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names.at(-1)}` : (names[0] ?? '');
  return `${names.slice(0, shown).join(', ')} and ${names.length - shown} more`;
}

function plural(count: number): string {
  return `${count} container${count === 1 ? '' : 's'}`;
}

function each(records: readonly ContainerRecord[], op: ContainerOp): Effect[] {
  return records.map((record) => ({ type: 'container', op, id: record.Id, name: record.Name }));
}

function run(
  records: readonly ContainerRecord[],
  op: ContainerOp,
  verb: string,
  now: number,
  skipped = '',
): BulkResult {
  return {
    actions: [
      { type: 'containers/unmarkAll' },
      {
        type: 'ui/status',
        text: `${verb} ${plural(records.length)}: ${nameList(records)}${skipped}`,
        level: 'info',
        time: now,
      },
    ],
    effects: each(records, op),
  };
}

function refuse(text: string, now: number): BulkResult {
  return { actions: [{ type: 'ui/status', text, level: 'error', time: now }], effects: [] };
}

/** "; 2 not running were left alone": what a bulk action passed over, said with the rest. */
function skippedText(count: number, why: string): string {
  return count > 0 ? `; ${plural(count)} ${why} left as they are` : '';
}

/**
 * What a container command does to the marked containers; undefined when none are marked (the
 * command then acts on the selected one as usual) or the command is not a bulk one.
 */
export function bulkCommand(state: TuiState, command: CommandId, now: number): BulkResult | undefined {
  const marked = markedContainers(state);
  if (marked.length === 0) return undefined;
  const active = marked.filter(isActive);
  switch (command) {
    case 'container.startStop':
      // Like s on one container: a marked set with anything running is stopped, else started.
      if (active.length > 0)
        return run(
          active,
          'stop',
          'stopping',
          now,
          skippedText(marked.length - active.length, 'not running'),
        );
      return run(marked, 'start', 'starting', now);
    case 'container.pauseUnpause': {
      const running = marked.filter((record) => record.State.Status === 'running');
      if (running.length > 0)
        return run(
          running,
          'pause',
          'pausing',
          now,
          skippedText(marked.length - running.length, 'not running'),
        );
      const paused = marked.filter((record) => record.State.Status === 'paused');
      if (paused.length > 0) return run(paused, 'unpause', 'unpausing', now);
      return refuse(`none of the ${plural(marked.length)} marked is running; s starts them`, now);
    }
    case 'container.restart':
      return run(marked, 'restart', 'restarting', now);
    case 'container.kill':
      if (active.length === 0) return refuse(`none of the ${plural(marked.length)} marked is running`, now);
      return confirm('kill', active, `Kill ${plural(active.length)} (SIGKILL): ${nameList(active)}?`);
    case 'container.remove': {
      const note =
        active.length > 0
          ? ` ${active.length} ${active.length === 1 ? 'is' : 'are'} running and will be killed first.`
          : '';
      return confirm('remove', marked, `Remove ${plural(marked.length)}: ${nameList(marked)}?${note}`);
    }
    default:
      return undefined;
  }
}

function confirm(
  action: 'kill' | 'remove',
  records: readonly ContainerRecord[],
  message: string,
): BulkResult {
  const targets = records.map((record) => ({ id: record.Id, name: record.Name }));
  return {
    actions: [
      {
        type: 'ui/overlay',
        overlay: { kind: 'confirm', action, id: targets[0]!.id, name: targets[0]!.name, message, targets },
      },
    ],
    effects: [],
  };
}

/** The effects of a confirmed bulk kill or remove, one per container, and the marks cleared. */
export function confirmBulk(
  action: 'kill' | 'remove',
  targets: readonly { id: string; name: string }[],
): BulkResult {
  return {
    actions: [{ type: 'ui/overlay', overlay: undefined }, { type: 'containers/unmarkAll' }],
    effects: targets.map((target) => ({ type: 'container', op: action, id: target.id, name: target.name })),
  };
}
