/**
 * The row-caching frame buffer (source/tui/ink/line-cached-output.ts) draws exactly what Ink's own
 * Output draws, frame after frame, and a key in a full table redraws only the rows it changed.
 */
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import InkOutput from '../../node_modules/ink/build/output.js';
import {
  clearRowCache,
  rowCacheCounts,
  type InkOutput as Output,
  type InkOutputClass,
  type OutputTransformer,
} from '../../source/tui/ink/line-cached-output.js';
import { FakeEngine } from './support/fake-engine.js';
import { container } from './support/fixtures.js';
import { renderTui } from './support/render.js';
import { waitFor } from '../support/engine.js';

vi.setConfig({ testTimeout: 60_000 });

/** Ink's output.js wrapped as the TUI's bundle wraps it (vitest.config.ts serves this query). */
async function lineCachedClass(): Promise<InkOutputClass> {
  const file = path.resolve(import.meta.dirname, '../../node_modules/ink/build/output.js');
  const module = (await import(/* @vite-ignore */ `${file}?gantry-line-cached`)) as {
    default: InkOutputClass;
  };
  return module.default;
}

/** A small deterministic generator (mulberry32), so a failure can be replayed. */
function random(seed: number) {
  let state = seed;
  const next = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (below: number) => Math.floor(next() * below);
  const pick = <T,>(items: readonly T[]): T => items[int(items.length)]!;
  return { int, pick };
}

const WORDS = [
  'c001',
  'running',
  '12.5%',
  '漢字',
  '●',
  '✖ exited (137)',
  '',
  ' ',
  'a long cell of text here',
  '🐳',
];
const STYLES = ['', '\u001b[31m', '\u001b[1m', '\u001b[7m', '\u001b[2m', '\u001b[38;5;214m'];
const TRANSFORMERS: OutputTransformer[] = [
  (line) => line.toUpperCase(),
  (line) => `\u001b[7m${line}\u001b[27m`,
  // Draws something on an empty line, which Ink does even though nothing was written there.
  (line, index) => (line === '' ? `~${index}` : line),
];

describe('the row-caching Output', () => {
  afterEach(() => clearRowCache());

  it('draws what Ink draws for random writes, styles, wide characters, clips and transformers', async () => {
    const Cached = await lineCachedClass();
    clearRowCache();
    const { int, pick } = random(1234);
    const styledLine = () =>
      Array.from({ length: 1 + int(4) }, () => {
        const style = pick(STYLES);
        return `${style}${pick(WORDS)}${style ? '\u001b[0m' : ''}`;
      }).join(pick([' ', '', '│']));
    for (let frame = 0; frame < 300; frame += 1) {
      const width = pick([20, 40, 120]);
      const height = pick([1, 5, 12]);
      const ink: Output = new InkOutput({ width, height });
      const cached = new Cached({ width, height });
      const operations: Array<(output: Output) => void> = [];
      let open = 0;
      for (let step = 0; step < 1 + int(25); step += 1) {
        const kind = int(10);
        if (kind === 0) {
          const clip = {
            x1: pick([undefined, int(width)]),
            x2: pick([undefined, int(width * 1.5)]),
            y1: pick([undefined, int(height) - 1]),
            y2: pick([undefined, int(height + 2)]),
          };
          open += 1;
          operations.push((output) => output.clip(clip));
        } else if (kind === 1 && open > 0) {
          open -= 1;
          operations.push((output) => output.unclip());
        } else {
          const x = int(width + 4) - 2;
          const y = int(height + 4) - 2;
          const text = Array.from({ length: 1 + int(3) }, styledLine).join('\n');
          const transformers = int(3) === 0 ? [pick(TRANSFORMERS)] : [];
          operations.push((output) => output.write(x, y, text, { transformers }));
        }
      }
      for (const operation of operations) {
        operation(ink);
        operation(cached);
      }
      // Twice: the second frame comes from the cache and must not differ either.
      const expected = ink.get();
      expect(cached.get(), `frame ${frame}`).toEqual(expected);
      const again = new Cached({ width, height });
      for (const operation of operations) operation(again);
      expect(again.get(), `frame ${frame} again`).toEqual(expected);
    }
    expect(rowCacheCounts.reused).toBeGreaterThan(0);
  });

  it('redraws only the rows a key changes in a full 120x40 table', async () => {
    const engine = new FakeEngine(
      Array.from({ length: 100 }, (_, index) => container(`c${String(index).padStart(3, '0')}`)),
    );
    const app = renderTui(engine, { size: { columns: 120, rows: 40 } });
    try {
      await app.waitFor(/c000\s.*12\.5%/);
      await app.waitFor(/c030\s.*12\.5%/);
      const before = app.frame();
      const counts = { ...rowCacheCounts };
      await app.press('j');
      await waitFor(() => app.frame() !== before || undefined, 15_000, 'the frame after j');
      const drawn = rowCacheCounts.drawn - counts.drawn;
      const reused = rowCacheCounts.reused - counts.reused;
      expect(app.frame()).not.toEqual(before);
      // The row the cursor left, the row it reached and the detail strip below the table (its
      // name line and figures); the other 30-odd rows are the previous frame's.
      expect(drawn).toBeGreaterThan(0);
      expect(drawn).toBeLessThanOrEqual(6);
      expect(reused).toBeGreaterThanOrEqual(30);
    } finally {
      app.unmount();
      engine.cleanup();
    }
  });
});
