/** Containers pane: the records, the selection (by id, so it survives re-sorting), sort and filter. */
import { hostOf } from '../hosts/keys.js';
import { settleImages } from './images.js';
import { scrollToShow, tableHeight } from './layout.js';
import { visibleContainers } from './selectors.js';
import { CONTAINER_SORT_KEYS, type Action, type ContainersState, type TuiState } from './types.js';

export const INITIAL_CONTAINERS: ContainersState = {
  records: {},
  loaded: false,
  selectedId: undefined,
  scrollTop: 0,
  sort: { key: 'name', descending: false },
  filter: { text: '', editing: false },
  showAll: true,
  marked: [],
  hosts: [],
  host: undefined,
};

function patch(state: TuiState, changes: Partial<ContainersState>): TuiState {
  return { ...state, containers: { ...state.containers, ...changes } };
}

/** Keeps the selection on a visible row (the nearest one when it left) and in view. */
export function settleContainers(state: TuiState, previousIndex?: number): TuiState {
  const rows = visibleContainers(state);
  let { selectedId } = state.containers;
  let index = rows.findIndex((record) => record.Id === selectedId);
  if (index < 0) {
    index = rows.length === 0 ? -1 : Math.min(Math.max(previousIndex ?? 0, 0), rows.length - 1);
    selectedId = index < 0 ? undefined : rows[index]!.Id;
  }
  const scrollTop = scrollToShow(
    Math.max(0, index),
    state.containers.scrollTop,
    tableHeight(state.ui.size),
    rows.length,
  );
  if (selectedId === state.containers.selectedId && scrollTop === state.containers.scrollTop) return state;
  return patch(state, { selectedId, scrollTop });
}

export function moveContainerCursor(state: TuiState, to: (index: number, count: number) => number): TuiState {
  const rows = visibleContainers(state);
  if (rows.length === 0) return state;
  const current = Math.max(
    0,
    rows.findIndex((record) => record.Id === state.containers.selectedId),
  );
  const next = Math.max(0, Math.min(rows.length - 1, to(current, rows.length)));
  return settleContainers(patch(state, { selectedId: rows[next]!.Id }));
}

export function reduceContainers(state: TuiState, action: Action): TuiState {
  switch (action.type) {
    case 'containers/loaded': {
      const { host } = action;
      // One host's list replaces that host's rows only.
      const others =
        host === undefined
          ? []
          : Object.values(state.containers.records).filter((record) => hostOf(record.Id) !== host);
      const records = Object.fromEntries([...others, ...action.records].map((record) => [record.Id, record]));
      const marked = state.containers.marked.filter((id) => id in records);
      return settleContainers(patch(state, { records, loaded: true, marked }));
    }
    case 'containers/upserted': {
      const previous = state.containers.records[action.record.Id];
      if (previous && JSON.stringify(previous) === JSON.stringify(action.record)) return state;
      return settleContainers(
        patch(state, { records: { ...state.containers.records, [action.record.Id]: action.record } }),
      );
    }
    case 'containers/removed': {
      if (!(action.id in state.containers.records)) return state;
      const index = visibleContainers(state).findIndex((record) => record.Id === action.id);
      const records = { ...state.containers.records };
      delete records[action.id];
      const marked = state.containers.marked.filter((id) => id !== action.id);
      return settleContainers(patch(state, { records, marked }), index);
    }
    case 'containers/select':
      return settleContainers(patch(state, { selectedId: action.id }));
    case 'containers/sort': {
      const { sort } = state.containers;
      // The reverse key, or the key of the column already sorted by (k9s's habit), flips it.
      if (action.reverse || action.key === sort.key)
        return settleContainers(patch(state, { sort: { ...sort, descending: !sort.descending } }));
      const key =
        action.key ??
        CONTAINER_SORT_KEYS[(CONTAINER_SORT_KEYS.indexOf(sort.key) + 1) % CONTAINER_SORT_KEYS.length]!;
      return settleContainers(patch(state, { sort: { key, descending: false } }));
    }
    case 'containers/hosts':
      return patch(state, { hosts: action.hosts });
    case 'containers/nextHost': {
      const names = state.containers.hosts.map((host) => host.name);
      if (names.length < 2) return state;
      const at = state.containers.host === undefined ? -1 : names.indexOf(state.containers.host);
      // The Images pane shows the same host's images.
      return settleImages(settleContainers(patch(state, { host: names[at + 1] })));
    }
    case 'containers/toggleAll':
      return settleContainers(patch(state, { showAll: !state.containers.showAll }));
    case 'containers/mark': {
      const id = state.containers.selectedId;
      if (!id) return state;
      const marked = state.containers.marked.includes(id)
        ? state.containers.marked.filter((other) => other !== id)
        : [...state.containers.marked, id];
      // As in mc and k9s, Space moves on, so a run of rows is marked by holding it down.
      return moveContainerCursor(patch(state, { marked }), (index) => index + 1);
    }
    case 'containers/markAll': {
      const shown = visibleContainers(state).map((record) => record.Id);
      const all = shown.length > 0 && shown.every((id) => state.containers.marked.includes(id));
      return patch(state, {
        marked: all
          ? state.containers.marked.filter((id) => !shown.includes(id))
          : [...new Set([...state.containers.marked, ...shown])],
      });
    }
    case 'containers/unmarkAll':
      return state.containers.marked.length === 0 ? state : patch(state, { marked: [] });
    default:
      return state;
  }
}
