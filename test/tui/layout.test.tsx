/**
 * Issue 11, defect 6: the screen at 220x60, 80x24 and 60x20. Columns grow with the width, the
 * Limits charts use the height, `q` and `?` always show in the footer, and nothing runs into the
 * footer or past the edge.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { TerminalSize } from '../../source/tui/state/types.js';
import { FakeEngine } from './support/fake-engine.js';
import { container, image, layer, sample } from './support/fixtures.js';
import { KEYS, renderTui } from './support/render.js';

const MIB = 1024 * 1024;
const LONG_NAME = 'a-rather-long-container-name-for-wide-screens';

// Whole renders on a shared, loaded machine take seconds; none of these waits for a clock.
vi.setConfig({ testTimeout: 30_000 });
let cleanup: (() => void)[] = [];
afterEach(() => {
  for (const step of cleanup) step();
  cleanup = [];
});

function setup(size: TerminalSize, records = [container(LONG_NAME, { resources: { memory: 256 * MIB } })]) {
  const engine = new FakeEngine(records, records.length > 0 ? [image('demo', [layer('a', 2_000_000)])] : []);
  const app = renderTui(engine, { size });
  cleanup.push(
    () => app.unmount(),
    () => engine.cleanup(),
  );
  return { engine, app };
}

function expectFits(frame: string, size: TerminalSize) {
  const lines = frame.split('\n');
  expect(lines.length).toBeLessThanOrEqual(size.rows - 1);
  for (const line of lines) expect([...line].length, line).toBeLessThanOrEqual(size.columns);
}

const SIZES: TerminalSize[] = [
  { columns: 220, rows: 60 },
  { columns: 80, rows: 24 },
  { columns: 60, rows: 20 },
];

describe.each(SIZES)('at $columns x $rows', (size) => {
  it('every pane fits, and the footer always has q quit and ? help', async () => {
    const { app } = setup(size);
    await app.waitFor('● running', 10_000);
    for (const pane of ['1', '2', '3', '4', '5']) {
      await app.press(pane);
      const frame = app.frame();
      expectFits(frame, size);
      const footer = frame.split('\n').at(-1)!;
      expect(footer, `pane ${pane}`).toContain('q quit');
      expect(footer, `pane ${pane}`).toContain('? help');
    }
    await app.press('1');
    expect(app.frame().split('\n').at(-1)).toContain('/ filter');
  }, 30_000);

  it('the first-run offer stays clear of the status line and the footer', async () => {
    const { app } = setup(size, []);
    const frame = await app.waitFor('Welcome to Gantry', 10_000);
    expectFits(frame, size);
    const lines = frame.split('\n');
    const bottom = lines.findIndex((line) => line.includes('╰'));
    expect(bottom).toBeGreaterThan(0);
    // Below the box: the status line and the footer, nothing of the box.
    expect(bottom).toBeLessThan(lines.length - 2);
    expect(frame).toContain('Enter create it');
  }, 30_000);
});

describe('a wide terminal', () => {
  it('grows the columns: a long name is shown whole, and the command gets a column', async () => {
    const { app } = setup({ columns: 220, rows: 60 });
    const frame = await app.waitFor('● running', 10_000);
    expect(frame).toMatch(new RegExp(`^ ${LONG_NAME}\\s`, 'm'));
    expect(frame).toMatch(/COMMAND/);
    expect(frame).toMatch(/sleep 1000\s*$/m);
  }, 30_000);

  it('gives the Limits charts the height', async () => {
    const web = container('web', { resources: { memory: 64 * MIB } });
    const { app } = setup({ columns: 220, rows: 60 }, [web]);
    await app.waitFor('web', 10_000);
    await app.press(KEYS.enter);
    await app.waitFor('Limits of web');
    const now = Date.now();
    for (let second = 0; second < 5; second += 1)
      app.store.dispatch({
        type: 'stats/sampled',
        samples: [
          sample(web, now + second * 1000, {
            memory: { usage: 40 * MIB, workingSet: 32 * MIB, limit: 64 * MIB, oomKills: 0 },
            cpu: { usageNanos: second * 5e8, throttledNanos: 0, throttledPeriods: 0 },
          }),
        ],
      });
    const frame = await app.waitFor('memory 32MiB of 64MiB');
    // The chart's rows are the lines between its title and its bottom axis.
    const lines = frame.split('\n');
    const top = lines.findIndex((line) => line.includes('memory 32MiB of 64MiB'));
    const axis = lines.findIndex((line, index) => index > top && line.includes('└'));
    expect(axis - top - 1).toBeGreaterThanOrEqual(30);
    expectFits(frame, { columns: 220, rows: 60 });
  }, 30_000);
});
