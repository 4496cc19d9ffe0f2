/**
 * A minimal external store (the shape React's useSyncExternalStore expects). It lives outside
 * React so the state survives unmounting Ink while a shell runs in the terminal (`e`), and so
 * data sources outside components can dispatch to it.
 */
import { reducer } from './reducer.js';
import type { Action, TuiState } from './types.js';

export interface Store {
  getState(): TuiState;
  /** Applies the actions in order and notifies subscribers once, if anything changed. */
  dispatch(...actions: Action[]): void;
  subscribe(listener: () => void): () => void;
}

export function createStore(
  initial: TuiState,
  reduce: (state: TuiState, action: Action) => TuiState = reducer,
): Store {
  let state = initial;
  const listeners = new Set<() => void>();
  return {
    getState: () => state,
    dispatch(...actions) {
      const before = state;
      for (const action of actions) state = reduce(state, action);
      if (state !== before) for (const listener of [...listeners]) listener();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
