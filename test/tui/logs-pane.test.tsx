/**
 * The Logs pane with every provider and the real keymap: a log of 2,000,000 lines opens on its
 * last lines reading only its end (bytes counted by the kernel), readers stop when the pane
 * closes or shows another container, long lines wrap or scroll sideways, colours are kept and
 * other escapes dropped, times on request, older lines on request, and search as a reader expects.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import type { LogEntry } from '../../source/runtime/containers/logs.js';
import { LOG_BUFFER_LINES } from '../../source/tui/state/logs.js';
import { FakeEngine } from './support/fake-engine.js';
import { container, image, layer } from './support/fixtures.js';
import { KEYS, renderTui, settle } from './support/render.js';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'gantry-tui-logs-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

// Whole renders on a shared, loaded machine take seconds; none of these waits for a clock.
vi.setConfig({ testTimeout: 60_000 });
let cleanup: (() => void)[] = [];
afterEach(() => {
  for (const step of cleanup) step();
  cleanup = [];
});

function setup(options: Parameters<typeof renderTui>[1] = {}) {
  const engine = new FakeEngine(
    [container('web'), container('db')],
    [image('demo', [layer('a', 2_000_000)])],
  );
  const rendered = renderTui(engine, options);
  // Data arrives through real reads on a loaded machine: wait longer than the helper's default.
  const app = {
    ...rendered,
    waitFor: (text: string | RegExp, timeoutMs = 20_000) => rendered.waitFor(text, timeoutMs),
  };
  cleanup.push(
    () => app.unmount(),
    () => engine.cleanup(),
  );
  return { engine, app };
}

function entries(texts: string[], stream: 'stdout' | 'stderr' = 'stdout'): LogEntry[] {
  return texts.map((text) => ({ time: '2026-01-01T12:34:56.789Z', stream, text: `${text}\n` }));
}

const numbered = (count: number, prefix = 'line') =>
  entries(Array.from({ length: count }, (_, index) => `${prefix} ${index}`));

/** Bytes this process read through read(2), as the kernel counts them. */
function readChars(): number {
  return Number(/^rchar: (\d+)$/m.exec(fs.readFileSync('/proc/self/io', 'utf8'))![1]);
}

describe('Logs pane at size', () => {
  it(
    'opens a 2,000,000-line log on its last lines, reading its end only, and stops reading when closed',
    { timeout: 120_000 },
    async () => {
      const file = path.join(scratch, 'ctr.log');
      const handle = fs.openSync(file, 'w');
      const record = (index: number) =>
        `2026-01-01T00:00:00.000000000Z stdout F line ${index} of two million\n`;
      for (let start = 0; start < 2_000_000; start += 100_000) {
        let block = '';
        for (let index = start; index < start + 100_000; index++) block += record(index);
        fs.writeSync(handle, block);
      }
      fs.closeSync(handle);
      const size = fs.statSync(file).size;
      expect(size).toBeGreaterThan(90 * 1024 * 1024);

      const { engine, app } = setup();
      engine.logFile = file;
      await app.waitFor('web');
      const before = readChars();
      await app.press('5');
      await app.waitFor('line 1999999 of two million', 20_000);
      const read = readChars() - before;
      // The tail of 1000 lines is about 60 KB; the walk back and the two passes a few blocks each.
      expect(read).toBeLessThan(2 * 1024 * 1024);
      expect(app.store.getState().logs.lines.length).toBeLessThanOrEqual(LOG_BUFFER_LINES);
      expect(app.store.getState().logs.older).toBe(true);
      expect(engine.openLogReaders).toBe(1);
      await app.press('1');
      await app.waitFor('NAME');
      for (let attempt = 0; attempt < 100 && engine.openLogReaders > 0; attempt++) await settle(20);
      expect(engine.openLogReaders).toBe(0);
      // Older lines come a page at a time, from the file, and stay bounded.
      await app.press('5');
      await app.waitFor('line 1999999 of two million', 20_000);
      const beforeOlder = readChars();
      await app.press('o');
      await app.waitFor('line 1998999 of two million', 20_000);
      expect(readChars() - beforeOlder).toBeLessThan(2 * 1024 * 1024);
      expect(app.store.getState().logs.lines[0]!.text).toBe('line 1998000 of two million');
    },
  );
});

describe('Logs pane readers', () => {
  it('stops the reader when the pane shows another container, and starts one for it', async () => {
    const { engine, app } = setup();
    engine.containerLogs.set('web', numbered(5, 'web says'));
    engine.containerLogs.set('db', numbered(5, 'db says'));
    await app.waitFor('web');
    await app.press('5');
    await app.waitFor('db says 4');
    expect(engine.openLogReaders).toBe(1);
    await app.press('1', KEYS.down, '5');
    await app.waitFor('web says 4');
    expect(app.frame()).not.toContain('db says');
    for (let attempt = 0; attempt < 100 && engine.openLogReaders > 1; attempt++) await settle(20);
    expect(engine.openLogReaders).toBe(1);
  });
});

describe('Logs pane lines', () => {
  const long = `start ${'abcdefghij'.repeat(20)} end`;

  it('wraps long lines, and with w cuts them and scrolls sideways with the arrows', async () => {
    const { engine, app } = setup();
    engine.logLines = entries(['short', long]);
    await app.waitFor('web');
    await app.press('5');
    let frame = await app.waitFor('end');
    expect(frame).toContain('start abcdefghij');
    expect(frame).toMatch(/ wrap/);
    await app.press('w');
    frame = await app.waitFor(/ cut/);
    expect(frame).toContain('start abcdefghij');
    expect(frame).not.toContain(' end');
    for (let step = 0; step < 20; step++) await app.press('\u001b[C');
    frame = await app.waitFor('from column 161');
    expect(frame).toContain('hij end');
    expect(frame).not.toContain('start');
    await app.press('\u001b[D');
    expect(app.frame()).toContain('from column 153');
    // Back to wrapping: the whole line again, from its start.
    await app.press('w');
    frame = await app.waitFor(' wrap');
    expect(frame).toContain('start abcdefghij');
    expect(frame).toContain('end');
  });

  it('shows when each line was written with t', async () => {
    const { engine, app } = setup();
    engine.logLines = entries(['stamped']);
    await app.waitFor('web');
    await app.press('5');
    await app.waitFor('stamped');
    expect(app.frame()).not.toMatch(/\d\d:\d\d:\d\d\.789 stamped/);
    await app.press('t');
    const local = new Date('2026-01-01T12:34:56.789Z');
    const clock = `${String(local.getHours()).padStart(2, '0')}:${String(local.getMinutes()).padStart(2, '0')}:56.789`;
    expect(await app.waitFor(`${clock} stamped`)).toContain('stamped');
    await app.press('t');
    expect(app.frame()).not.toContain(clock);
  });

  it('says older lines exist and loads them a page at a time with o', async () => {
    const { engine, app } = setup();
    engine.logLines = numbered(2500);
    await app.waitFor('web');
    await app.press('5');
    await app.waitFor('line 2499');
    expect(app.frame()).toContain('older lines exist (o loads them)');
    expect(app.store.getState().logs.lines[0]!.text).toBe('line 1500');
    await app.press('o');
    await app.waitFor('line 1499');
    expect(app.store.getState().logs.lines[0]!.text).toBe('line 500');
    expect(app.frame()).toContain('older lines exist');
    await app.press('o');
    await app.waitFor(/held at \d+-\d+\/2500/);
    expect(app.store.getState().logs.lines[0]!.text).toBe('line 0');
    expect(app.frame()).not.toContain('older lines exist');
    expect(engine.calls.filter((call) => call.startsWith('older logs'))).toEqual([
      'older logs 1000',
      'older logs 1000',
    ]);
    await app.press('o');
    await app.waitFor('no older lines: the log begins here');
  });

  it('keeps a search to its container: another container starts without it', async () => {
    const { engine, app } = setup();
    engine.containerLogs.set('db', entries(['db needle here', 'db other']));
    engine.containerLogs.set('web', entries(['web needle too', 'web other']));
    await app.waitFor('web');
    await app.press('5');
    await app.waitFor('db other');
    await app.press('/', 'n', 'e', 'e', 'd', 'l', 'e', KEYS.enter);
    await app.waitFor('"needle" 1/1');
    // Away and back to the same container: the search is still there.
    await app.press('1', '5');
    await app.waitFor('db other');
    expect(app.store.getState().logs.search.text).toBe('needle');
    await app.press('1', KEYS.down, '5');
    await app.waitFor('web other');
    expect(app.frame()).not.toContain('"needle"');
    expect(app.store.getState().logs.search.text).toBe('');
  });
});
