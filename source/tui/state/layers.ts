/**
 * Layers pane: the stack of the selected image or container (row 0 = top of the stack), and the
 * file tree of one layer with its folds, cursor and filter. Loading is done by a hook that watches
 * `subject` and `tree`; this reducer only records what was asked for and what arrived.
 */
import { treeRows } from '../layers/tree-rows.js';
import type { FileNode, LayerSubject } from '../layers/layer-tree-source.js';
import { layerListHeight, scrollToShow, treeHeight } from './layout.js';
import { memoizeLast } from './selectors.js';
import type { Action, LayersState, TreeState, TuiState } from './types.js';

export const INITIAL_LAYERS: LayersState = {
  subject: undefined,
  stack: undefined,
  loading: false,
  error: undefined,
  analysis: undefined,
  analyzing: false,
  cursor: 0,
  focus: 'layers',
  aggregated: false,
  tree: undefined,
};

/** Aggregated trees are whole filesystems: only the first level starts open. */
export const AGGREGATED_OPEN_DEPTH = 1;

function sameSubject(a: LayerSubject | undefined, b: LayerSubject | undefined): boolean {
  return a !== undefined && b !== undefined && a.kind === b.kind && a.id === b.id;
}

function patch(state: TuiState, changes: Partial<LayersState>): TuiState {
  return { ...state, layers: { ...state.layers, ...changes } };
}

function patchTree(state: TuiState, changes: Partial<TreeState>): TuiState {
  const tree = state.layers.tree;
  if (!tree) return state;
  return patch(state, { tree: { ...tree, ...changes } });
}

/** Stack index of the layer under the cursor. */
export function selectedLayerIndex(layers: LayersState): number {
  const count = layers.stack?.layers.length ?? 0;
  return Math.max(0, count - 1 - layers.cursor);
}

const rowsFor = memoizeLast(
  (root: FileNode | undefined, toggled: readonly string[], filter: string, aggregated: boolean) =>
    root
      ? treeRows(root, {
          toggled: new Set(toggled),
          filter,
          ...(aggregated ? { openDepth: AGGREGATED_OPEN_DEPTH } : {}),
        })
      : [],
);

export function visibleTreeRows(tree: TreeState | undefined) {
  return tree ? rowsFor(tree.root, tree.toggled, tree.filter.text, tree.aggregated) : [];
}

function newTree(layer: number, aggregated: boolean): TreeState {
  return {
    layer,
    aggregated,
    root: undefined,
    loading: true,
    error: undefined,
    toggled: [],
    cursor: 0,
    scrollTop: 0,
    filter: { text: '', editing: false },
  };
}

export function moveLayerCursor(state: TuiState, to: (index: number, count: number) => number): TuiState {
  const count = state.layers.stack?.layers.length ?? 0;
  if (count === 0) return state;
  return patch(state, { cursor: Math.max(0, Math.min(count - 1, to(state.layers.cursor, count))) });
}

export function moveTreeCursor(state: TuiState, to: (index: number, count: number) => number): TuiState {
  const tree = state.layers.tree;
  if (!tree) return state;
  const count = visibleTreeRows(tree).length;
  if (count === 0) return state;
  const cursor = Math.max(0, Math.min(count - 1, to(tree.cursor, count)));
  const height = treeHeight(state.ui.size, state.layers.stack?.layers.length ?? 1);
  return patchTree(state, { cursor, scrollTop: scrollToShow(cursor, tree.scrollTop, height, count) });
}

export function settleTree(state: TuiState): TuiState {
  const tree = state.layers.tree;
  if (!tree) return state;
  return moveTreeCursor(state, (index) => index);
}

/** Height of the layer list as the pane lays it out now. */
export function currentLayerListHeight(state: TuiState): number {
  return layerListHeight(
    state.ui.size,
    state.layers.stack?.layers.length ?? 0,
    state.layers.focus === 'tree',
  );
}

export function reduceLayers(state: TuiState, action: Action): TuiState {
  const layers = state.layers;
  switch (action.type) {
    case 'containers/removed': {
      // The container shown is gone: on screen, move to the one now selected (as Logs does);
      // otherwise say so rather than keep a stack nothing has any more.
      if (layers.subject?.kind !== 'container' || layers.subject.id !== action.id) return state;
      const next = state.containers.selectedId
        ? state.containers.records[state.containers.selectedId]
        : undefined;
      const cleared = patch(state, {
        ...INITIAL_LAYERS,
        aggregated: layers.aggregated,
        error: `container ${layers.subject.name} was removed`,
      });
      if (state.ui.pane !== 'layers' || !next) return cleared;
      return reduceLayers(cleared, {
        type: 'layers/open',
        subject: { kind: 'container', id: next.Id, name: next.Name },
      });
    }
    case 'layers/open': {
      if (sameSubject(layers.subject, action.subject))
        return patch(state, { subject: action.subject, loading: true, error: undefined });
      return patch(state, {
        ...INITIAL_LAYERS,
        aggregated: layers.aggregated,
        subject: action.subject,
        loading: true,
      });
    }
    case 'layers/stackLoaded': {
      if (!sameSubject(layers.subject, action.subject)) return state;
      const count = action.stack.layers.length;
      const changedShape = layers.stack?.layers.length !== count;
      const next = patch(state, {
        stack: action.stack,
        loading: false,
        error: undefined,
        cursor: Math.min(layers.cursor, Math.max(0, count - 1)),
        // A new or reshaped stack needs its analysis (again); a refreshed one keeps it until then.
        analyzing: true,
        ...(changedShape ? { analysis: undefined } : {}),
      });
      return next;
    }
    case 'layers/analysisLoaded':
      if (!sameSubject(layers.subject, action.subject)) return state;
      return patch(state, { analysis: action.analysis, analyzing: false });
    case 'layers/failed':
      if (!sameSubject(layers.subject, action.subject)) return state;
      return patch(state, { loading: false, analyzing: false, error: action.error });
    case 'layers/openTree': {
      if (!layers.stack || layers.stack.layers.length === 0) return state;
      return settleTree(
        patch(state, { focus: 'tree', tree: newTree(selectedLayerIndex(layers), layers.aggregated) }),
      );
    }
    case 'layers/refresh': {
      if (!layers.subject || layers.loading || layers.analyzing || layers.tree?.loading) return state;
      const next = patch(state, { loading: true });
      return layers.tree ? patchTree(next, { loading: true }) : next;
    }
    case 'layers/closeTree':
      return patch(state, { focus: 'layers', tree: undefined });
    case 'layers/aggregate': {
      const aggregated = !layers.aggregated;
      if (!layers.tree) return patch(state, { aggregated });
      return patch(state, { aggregated, tree: newTree(layers.tree.layer, aggregated) });
    }
    case 'layers/treeLoaded': {
      const tree = layers.tree;
      if (!tree || tree.layer !== action.layer || tree.aggregated !== action.aggregated) return state;
      return settleTree(patchTree(state, { root: action.root, loading: false, error: undefined }));
    }
    case 'layers/treeFailed': {
      const tree = layers.tree;
      if (!tree || tree.layer !== action.layer) return state;
      return patchTree(state, { loading: false, error: action.error });
    }
    case 'tree/toggle': {
      const tree = layers.tree;
      if (!tree) return state;
      const rows = visibleTreeRows(tree);
      const row = rows.find((candidate) => candidate.node.path === action.path);
      if (!row || row.node.type !== 'directory') return state;
      if (action.open !== undefined && row.expanded === action.open) return state;
      const toggled = tree.toggled.includes(action.path)
        ? tree.toggled.filter((path) => path !== action.path)
        : [...tree.toggled, action.path];
      return settleTree(patchTree(state, { toggled }));
    }
    default:
      return state;
  }
}
