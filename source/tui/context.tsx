/**
 * Everything the components share, provided once: the store, the runtime, the keymap, the theme
 * and the effect runner. The value is memoised, so only a change of these (never of the state)
 * re-renders consumers; state reaches components through `useTuiState` selectors.
 */
import React, { createContext, useContext, useMemo, type ReactNode } from 'react';
import type { TuiEngine } from './engine-adapter.js';
import type { Keymap } from './keymap/keymap.js';
import type { LayerTreeSource } from './layers/layer-tree-source.js';
import type { Store } from './state/store.js';
import type { Effect } from './state/types.js';
import type { Theme } from './theme.js';

export interface TuiServices {
  store: Store;
  engine: TuiEngine;
  keymap: Keymap;
  theme: Theme;
  layerSource: LayerTreeSource;
  /** Carries out what a key asked the runtime to do; reports back through the store. */
  runEffect: (effect: Effect) => void;
  /** Milliseconds between stats samples. */
  statsIntervalMs: number;
}

const TuiContext = createContext<TuiServices | undefined>(undefined);

export interface TuiProviderProps extends TuiServices {
  children?: ReactNode;
}

export function TuiProvider({
  children,
  store,
  engine,
  keymap,
  theme,
  layerSource,
  runEffect,
  statsIntervalMs,
}: TuiProviderProps) {
  const value = useMemo(
    () => ({ store, engine, keymap, theme, layerSource, runEffect, statsIntervalMs }),
    [store, engine, keymap, theme, layerSource, runEffect, statsIntervalMs],
  );
  return <TuiContext.Provider value={value}>{children}</TuiContext.Provider>;
}

export function useTui(): TuiServices {
  const value = useContext(TuiContext);
  if (!value) throw new Error('useTui() needs a <TuiProvider> above it');
  return value;
}
