/**
 * Limits pane: which container it shows (pinned on entering the pane, so a removal elsewhere is
 * said rather than silently replaced by the neighbour), the cursor, and the edit of one value.
 * An edit belongs to one container: results for another, or for a container that is gone, are
 * ignored, and an edit never outlives its container.
 */
import { LIMITS, limitDefinition } from './limit-definitions.js';
import { withStatus } from './messages.js';
import { selectedContainer } from './selectors.js';
import type { Action, LimitsState, TuiState } from './types.js';

export const INITIAL_LIMITS: LimitsState = {
  cursor: 0,
  edit: undefined,
  shown: undefined,
  removed: undefined,
};

function patch(state: TuiState, changes: Partial<LimitsState>): TuiState {
  return { ...state, limits: { ...state.limits, ...changes } };
}

/** The container the Limits pane shows, if it still exists. */
export function limitsContainer(state: TuiState) {
  const shown = state.limits.shown;
  return shown ? state.containers.records[shown.id] : undefined;
}

/**
 * Pins the pane to the selected container (on entering the pane, or when the selection moves
 * while no edit is open). A removed container stays said until another is chosen.
 */
export function showSelectedLimits(state: TuiState): TuiState {
  const selected = selectedContainer(state);
  const shown = state.limits.shown;
  if (!selected)
    return shown || state.limits.edit ? patch(state, { shown: undefined, edit: undefined }) : state;
  if (shown?.id === selected.Id && shown.name === selected.Name && !state.limits.removed) return state;
  return patch(state, {
    shown: { id: selected.Id, name: selected.Name },
    removed: undefined,
    edit: undefined,
  });
}

/** While the pane is open with nothing pending, it follows the selection (it may load late). */
export function syncLimits(state: TuiState): TuiState {
  if (state.ui.pane !== 'limits' || state.limits.removed || state.limits.edit) return state;
  if (state.containers.selectedId === state.limits.shown?.id) return state;
  return showSelectedLimits(state);
}

export function reduceLimits(state: TuiState, action: Action): TuiState {
  const limits = state.limits;
  const edit = limits.edit;
  switch (action.type) {
    case 'limits/edit':
      return patch(state, {
        cursor: Math.max(
          0,
          LIMITS.findIndex((definition) => definition.key === action.key),
        ),
        edit: {
          key: action.key,
          containerId: action.containerId,
          text: action.text,
          mode: action.mode,
          selected: true,
          error: undefined,
          applying: false,
        },
      });
    case 'limits/input':
      return edit
        ? patch(state, {
            edit: { ...edit, text: action.text, selected: action.selected ?? false, error: undefined },
          })
        : state;
    case 'limits/cancel':
      return edit ? patch(state, { edit: undefined }) : state;
    case 'limits/applying':
      return edit ? patch(state, { edit: { ...edit, applying: true, error: undefined } }) : state;
    case 'limits/refused':
      if (!edit || edit.containerId !== action.containerId || edit.key !== action.key) return state;
      return patch(state, { edit: { ...edit, applying: false, error: action.error } });
    case 'limits/applied':
      if (!edit || edit.containerId !== action.containerId || edit.key !== action.key) return state;
      return patch(state, { edit: undefined });
    case 'containers/removed': {
      if (limits.shown?.id !== action.id) return state;
      const dropped =
        edit && edit.containerId === action.id
          ? `${limitDefinition(edit.key).label} ${edit.text.trim() || 'unlimited'}`
          : undefined;
      const name = limits.shown.name;
      const removed = patch(state, { edit: undefined, removed: { name, droppedEdit: dropped } });
      if (state.ui.pane !== 'limits') return removed;
      const text = `${name} was removed by another process${dropped ? `; the edit (${dropped}) was not applied` : ''}`;
      return withStatus(removed, text, 'error', state.ui.now);
    }
    default:
      return state;
  }
}
