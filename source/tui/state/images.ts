/** Images pane: the image records (of every host shown), selection and filter. */
import type { ImageRecord } from '../../runtime/images/types.js';
import { hostOf } from '../hosts/keys.js';
import { scrollToShow, tableHeight } from './layout.js';
import { visibleImages } from './selectors.js';
import type { Action, ImagesState, TuiState } from './types.js';

export const INITIAL_IMAGES: ImagesState = {
  records: [],
  loaded: false,
  selectedId: undefined,
  scrollTop: 0,
  filter: { text: '', editing: false },
};

function patch(state: TuiState, changes: Partial<ImagesState>): TuiState {
  return { ...state, images: { ...state.images, ...changes } };
}

export function settleImages(state: TuiState, previousIndex?: number): TuiState {
  const rows = visibleImages(state);
  let { selectedId } = state.images;
  let index = rows.findIndex((record) => record.id === selectedId);
  if (index < 0) {
    index = rows.length === 0 ? -1 : Math.min(Math.max(previousIndex ?? 0, 0), rows.length - 1);
    selectedId = index < 0 ? undefined : rows[index]!.id;
  }
  const scrollTop = scrollToShow(
    Math.max(0, index),
    state.images.scrollTop,
    tableHeight(state.ui.size),
    rows.length,
  );
  if (selectedId === state.images.selectedId && scrollTop === state.images.scrollTop) return state;
  return patch(state, { selectedId, scrollTop });
}

export function moveImageCursor(state: TuiState, to: (index: number, count: number) => number): TuiState {
  const rows = visibleImages(state);
  if (rows.length === 0) return state;
  const current = Math.max(
    0,
    rows.findIndex((record) => record.id === state.images.selectedId),
  );
  const next = Math.max(0, Math.min(rows.length - 1, to(current, rows.length)));
  return settleImages(patch(state, { selectedId: rows[next]!.id }));
}

/** One host's images replace that host's rows only; the hosts keep their order (this machine first). */
function mergeHost(state: TuiState, host: string, records: readonly ImageRecord[]): ImageRecord[] {
  const order = state.containers.hosts.map((status) => status.name);
  const rank = (record: ImageRecord) => {
    const at = order.indexOf(hostOf(record.id));
    return at < 0 ? order.length : at;
  };
  const others = state.images.records.filter((record) => hostOf(record.id) !== host);
  return [...others, ...records].sort((a, b) => rank(a) - rank(b));
}

export function reduceImages(state: TuiState, action: Action): TuiState {
  switch (action.type) {
    case 'images/loaded': {
      const previousIndex = visibleImages(state).findIndex((record) => record.id === state.images.selectedId);
      const records =
        action.host === undefined ? action.records : mergeHost(state, action.host, action.records);
      return settleImages(patch(state, { records, loaded: true }), previousIndex);
    }
    case 'images/select':
      return settleImages(patch(state, { selectedId: action.id }));
    default:
      return state;
  }
}
