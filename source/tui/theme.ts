/**
 * Colours by meaning, never by name in components. Only the eight ANSI colours are used (every
 * terminal theme maps them to something readable on its own background); secondary text is dim
 * rather than grey, selection is inverse video, and every state also has a symbol, so NO_COLOR
 * (https://no-color.org) loses nothing but the colour.
 */
import type { ContainerStatus } from '../runtime/containers/record.js';

export type ThemeName = 'auto' | 'dark' | 'light' | 'mono';

export interface Theme {
  readonly name: Exclude<ThemeName, 'auto'>;
  /** False when NO_COLOR or the mono theme is in force. */
  readonly color: boolean;
  readonly accent: string | undefined;
  readonly good: string | undefined;
  readonly warn: string | undefined;
  readonly bad: string | undefined;
  readonly info: string | undefined;
  readonly added: string | undefined;
  readonly modified: string | undefined;
  readonly removed: string | undefined;
}

/** Light backgrounds make ANSI yellow hard to read; magenta stands in for it there. */
function palette(name: 'dark' | 'light'): Omit<Theme, 'name' | 'color'> {
  return {
    accent: 'cyan',
    good: 'green',
    warn: name === 'light' ? 'magenta' : 'yellow',
    bad: 'red',
    info: 'blue',
    added: 'green',
    modified: name === 'light' ? 'magenta' : 'yellow',
    removed: 'red',
  };
}

const MONO: Theme = {
  name: 'mono',
  color: false,
  accent: undefined,
  good: undefined,
  warn: undefined,
  bad: undefined,
  info: undefined,
  added: undefined,
  modified: undefined,
  removed: undefined,
};

/**
 * `COLORFGBG` ("15;0" = light text on dark) is set by rxvt, Konsole and others; without it the
 * dark palette is assumed, and it only differs in the yellow that light terminals wash out.
 */
export function detectBackground(env: NodeJS.ProcessEnv): 'dark' | 'light' {
  const background = env.COLORFGBG?.split(';').pop();
  if (background === undefined || background === '') return 'dark';
  const code = Number(background);
  return code === 7 || code === 15 || (code >= 9 && code <= 14 && code !== 12) ? 'light' : 'dark';
}

/**
 * Terminals that show no colour, by their terminfo name: `dumb`, and the monochrome variants
 * (`xterm-mono`, `vt100-m`...). Attributes (bold, inverse) still work on them.
 */
export function isMonochromeTerminal(env: NodeJS.ProcessEnv): boolean {
  const term = env.TERM ?? '';
  return term === 'dumb' || /-(mono|m)$/.test(term);
}

export function createTheme(name: ThemeName = 'auto', env: NodeJS.ProcessEnv = process.env): Theme {
  if ((env.NO_COLOR !== undefined && env.NO_COLOR !== '') || name === 'mono' || isMonochromeTerminal(env))
    return MONO;
  const resolved = name === 'auto' ? detectBackground(env) : name;
  return { name: resolved, color: true, ...palette(resolved) };
}

/** Symbol and colour of a container state; the symbol carries the meaning without colour. */
export function statusStyle(
  theme: Theme,
  status: ContainerStatus,
  exitCode = 0,
): { symbol: string; color: string | undefined } {
  switch (status) {
    case 'running':
      return { symbol: '●', color: theme.good };
    case 'paused':
      return { symbol: '‖', color: theme.warn };
    case 'created':
      return { symbol: '○', color: theme.info };
    case 'removing':
      return { symbol: '×', color: theme.warn };
    case 'exited':
      return { symbol: exitCode === 0 ? '■' : '✖', color: exitCode === 0 ? undefined : theme.bad };
  }
}

/** Colour for a fill ratio: calm below 70%, warning to 90%, alarm above. */
export function levelColor(theme: Theme, ratio: number | undefined): string | undefined {
  if (ratio === undefined) return theme.accent;
  if (ratio >= 0.9) return theme.bad;
  if (ratio >= 0.7) return theme.warn;
  return theme.good;
}
