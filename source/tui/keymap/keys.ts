/**
 * Ink's key events as key names, the vocabulary of the keymap and the config file: printable
 * characters as themselves ("K" is shift+k), and named keys with an optional "ctrl+" prefix.
 */
import type { Key } from 'ink';

export function normalizeKey(input: string, key: Key): string {
  if (key.tab) return key.shift ? 'shift+tab' : 'tab';
  if (key.return) return 'enter';
  if (key.escape) return 'escape';
  if (key.upArrow) return 'up';
  if (key.downArrow) return 'down';
  if (key.leftArrow) return 'left';
  if (key.rightArrow) return 'right';
  if (key.pageUp) return 'pageup';
  if (key.pageDown) return 'pagedown';
  if (key.home) return 'home';
  if (key.end) return 'end';
  // Terminals send DEL (0x7f) for the Backspace key, which Ink reports as `delete`.
  if (key.backspace || key.delete) return 'backspace';
  if (key.ctrl && input.length === 1) return `ctrl+${input.toLowerCase()}`;
  if (input === ' ') return 'space';
  return input;
}

/** Whether a key name is a character that can be typed into a text field. */
// Control characters are exactly what these patterns look for.
/* eslint-disable no-control-regex */
export function isPrintable(name: string, input: string): boolean {
  return (
    input.length > 0 &&
    !name.startsWith('ctrl+') &&
    !/[\u0000-\u001f\u007f]/.test(input) &&
    (name === input || name === 'space')
  );
}

/** Names the config file may use, to tell a typo from a key. */
export const NAMED_KEYS = new Set([
  'tab',
  'shift+tab',
  'enter',
  'escape',
  'up',
  'down',
  'left',
  'right',
  'pageup',
  'pagedown',
  'home',
  'end',
  'backspace',
  'space',
]);

export function isValidKeyName(name: string): boolean {
  if (NAMED_KEYS.has(name)) return true;
  if (/^ctrl\+[a-z]$/.test(name)) return true;
  return [...name].length === 1 && !/[\u0000-\u0020\u007f]/.test(name);
}

/* eslint-enable no-control-regex */

/** The key name of one character read from the terminal. */
export function characterKey(char: string): string {
  const code = char.charCodeAt(0);
  if (char === '\r' || char === '\n') return 'enter';
  if (char === '\t') return 'tab';
  if (char === '\u007f' || char === '\b') return 'backspace';
  if (char === '\u001b') return 'escape';
  if (code > 0 && code <= 26) return `ctrl+${String.fromCharCode(code + 96)}`;
  if (char === ' ') return 'space';
  return char;
}

/**
 * Ink hands over everything read at once as one `input` when it is not a known sequence: text
 * typed faster than it is read, a paste, or keys sent by a script ("\r\u001548m\r"). Each
 * character is a key here, so nothing typed is lost or misread as one unknown key.
 */
export function expandInput(input: string, key: Key): { name: string; input: string }[] {
  // Esc and a key right after it arrive together as "ESC x", which terminals also send for
  // Alt+x. Nothing here is bound to Alt, so it is read as the two keys the user most likely typed.
  if (key.meta && !key.escape && [...input].length === 1 && input !== '\u001b') {
    return [
      { name: 'escape', input: '' },
      { name: characterKey(input), input },
    ];
  }
  const chars = [...input];
  if (chars.length <= 1) return [{ name: normalizeKey(input, key), input }];
  return chars.map((char) => ({ name: characterKey(char), input: char }));
}
