/**
 * A minimal external store (the shape React's useSyncExternalStore expects). It lives outside
 * React so the state survives unmounting Ink while a shell runs in the terminal (`e`), and so
 * data sources outside components can dispatch to it.
 *
 * It also paces the screen: what data sources dispatch (samples, events, log lines) notifies at
 * most once per `backgroundIntervalMs`, the rest of a burst at the end of the interval, while a
 * key (`dispatchNow`) notifies at once. So a key never waits behind a stats tick's frame, and a
 * burst of events is one render rather than one each.
 */
import { reducer } from './reducer.js';
import type { Action, TuiState } from './types.js';

export interface Store {
  getState(): TuiState;
  /**
   * Applies the actions in order and notifies subscribers once if anything changed: at once, or
   * at the end of the current interval when the store paces notifications.
   */
  dispatch(...actions: Action[]): void;
  /** Applies the actions and notifies at once, with whatever the pacing held back (a key). */
  dispatchNow(...actions: Action[]): void;
  subscribe(listener: () => void): () => void;
}

export interface StoreOptions {
  /** Least milliseconds between two notifications by `dispatch` (0: every dispatch at once). */
  backgroundIntervalMs?: number;
}

export function createStore(
  initial: TuiState,
  reduce: (state: TuiState, action: Action) => TuiState = reducer,
  { backgroundIntervalMs = 0 }: StoreOptions = {},
): Store {
  let state = initial;
  const listeners = new Set<() => void>();
  let lastNotified = -Infinity;
  let held: NodeJS.Timeout | undefined;
  const notify = () => {
    if (held !== undefined) clearTimeout(held);
    held = undefined;
    lastNotified = performance.now();
    for (const listener of [...listeners]) listener();
  };
  const apply = (actions: Action[]) => {
    const before = state;
    for (const action of actions) state = reduce(state, action);
    return state !== before;
  };
  return {
    getState: () => state,
    dispatch(...actions) {
      if (!apply(actions) || held !== undefined) return;
      const wait = lastNotified + backgroundIntervalMs - performance.now();
      if (wait <= 0) notify();
      else {
        held = setTimeout(notify, wait);
        // What is held back is only a redraw: it must not keep the process alive after quitting.
        held.unref();
      }
    },
    dispatchNow(...actions) {
      if (apply(actions) || held !== undefined) notify();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
