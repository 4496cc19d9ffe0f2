/**
 * Pulling an image from the Images pane (`P`): a line to type the reference into, then the
 * transfer's progress in the CLI's words (`gantry pull` off a terminal: one line per layer and
 * state, kept as one line per layer here, updated in place). Pure, like the rest of state/.
 */
import type { CommandId } from '../keymap/keymap.js';
import type { Action, Effect, Overlay, TuiState } from './types.js';

export type PullOverlay = Extract<Overlay, { kind: 'pull' }>;

export function pullOverlay(state: TuiState): PullOverlay | undefined {
  const overlay = state.ui.overlay;
  return overlay?.kind === 'pull' ? overlay : undefined;
}

export const NEW_PULL: PullOverlay = {
  kind: 'pull',
  reference: '',
  lines: [],
  running: false,
  result: undefined,
};

/** A progress line of the CLI: "0123456789ab: Downloading" replaces that layer's earlier line. */
export function addProgressLine(lines: readonly string[], line: string): string[] {
  const blob = /^([0-9a-f]{12}): /.exec(line)?.[1];
  if (blob) {
    const at = lines.findIndex((existing) => existing.startsWith(`${blob}: `));
    if (at >= 0) return [...lines.slice(0, at), line, ...lines.slice(at + 1)];
  }
  return [...lines, line];
}

export function reducePull(state: TuiState, action: Action): TuiState {
  const overlay = pullOverlay(state);
  if (!overlay) return state;
  const write = (next: PullOverlay): TuiState => ({ ...state, ui: { ...state.ui, overlay: next } });
  switch (action.type) {
    case 'pull/input':
      return overlay.running ? state : write({ ...overlay, reference: action.text, result: undefined });
    case 'pull/started':
      return write({ ...overlay, running: true, lines: [], result: undefined });
    case 'pull/progress':
      if (action.reference !== overlay.reference) return state;
      return write({ ...overlay, lines: addProgressLine(overlay.lines, action.line) });
    case 'pull/finished':
      if (action.reference !== overlay.reference) return state;
      return write({ ...overlay, running: false, result: { ok: action.ok, text: action.text } });
    default:
      return state;
  }
}

/** What a command does while the pull view is open. */
export function pullCommand(
  state: TuiState,
  command: CommandId,
  now: number,
): { actions: Action[]; effects: Effect[] } | undefined {
  const overlay = pullOverlay(state);
  if (!overlay) return undefined;
  switch (command) {
    case 'pull.start': {
      const reference = overlay.reference.trim();
      if (overlay.running) return { actions: [], effects: [] };
      if (!reference)
        return {
          actions: [
            {
              type: 'ui/status',
              text: 'type an image reference to pull, e.g. busybox, busybox:1.36, localhost:5000/team/app:v1',
              level: 'error',
              time: now,
            },
          ],
          effects: [],
        };
      return {
        actions: [{ type: 'pull/input', text: reference }, { type: 'pull/started' }],
        effects: [{ type: 'pull', reference, ...(overlay.host ? { host: overlay.host } : {}) }],
      };
    }
    case 'pull.close':
      // A pull under way goes on; its result is said in the status line when it ends.
      return { actions: [{ type: 'ui/overlay', overlay: undefined }], effects: [] };
    default:
      return undefined;
  }
}
