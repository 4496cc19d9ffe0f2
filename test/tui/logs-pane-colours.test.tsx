/**
 * The Logs pane's drawing as escapes: colours the container printed are kept, other escapes
 * dropped, and the current search match drawn apart from the others. Ink only writes escapes
 * when colour is on, so this file turns it on before Ink is loaded.
 */
/* eslint-disable no-control-regex -- escapes are what these tests read */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { LogEntry } from '../../source/runtime/containers/logs.js';
import { createTheme } from '../../source/tui/theme.js';
import { FakeEngine } from './support/fake-engine.js';
import { container, image, layer } from './support/fixtures.js';

process.env.FORCE_COLOR = '1';
const { KEYS, renderTui, stripAnsi } = await import('./support/render.js');

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

function entries(texts: string[]): LogEntry[] {
  return texts.map((text) => ({ time: '2026-01-01T12:34:56.789Z', stream: 'stdout', text: `${text}\n` }));
}

describe('Logs pane escapes', () => {
  it('keeps SGR colours and drops cursor movement and screen clears', async () => {
    const { engine, app } = setup({ theme: createTheme('dark', {}) });
    engine.logLines = entries([
      '\u001b[31mred alert\u001b[0m and \u001b[1;32mgreen bold\u001b[0m\u001b[2J\u001b[H done',
    ]);
    await app.waitFor('web');
    await app.press('5');
    await app.waitFor('done');
    const raw = app.lastFrame() ?? '';
    const line = raw.split('\n').find((row) => row.includes('alert'))!;
    expect(line).toMatch(/\u001b\[31mred alert\u001b\[39m/);
    expect(line).toMatch(/\u001b\[1m.*\u001b\[32mgreen bold/);
    expect(line).not.toContain('\u001b[2J');
    expect(line).not.toContain('\u001b[H');
    expect(stripAnsi(line)).toContain('red alert and green bold done');
  });

  it('marks the current match apart from the other matches', async () => {
    const { engine, app } = setup();
    engine.logLines = entries(['one match', 'two match', 'three match']);
    await app.waitFor('web');
    await app.press('5');
    await app.waitFor('three match');
    await app.press('/', 'm', 'a', 't', 'c', 'h', KEYS.enter);
    await app.waitFor('"match" 1/3');
    const rows = (app.lastFrame() ?? '').split('\n');
    const row = (word: string) => rows.find((candidate) => stripAnsi(candidate).includes(`${word} match`))!;
    // Mono: every match inverse; the current one also bold and underlined, with the › marker.
    expect(row('one')).toMatch(/\u001b\[4m/);
    expect(stripAnsi(row('one'))).toMatch(/^›one match/);
    expect(row('two')).toMatch(/\u001b\[7m/);
    expect(row('two')).not.toMatch(/\u001b\[4m/);
    await app.press('n');
    await app.waitFor('"match" 2/3');
    const next = (app.lastFrame() ?? '').split('\n');
    expect(next.find((candidate) => stripAnsi(candidate).includes('two match'))).toMatch(/\u001b\[4m/);
    expect(next.find((candidate) => stripAnsi(candidate).includes('one match'))).not.toMatch(/\u001b\[4m/);
  });
  it('drops the colours on a mono terminal but keeps the text', async () => {
    const { engine, app } = setup();
    engine.logLines = entries(['\u001b[31mred alert\u001b[0m plain']);
    await app.waitFor('web');
    await app.press('5');
    await app.waitFor('plain');
    const line = (app.lastFrame() ?? '').split('\n').find((row) => row.includes('alert'))!;
    expect(line).not.toContain('\u001b[31m');
    expect(line).toContain('red alert plain');
  });
});
