/**
 * The root reducer: UI-wide actions (panes, overlays, status, size), and the generic list and
 * filter actions routed to whichever pane has the keyboard. Pane-specific actions are delegated
 * to the pane reducers; every one of them is pure.
 */
import { reducePull } from './pull.js';
import { reduceBuild } from './build.js';
import { reduceInspect } from './inspect.js';
import { INITIAL_CONTAINERS, moveContainerCursor, reduceContainers, settleContainers } from './containers.js';
import { INITIAL_IMAGES, moveImageCursor, reduceImages, settleImages } from './images.js';
import { paneHeight, tableHeight } from './layout.js';
import { LIMITS } from './limit-definitions.js';
import { reduceForm } from './form.js';
import { withStatus } from './messages.js';
import { INITIAL_LIMITS, reduceLimits, showSelectedLimits, syncLimits } from './limits.js';
import { INITIAL_LAYERS, moveLayerCursor, moveTreeCursor, reduceLayers, settleTree } from './layers.js';
import { INITIAL_LOGS, jumpToMatch, reduceLogs, scrollLogs, syncLogs } from './logs.js';
import {
  selectedContainer,
  selectedImage,
  imageLabel,
  visibleContainers,
  visibleImages,
} from './selectors.js';
import { INITIAL_STATS, reduceStats } from './stats.js';
import { PANES, type Action, type FilterState, type TerminalSize, type TuiState } from './types.js';

export function initialState(size: TerminalSize = { columns: 80, rows: 24 }, now = Date.now()): TuiState {
  return {
    ui: {
      pane: 'containers',
      size,
      overlay: undefined,
      status: undefined,
      messages: [],
      pending: {},
      onboarded: false,
      now,
    },
    containers: INITIAL_CONTAINERS,
    images: INITIAL_IMAGES,
    layers: INITIAL_LAYERS,
    limits: INITIAL_LIMITS,
    logs: INITIAL_LOGS,
    stats: INITIAL_STATS,
  };
}

/** Switching panes carries the selection along: Layers shows the selected image or container. */
function enterPane(state: TuiState, pane: TuiState['ui']['pane']): TuiState {
  const from = state.ui.pane;
  let next: TuiState = { ...state, ui: { ...state.ui, pane } };
  if (pane === 'layers' && from !== 'layers') {
    const container = selectedContainer(state);
    const image = selectedImage(state);
    const subject =
      from === 'images' && image
        ? ({ kind: 'image', id: image.id, name: imageLabel(image) } as const)
        : container
          ? ({ kind: 'container', id: container.Id, name: container.Name } as const)
          : image
            ? ({ kind: 'image', id: image.id, name: imageLabel(image) } as const)
            : undefined;
    if (subject) next = reduceLayers(next, { type: 'layers/open', subject });
  }
  // Entering Logs opens the selected container's (syncLogs, after every action).
  // Logs are followed only while shown; coming back reads the tail again.
  if (from === 'logs' && pane !== 'logs')
    next = reduceLogs(next, { type: 'logs/open', containerId: undefined });
  if (pane === 'limits') next = showSelectedLimits(next);
  else if (next.limits.edit) next = { ...next, limits: { ...next.limits, edit: undefined } };
  return next;
}

type Mover = (index: number, count: number) => number;

function moverFor(action: Extract<Action, { type: 'list/move' | 'list/edge' }>): Mover {
  if (action.type === 'list/edge') return action.edge === 'top' ? () => 0 : (_index, count) => count - 1;
  return (index) => index + action.delta;
}

function moveCursor(state: TuiState, action: Extract<Action, { type: 'list/move' | 'list/edge' }>): TuiState {
  const mover = moverFor(action);
  switch (state.ui.pane) {
    case 'containers':
      return moveContainerCursor(state, mover);
    case 'images':
      return moveImageCursor(state, mover);
    case 'layers':
      return state.layers.focus === 'tree' ? moveTreeCursor(state, mover) : moveLayerCursor(state, mover);
    case 'limits': {
      if (state.limits.edit) return state;
      const cursor = Math.max(0, Math.min(LIMITS.length - 1, mover(state.limits.cursor, LIMITS.length)));
      return { ...state, limits: { ...state.limits, cursor } };
    }
    case 'logs':
      if (action.type === 'list/edge')
        return scrollLogs(state, (_top, bottom) => (action.edge === 'top' ? 0 : bottom));
      return scrollLogs(state, (top) => top + action.delta);
  }
}

/** The filter of the pane that has the keyboard, and how to write it back. */
function paneFilter(
  state: TuiState,
): { filter: FilterState; write: (filter: FilterState) => TuiState } | undefined {
  switch (state.ui.pane) {
    case 'containers':
      return {
        filter: state.containers.filter,
        write: (filter) => settleContainers({ ...state, containers: { ...state.containers, filter } }),
      };
    case 'images':
      return {
        filter: state.images.filter,
        write: (filter) => settleImages({ ...state, images: { ...state.images, filter } }),
      };
    case 'layers': {
      const tree = state.layers.tree;
      if (state.layers.focus !== 'tree' || !tree) return undefined;
      return {
        filter: tree.filter,
        write: (filter) =>
          settleTree({
            ...state,
            layers: {
              ...state.layers,
              tree: { ...tree, filter, cursor: filter.text === tree.filter.text ? tree.cursor : 0 },
            },
          }),
      };
    }
    case 'logs':
      return {
        filter: state.logs.search,
        write: (search) => ({
          ...state,
          logs: { ...state.logs, search, match: search.text ? state.logs.match : undefined },
        }),
      };
    case 'limits':
      return undefined;
  }
}

function reduceFilter(state: TuiState, action: Extract<Action, { type: `filter/${string}` }>): TuiState {
  const target = paneFilter(state);
  if (!target) return state;
  switch (action.type) {
    case 'filter/start':
      return target.write({ text: target.filter.text, editing: true });
    case 'filter/input':
      return target.write({ text: action.text, editing: true });
    case 'filter/clear':
      return target.write({ text: '', editing: false });
    case 'filter/commit': {
      const kept = target.write({ text: target.filter.text, editing: false });
      // Enter keeps the filter and puts the selection on the first match.
      if (state.ui.pane === 'containers') {
        const first = visibleContainers(kept)[0];
        return first
          ? settleContainers({ ...kept, containers: { ...kept.containers, selectedId: first.Id } })
          : kept;
      }
      if (state.ui.pane === 'images') {
        const first = visibleImages(kept)[0];
        return first ? settleImages({ ...kept, images: { ...kept.images, selectedId: first.id } }) : kept;
      }
      if (state.ui.pane === 'layers') return moveTreeCursor(kept, () => 0);
      if (state.ui.pane === 'logs') return jumpToMatch(kept, 1, true);
      return kept;
    }
  }
  return state;
}

function reduceUi(state: TuiState, action: Action): TuiState {
  const ui = state.ui;
  switch (action.type) {
    case 'ui/resized': {
      if (action.size.columns === ui.size.columns && action.size.rows === ui.size.rows) return state;
      const resized = { ...state, ui: { ...ui, size: action.size } };
      return settleTree(settleImages(settleContainers(resized)));
    }
    case 'ui/pane':
      return ui.pane === action.pane ? state : enterPane(state, action.pane);
    case 'ui/paneStep': {
      const index = PANES.indexOf(ui.pane);
      return enterPane(state, PANES[(index + action.delta + PANES.length) % PANES.length]!);
    }
    case 'ui/overlay':
      return { ...state, ui: { ...ui, overlay: action.overlay } };
    case 'ui/status':
      return withStatus(state, action.text, action.level, action.time);
    case 'ui/clearStatus':
      return ui.status ? { ...state, ui: { ...ui, status: undefined } } : state;
    case 'ui/pending': {
      const pending = { ...ui.pending };
      if (action.label === undefined) delete pending[action.id];
      else pending[action.id] = action.label;
      return { ...state, ui: { ...ui, pending } };
    }
    case 'ui/tick':
      return { ...state, ui: { ...ui, now: action.now } };
    case 'ui/onboarded':
      return ui.onboarded ? state : { ...state, ui: { ...ui, onboarded: true } };
    default:
      return state;
  }
}

function reduceOnboarding(state: TuiState, action: Action): TuiState {
  const overlay = state.ui.overlay;
  if (overlay?.kind !== 'onboarding') return state;
  if (action.type === 'onboarding/creating')
    return { ...state, ui: { ...state.ui, overlay: { ...overlay, creating: true, error: undefined } } };
  if (action.type === 'onboarding/failed')
    return { ...state, ui: { ...state.ui, overlay: { ...overlay, creating: false, error: action.error } } };
  return state;
}

/** A newcomer with no images and no containers is offered the default image, once. */
function maybeOnboard(state: TuiState): TuiState {
  const { ui, images, containers } = state;
  if (ui.onboarded || ui.overlay || !images.loaded || !containers.loaded) return state;
  if (images.records.length > 0 || Object.keys(containers.records).length > 0) return state;
  return {
    ...state,
    ui: { ...ui, onboarded: true, overlay: { kind: 'onboarding', creating: false, error: undefined } },
  };
}

export function reducer(state: TuiState, action: Action): TuiState {
  const next = syncLimits(syncLogs(reduce(state, action)));
  if (action.type === 'containers/loaded' || action.type === 'images/loaded') return maybeOnboard(next);
  return next;
}

function reduce(state: TuiState, action: Action): TuiState {
  switch (action.type) {
    case 'list/move':
    case 'list/edge':
      return moveCursor(state, action);
    case 'filter/start':
    case 'filter/input':
    case 'filter/commit':
    case 'filter/clear':
      return reduceFilter(state, action);
  }
  const prefix = action.type.slice(0, action.type.indexOf('/'));
  switch (prefix) {
    case 'ui':
      return reduceUi(state, action);
    case 'containers':
      return reduceLimits(reduceLayers(reduceStats(reduceContainers(state, action), action), action), action);
    case 'images':
      return reduceImages(state, action);
    case 'layers':
    case 'tree':
      return reduceLayers(state, action);
    case 'limits':
      return reduceLimits(state, action);
    case 'logs':
      return reduceLogs(state, action);
    case 'stats':
      return reduceStats(state, action);
    case 'form':
      return reduceForm(state, action);
    case 'onboarding':
      return reduceOnboarding(state, action);
    case 'inspect':
      return reduceInspect(state, action);
    case 'pull':
      return reducePull(state, action);
    case 'build':
      return reduceBuild(state, action);
    default:
      return state;
  }
}

/** Rows a page key moves in the current pane. */
export function pageSize(state: TuiState): number {
  if (state.ui.pane === 'containers' || state.ui.pane === 'images')
    return Math.max(1, tableHeight(state.ui.size) - 1);
  return Math.max(1, paneHeight(state.ui.size) - 3);
}
