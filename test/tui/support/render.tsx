/**
 * Renders the whole app (every provider, the real keymap and reducers) over a fake engine with
 * ink-testing-library, and presses keys by name.
 */
import { render } from 'ink-testing-library';
import React from 'react';
import { App } from '../../../source/tui/App.js';
import { TuiProvider } from '../../../source/tui/context.js';
import { createEffectRunner } from '../../../source/tui/effects.js';
import { DEFAULT_KEYMAP, type Keymap } from '../../../source/tui/keymap/keymap.js';
import type { LayerTreeSource } from '../../../source/tui/layers/layer-tree-source.js';
import { initialState } from '../../../source/tui/state/reducer.js';
import { createStore, type Store } from '../../../source/tui/state/store.js';
import type { TerminalSize } from '../../../source/tui/state/types.js';
import { createTheme, type Theme } from '../../../source/tui/theme.js';
import type { TuiEngine } from '../../../source/tui/engine-adapter.js';

export const KEYS = {
  enter: '\r',
  escape: '\u001b',
  tab: '\t',
  shiftTab: '\u001b[Z',
  up: '\u001b[A',
  down: '\u001b[B',
  backspace: '\u007f',
  ctrlU: '\u0015',
} as const;

const NO_LAYERS: LayerTreeSource = {
  stack: async (subject) => ({ subject, layers: [], totalBytes: 0 }),
  analyze: async () => ({ efficiency: 1, wastedBytes: 0, inefficiencies: [] }),
  tree: async () => ({ name: '', path: '/', type: 'directory', kind: 'unchanged', size: 0, children: [] }),
};

export interface RenderOptions {
  size?: TerminalSize;
  /** The mono theme unless given (tests read the text). */
  theme?: Theme;
  keymap?: Keymap;
  layerSource?: LayerTreeSource;
}

export function renderTui(engine: TuiEngine, options: RenderOptions = {}) {
  const store: Store = createStore(initialState(options.size ?? { columns: 80, rows: 24 }));
  const host = {
    quit: () =>
      store.dispatch({ type: 'ui/status', text: 'quit requested', level: 'info', time: Date.now() }),
    openShell: async () => {},
    copy: (text: string) => {
      copied.push(text);
      return true;
    },
  };
  /** What the app put on the clipboard. */
  const copied: string[] = [];
  const runEffect = createEffectRunner(store, engine, host);
  const result = render(
    <TuiProvider
      store={store}
      engine={engine}
      keymap={options.keymap ?? DEFAULT_KEYMAP}
      theme={options.theme ?? createTheme('mono', {})}
      layerSource={options.layerSource ?? NO_LAYERS}
      runEffect={runEffect}
      statsIntervalMs={60_000}
    >
      <App />
    </TuiProvider>,
  );
  // Mono theme: no colours, but inverse and bold remain; tests read the text.
  const frame = () => stripAnsi(result.lastFrame() ?? '');
  return {
    ...result,
    store,
    frame,
    copied,
    /** Types keys one at a time, letting Ink and the store settle after each. */
    async press(...keys: string[]) {
      for (const key of keys) {
        result.stdin.write(key);
        await settle();
      }
    },
    /**
     * Waits until the frame contains `text` (data arrives asynchronously). The bound only ends a
     * wait that would never succeed; a loaded machine takes seconds for a frame.
     */
    async waitFor(text: string | RegExp, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const current = frame();
        if (typeof text === 'string' ? current.includes(text) : text.test(current)) return current;
        if (Date.now() > deadline)
          throw new Error(`timed out waiting for ${String(text)}; the frame was:\n${current}`);
        await settle();
      }
    },
  };
}

export function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;]*m/g, '');
}

export function settle(ms = 15): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
