import { describe, expect, it } from 'vitest';
import { fitCell, fitColumns } from '../../source/tui/components/column-fit.js';
import { gaugeText } from '../../source/tui/components/Gauge.js';
import { sparkline } from '../../source/tui/components/Sparkline.js';
import {
  logLineText,
  formatBytesInput,
  formatMemory,
  formatSize,
  formatDuration,
  formatPercent,
  tidyInstruction,
} from '../../source/tui/format.js';
import { binarySize, humanSize } from '../../source/cli/format.js';
import { isUtf8Locale, toAscii } from '../../source/tui/ascii.js';
import { hasAlternateScreen } from '../../source/tui/terminal.js';
import { createTheme, detectBackground } from '../../source/tui/theme.js';
import { CONTAINER_COLUMNS, statusText } from '../../source/tui/panes/container-cells.js';
import { container } from './support/fixtures.js';

describe('figures', () => {
  it('formats sizes, limits, percentages and durations compactly', () => {
    expect(formatMemory(0)).toBe('0B');
    expect(formatMemory(1536)).toBe('1.5KiB');
    expect(formatMemory(256 * 1024 * 1024)).toBe('256MiB');
    expect(formatBytesInput(256 * 1024 * 1024)).toBe('256m');
    expect(formatBytesInput(1.5 * 1024 ** 3)).toBe('1.5g');
    expect(formatPercent(12.345)).toBe('12.3%');
    expect(formatPercent(250)).toBe('250%');
    expect(formatDuration(42_000)).toBe('42s');
    expect(formatDuration(3 * 3600_000 + 12 * 60_000)).toBe('3h12m');
    expect(tidyInstruction('/bin/sh -c #(nop)  CMD ["sh"]')).toBe('CMD ["sh"]');
    expect(tidyInstruction('/bin/sh -c apt-get update')).toBe('RUN apt-get update');
  });

  it('draws gauges and sparklines', () => {
    expect(gaugeText(0.5, 10)).toEqual({ filled: '█████', empty: '░░░░░' });
    expect(gaugeText(2, 4).filled).toBe('████');
    expect(sparkline([0, 1, 2, 4, 8], 5)).toBe('▁▁▂▄█');
    expect(sparkline([4], 3, 8)).toBe('  ▄');
  });
});

// Issue 11, defect 11: the Layers pane said 1.2K where `gantry image tree` said 1.23kB.
describe('one unit system with the CLI', () => {
  it('sizes are decimal as docker and the CLI print them, memory binary with IEC names', () => {
    for (const bytes of [0, 999, 1234, 617, 5_120_000, 2_000_000, 1_500_000_000, 123_456_789])
      expect(formatSize(bytes)).toBe(humanSize(bytes));
    expect(formatSize(1234)).toBe('1.23kB');
    // Memory: what the CLI's stats prints, to one decimal.
    expect(binarySize(256 * 1024 * 1024)).toBe('256MiB');
    expect(formatMemory(256 * 1024 * 1024)).toBe('256MiB');
  });
});

describe('table columns', () => {
  it('fit 80 columns by dropping the least important ones', () => {
    const fitted = fitColumns(CONTAINER_COLUMNS, 80);
    expect(fitted.map((column) => column.key)).not.toContain('id');
    expect(fitted.reduce((sum, column) => sum + column.width + 1, 1)).toBeLessThanOrEqual(80);
    expect(fitColumns(CONTAINER_COLUMNS, 160).map((column) => column.key)).toContain('id');
  });

  it('pads and cuts cells', () => {
    expect(fitCell('abc', 5)).toBe('abc  ');
    expect(fitCell('abc', 5, 'right')).toBe('  abc');
    expect(fitCell('abcdef', 4)).toBe('abc…');
  });
});

describe('terminal capabilities', () => {
  it('a monochrome or dumb terminal gets no colour', () => {
    expect(createTheme('auto', { TERM: 'xterm-mono' }).color).toBe(false);
    expect(createTheme('dark', { TERM: 'dumb' }).good).toBeUndefined();
    expect(createTheme('auto', { TERM: 'xterm-256color' }).color).toBe(true);
  });

  it('the locale decides UTF-8 (LC_ALL, then LC_CTYPE, then LANG; unset is C)', () => {
    expect(isUtf8Locale({ LANG: 'C' })).toBe(false);
    expect(isUtf8Locale({})).toBe(false);
    expect(isUtf8Locale({ LANG: 'en_US.UTF-8' })).toBe(true);
    expect(isUtf8Locale({ LANG: 'en_US.UTF-8', LC_ALL: 'C' })).toBe(false);
    expect(isUtf8Locale({ LANG: 'C', LC_CTYPE: 'C.utf8' })).toBe(true);
  });

  it('every glyph has a one-column ASCII stand-in, so the layout stays', () => {
    const glyphs = '…›●‖○×■✖◌▲▼▾▸→·≤─│├└╭╮╰╯┈┊░▁▂▃▄▅▆▇█▉▊▋▌▍▎▏';
    const ascii = toAscii(glyphs);
    expect([...ascii]).toHaveLength([...glyphs].length);
    // eslint-disable-next-line no-control-regex
    expect(ascii).toMatch(/^[\u0000-\u007f]*$/);
    expect(toAscii('\u001b[7m web ● running\u001b[27m')).toBe('\u001b[7m web * running\u001b[27m');
    expect(toAscii('日本')).toBe('????');
    expect(hasAlternateScreen({ TERM: 'dumb' })).toBe(false);
    expect(hasAlternateScreen({ TERM: 'xterm' })).toBe(true);
  });
});

describe('theme', () => {
  it('drops colour under NO_COLOR and for mono', () => {
    expect(createTheme('auto', { NO_COLOR: '1' }).color).toBe(false);
    expect(createTheme('auto', { NO_COLOR: '1' }).good).toBeUndefined();
    expect(createTheme('mono', {}).bad).toBeUndefined();
    expect(createTheme('auto', {}).good).toBe('green');
  });

  it('avoids yellow on light backgrounds', () => {
    expect(detectBackground({ COLORFGBG: '0;15' })).toBe('light');
    expect(detectBackground({ COLORFGBG: '15;0' })).toBe('dark');
    expect(createTheme('auto', { COLORFGBG: '0;15' }).warn).toBe('magenta');
    expect(createTheme('dark', {}).warn).toBe('yellow');
  });
});

describe('log lines', () => {
  it('shows what a terminal would: no escape sequences, the last redraw of a line', () => {
    expect(logLineText('\u001b[31mRED\u001b[0m normal\n')).toBe('RED normal');
    expect(logLineText('cr1\rCR2\n')).toBe('CR2');
    expect(logLineText('10%\r50%\r100%\r\n')).toBe('100%');
    expect(logLineText('windows line\r\n')).toBe('windows line');
    expect(logLineText('\u001b]0;title\u0007prompt $ ')).toBe('prompt $ ');
    expect(logLineText('tabs\tstay')).toBe('tabs\tstay');
  });
});

describe('container status cell', () => {
  const theme = createTheme('dark', { TERM: 'xterm-256color' });
  it('shows restarts by a restart policy, and a restart waiting out its delay', () => {
    const running = container('web');
    expect(statusText(running, undefined, theme).text).toBe('● running');
    expect(statusText({ ...running, RestartCount: 3 }, undefined, theme).text).toBe('● running ↻3');
    const waiting = { ...running, RestartCount: 4, State: { ...running.State, Restarting: true, Pid: 0 } };
    expect(statusText(waiting, undefined, theme)).toEqual({ text: '↻ restarting (4)', color: theme.warn });
    const exited = container('job', { status: 'exited', exitCode: 3 });
    expect(statusText({ ...exited, RestartCount: 2 }, undefined, theme).text).toBe('✖ exited (3)');
  });

  it('shows the health check verdict as docker words it, an unhealthy one as a problem', () => {
    const running = container('web', { status: 'running' });
    const health = (Status: 'starting' | 'healthy' | 'unhealthy') => ({
      ...running,
      State: { ...running.State, Health: { Status, FailingStreak: 0, Log: [] } },
    });
    expect(statusText(health('starting'), undefined, theme).text).toBe('● running (health: starting)');
    expect(statusText(health('healthy'), undefined, theme).text).toBe('● running (healthy)');
    expect(statusText(health('unhealthy'), undefined, theme)).toEqual({
      text: '● running (unhealthy)',
      color: theme.bad,
    });
  });
});
