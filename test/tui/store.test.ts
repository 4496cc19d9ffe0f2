/**
 * The store's pacing: what data sources dispatch notifies at most once per interval (the rest of
 * a burst at its end), a key notifies at once and takes along what was held back.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { initialState } from '../../source/tui/state/reducer.js';
import { createStore } from '../../source/tui/state/store.js';

const tick = (now: number) => ({ type: 'ui/tick' as const, now });

describe('the store', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('notifies every change at once when it does not pace', () => {
    const store = createStore(initialState({ columns: 80, rows: 24 }));
    const listener = vi.fn();
    store.subscribe(listener);
    store.dispatch(tick(1));
    store.dispatch(tick(2));
    expect(listener).toHaveBeenCalledTimes(2);
    // No change, no notification.
    const state = store.getState();
    store.dispatch({ type: 'ui/resized', size: state.ui.size });
    expect(store.getState()).toBe(state);
    expect(listener).toHaveBeenCalledTimes(2);
  });

  it('draws a burst of data once at the start and once at the end of the interval', () => {
    const store = createStore(initialState({ columns: 80, rows: 24 }), undefined, {
      backgroundIntervalMs: 50,
    });
    const seen: number[] = [];
    store.subscribe(() => seen.push(store.getState().ui.now));
    store.dispatch(tick(1));
    expect(seen).toEqual([1]);
    store.dispatch(tick(2));
    store.dispatch(tick(3));
    // Applied at once (a key's reducer sees it), drawn later.
    expect(store.getState().ui.now).toBe(3);
    expect(seen).toEqual([1]);
    vi.advanceTimersByTime(49);
    expect(seen).toEqual([1]);
    vi.advanceTimersByTime(1);
    expect(seen).toEqual([1, 3]);
    // A quiet interval later, the next change is drawn at once again.
    vi.advanceTimersByTime(50);
    store.dispatch(tick(4));
    expect(seen).toEqual([1, 3, 4]);
  });

  it('draws a key at once, with what the interval held back, and nothing after it', () => {
    const store = createStore(initialState({ columns: 80, rows: 24 }), undefined, {
      backgroundIntervalMs: 50,
    });
    const seen: number[] = [];
    store.subscribe(() => seen.push(store.getState().ui.now));
    store.dispatch(tick(1));
    store.dispatch(tick(2));
    expect(seen).toEqual([1]);
    store.dispatchNow({ type: 'ui/resized', size: { columns: 100, rows: 30 } });
    expect(seen).toEqual([1, 2]);
    expect(store.getState().ui.size).toEqual({ columns: 100, rows: 30 });
    vi.advanceTimersByTime(100);
    expect(seen).toEqual([1, 2]);
    // A key that changes nothing still draws what was held back.
    store.dispatch(tick(3));
    store.dispatch(tick(4));
    expect(seen).toEqual([1, 2, 3]);
    store.dispatchNow();
    expect(seen).toEqual([1, 2, 3, 4]);
    // Right after a frame, a key is not held back either.
    store.dispatchNow(tick(5));
    expect(seen).toEqual([1, 2, 3, 4, 5]);
  });
});
