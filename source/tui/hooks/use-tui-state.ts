/**
 * Reads a slice of the store; the component re-renders only when the selected value changes
 * (by identity), so selectors must return stored objects or memoised derivations.
 */
import { useCallback, useRef, useSyncExternalStore } from 'react';
import { useTui } from '../context.js';
import type { TuiState } from '../state/types.js';

export function useTuiState<T>(selector: (state: TuiState) => T): T {
  const { store } = useTui();
  const read = useCallback(() => selector(store.getState()), [store, selector]);
  return useSyncExternalStore(store.subscribe, read, read);
}

/**
 * Like useTuiState for selectors that build a new object each time (a table row): the component
 * re-renders only when `equal` says the value changed, so an unchanged row costs nothing, and a
 * sample that changes no visible figure commits nothing for Ink to redraw.
 */
export function useTuiStateWith<T>(selector: (state: TuiState) => T, equal: (a: T, b: T) => boolean): T {
  const { store } = useTui();
  const last = useRef<{ value: T } | undefined>(undefined);
  const read = useCallback(() => {
    const next = selector(store.getState());
    if (last.current && equal(last.current.value, next)) return last.current.value;
    last.current = { value: next };
    return next;
  }, [store, selector, equal]);
  return useSyncExternalStore(store.subscribe, read, read);
}

/** Equal when both have the same own keys with identical (===) values. */
export function shallowEqual<T>(a: T, b: T): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  const keysA = Object.keys(a) as (keyof T)[];
  const keysB = Object.keys(b);
  return keysA.length === keysB.length && keysA.every((key) => Object.is(a[key], b[key]));
}
