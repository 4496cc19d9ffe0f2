/**
 * The in-process half of bench/tui/key-frame.mjs: the whole TUI (App, store, keymap, Ink) over the
 * tests' fake engine with N running containers, in a fake 120x40 terminal, pressing j and k.
 * Prints the median and p90 of the time from a key reaching Ink's stdin to its frame being
 * written to stdout, and the frame's bytes. No containers, no terminal: what the TUI's own code
 * costs per key, for profiling (`node --cpu-prof`).
 */
import { render } from 'ink';
import React from 'react';
import { PassThrough, Writable } from 'node:stream';
import { App } from '../../source/tui/App.js';
import { TuiProvider } from '../../source/tui/context.js';
import { createEffectRunner } from '../../source/tui/effects.js';
import type { TuiEngine } from '../../source/tui/engine-adapter.js';
import { DEFAULT_KEYMAP } from '../../source/tui/keymap/keymap.js';
import type { LayerTreeSource } from '../../source/tui/layers/layer-tree-source.js';
import { initialState } from '../../source/tui/state/reducer.js';
import { createStore } from '../../source/tui/state/store.js';
import { createTheme } from '../../source/tui/theme.js';
import { FakeEngine } from '../../test/tui/support/fake-engine.js';
import { container } from '../../test/tui/support/fixtures.js';

const [count = 100, keys = 200, gapMs = 60] = process.argv.slice(2).map(Number);
const columns = 120;
const rows = 40;
const fake = new FakeEngine(
  Array.from({ length: count }, (_, index) => container(`c${String(index).padStart(3, '0')}`)),
);
const engine: TuiEngine = fake;
// As start.tsx sets them up: samples paced to 20 frames a second, keys drawn at once.
const store = createStore(initialState({ columns, rows }), undefined, { backgroundIntervalMs: 50 });
const runEffect = createEffectRunner(store, engine, {
  quit: () => undefined,
  openShell: async () => undefined,
  copy: () => true,
});

let written: (() => void) | undefined;
let bytes = 0;
const stdout = Object.assign(
  new Writable({
    write(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      written?.();
      callback();
    },
  }),
  { isTTY: true, columns, rows },
);
const stdin = Object.assign(new PassThrough(), {
  isTTY: true,
  setRawMode: () => undefined,
  ref: () => undefined,
  unref: () => undefined,
});
const env = { TERM: 'xterm-256color', COLORTERM: 'truecolor' };
render(
  <TuiProvider
    store={store}
    engine={engine}
    keymap={DEFAULT_KEYMAP}
    theme={createTheme('auto', env)}
    layerSource={{} as LayerTreeSource}
    runEffect={runEffect}
    statsIntervalMs={1000}
  >
    <App />
  </TuiProvider>,
  {
    stdin: stdin as unknown as NodeJS.ReadStream,
    stdout: stdout as unknown as NodeJS.WriteStream,
    stderr: stdout as unknown as NodeJS.WriteStream,
    exitOnCtrlC: false,
    patchConsole: false,
    maxFps: 1000,
    incrementalRendering: false,
  },
);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
// The list read and the first samples drawn.
await sleep(3000);
const times: number[] = [];
const frameBytes: number[] = [];
for (let index = 0; index < keys; index += 1) {
  const before = bytes;
  const start = performance.now();
  const frame = new Promise<void>((resolve) => (written = resolve));
  stdin.write(index % 2 === 0 ? 'j' : 'k');
  await frame;
  times.push(performance.now() - start);
  frameBytes.push(bytes - before);
  written = undefined;
  await sleep(gapMs);
}
const sorted = [...times].sort((a, b) => a - b);
const at = (fraction: number) => sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))]!;
frameBytes.sort((a, b) => a - b);
console.log(
  `${keys} keys, ${count} containers, 120x40: key to frame written median ${at(0.5).toFixed(2)} ms, p90 ${at(0.9).toFixed(2)} ms; ${frameBytes[frameBytes.length >> 1]} bytes per frame`,
);
// The fake's scratch directory: outside vitest nothing else removes it.
fake.cleanup();
process.exit(0);
