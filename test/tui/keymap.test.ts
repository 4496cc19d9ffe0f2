import type { Key } from 'ink';
import { describe, expect, it } from 'vitest';
import { parseConfig, remapKeys } from '../../source/tui/config.js';
import {
  COMMANDS,
  DEFAULT_KEYMAP,
  footerBindings,
  helpLines,
  lookup,
  type Scope,
} from '../../source/tui/keymap/keymap.js';
import { expandInput, isValidKeyName, normalizeKey } from '../../source/tui/keymap/keys.js';

const NO_KEY: Key = {
  upArrow: false,
  downArrow: false,
  leftArrow: false,
  rightArrow: false,
  pageDown: false,
  pageUp: false,
  home: false,
  end: false,
  return: false,
  escape: false,
  ctrl: false,
  shift: false,
  tab: false,
  backspace: false,
  delete: false,
  meta: false,
  super: false,
  hyper: false,
  capsLock: false,
  numLock: false,
};

describe('default keymap', () => {
  it('binds every command somewhere', () => {
    for (const command of COMMANDS)
      expect(
        DEFAULT_KEYMAP.some((binding) => binding.command === command),
        command,
      ).toBe(true);
  });

  it('never gives one key two meanings in a scope', () => {
    const seen = new Map<string, string>();
    for (const binding of DEFAULT_KEYMAP) {
      for (const key of binding.keys) {
        const slot = `${binding.scope}/${key}`;
        expect(seen.get(slot) ?? binding.command, slot).toBe(binding.command);
        seen.set(slot, binding.command);
      }
    }
  });

  it('uses only key names the config accepts', () => {
    for (const binding of DEFAULT_KEYMAP)
      for (const key of binding.keys) expect(isValidKeyName(key), key).toBe(true);
  });

  it('has the issue keys: s p r K D e n / ? q 1-5 Tab', () => {
    const containers: Scope[] = ['containers', 'list', 'global'];
    expect(lookup(DEFAULT_KEYMAP, containers, 's')).toBe('container.startStop');
    expect(lookup(DEFAULT_KEYMAP, containers, 'p')).toBe('container.pauseUnpause');
    expect(lookup(DEFAULT_KEYMAP, containers, 'r')).toBe('container.restart');
    expect(lookup(DEFAULT_KEYMAP, containers, 'K')).toBe('container.kill');
    expect(lookup(DEFAULT_KEYMAP, containers, 'D')).toBe('container.remove');
    expect(lookup(DEFAULT_KEYMAP, containers, 'e')).toBe('container.exec');
    expect(lookup(DEFAULT_KEYMAP, containers, 'n')).toBe('container.new');
    expect(lookup(DEFAULT_KEYMAP, containers, '/')).toBe('filter.start');
    expect(lookup(DEFAULT_KEYMAP, containers, '?')).toBe('app.help');
    expect(lookup(DEFAULT_KEYMAP, containers, 'q')).toBe('app.quit');
    expect(lookup(DEFAULT_KEYMAP, containers, 'j')).toBe('cursor.down');
    expect(lookup(DEFAULT_KEYMAP, containers, 'down')).toBe('cursor.down');
    expect(lookup(DEFAULT_KEYMAP, containers, 'tab')).toBe('pane.next');
    expect(lookup(DEFAULT_KEYMAP, containers, 'shift+tab')).toBe('pane.previous');
    expect(['1', '2', '3', '4', '5'].map((key) => lookup(DEFAULT_KEYMAP, containers, key))).toEqual([
      'pane.containers',
      'pane.images',
      'pane.layers',
      'pane.limits',
      'pane.logs',
    ]);
  });

  it('lets the specific scope win: n is "next match" in Logs and "new" in Containers', () => {
    expect(lookup(DEFAULT_KEYMAP, ['logs', 'list', 'global'], 'n')).toBe('logs.nextMatch');
    expect(lookup(DEFAULT_KEYMAP, ['containers', 'list', 'global'], 'n')).toBe('container.new');
    expect(lookup(DEFAULT_KEYMAP, ['tree', 'list', 'global'], 'escape')).toBe('tree.back');
  });

  it('shows each key once in the footer, the specific binding first', () => {
    const footer = footerBindings(DEFAULT_KEYMAP, ['tree', 'list', 'global']);
    const keys = footer.map((binding) => binding.keys[0]);
    expect(new Set(keys).size).toBe(keys.length);
    expect(footer.find((binding) => binding.keys.includes('/'))?.command).toBe('tree.filter');
  });

  it('feeds the help overlay from the same table', () => {
    const lines = helpLines(DEFAULT_KEYMAP);
    expect(lines.find((line) => line.command === 'container.kill')?.keys).toBe('K');
    expect(lines.some((line) => line.heading === 'Containers')).toBe(true);
  });
});

describe('normalizeKey', () => {
  it('names keys the way the keymap does', () => {
    expect(normalizeKey('', { ...NO_KEY, tab: true })).toBe('tab');
    expect(normalizeKey('', { ...NO_KEY, tab: true, shift: true })).toBe('shift+tab');
    expect(normalizeKey('', { ...NO_KEY, return: true })).toBe('enter');
    expect(normalizeKey('', { ...NO_KEY, escape: true, meta: true })).toBe('escape');
    expect(normalizeKey('', { ...NO_KEY, upArrow: true })).toBe('up');
    expect(normalizeKey('c', { ...NO_KEY, ctrl: true })).toBe('ctrl+c');
    expect(normalizeKey('K', { ...NO_KEY, shift: true })).toBe('K');
    expect(normalizeKey(' ', NO_KEY)).toBe('space');
    // Backspace arrives as DEL, which Ink calls delete.
    expect(normalizeKey('', { ...NO_KEY, delete: true })).toBe('backspace');
  });
});

describe('config file', () => {
  it('remaps a command and takes the key off the command that had it', () => {
    const config = parseConfig(
      JSON.stringify({ keys: { 'container.kill': 'x', 'app.quit': ['Q'] } }),
      'test.json',
    );
    expect(lookup(config.keymap, ['containers', 'list', 'global'], 'x')).toBe('container.kill');
    expect(lookup(config.keymap, ['containers', 'list', 'global'], 'K')).toBeUndefined();
    expect(lookup(config.keymap, ['containers', 'list', 'global'], 'q')).toBeUndefined();
    expect(lookup(config.keymap, ['containers', 'list', 'global'], 'Q')).toBe('app.quit');
    expect(config.warnings).toEqual([]);
  });

  it('moves a key from another command in the same scope and says so', () => {
    const warnings: string[] = [];
    const keymap = remapKeys(DEFAULT_KEYMAP, { 'container.restart': 's' }, warnings);
    expect(lookup(keymap, ['containers'], 's')).toBe('container.restart');
    expect(keymap.find((binding) => binding.command === 'container.startStop')?.keys).toEqual([]);
    expect(warnings[0]).toMatch(/s moved from container.startStop to container.restart/);
  });

  it('changes one scope with "scope:command"', () => {
    const config = parseConfig(JSON.stringify({ keys: { 'limits:limit.increase': [']'] } }), 'test.json');
    expect(lookup(config.keymap, ['limits'], ']')).toBe('limit.increase');
    expect(lookup(config.keymap, ['step'], '+')).toBe('limit.increase');
  });

  it('reports mistakes and keeps the defaults', () => {
    const config = parseConfig(
      JSON.stringify({
        theme: 'neon',
        keys: { 'container.explode': 'x', 'app.quit': 'ctrl+shift+q' },
        colour: 1,
      }),
      'test.json',
    );
    expect(config.theme).toBe('auto');
    expect(config.warnings.join('\n')).toMatch(/unknown command "container.explode"/);
    expect(config.warnings.join('\n')).toMatch(/"ctrl\+shift\+q" is not a key name/);
    expect(config.warnings.join('\n')).toMatch(/theme "neon"/);
    expect(config.warnings.join('\n')).toMatch(/unknown setting "colour"/);
    expect(lookup(config.keymap, ['global'], 'q')).toBe('app.quit');
  });

  it('survives a file that is not JSON', () => {
    const config = parseConfig('{ keys: ', 'broken.json');
    expect(config.keymap).toBe(DEFAULT_KEYMAP);
    expect(config.warnings[0]).toMatch(/broken.json is not valid JSON/);
  });

  it('reads theme and sampling interval', () => {
    const config = parseConfig(JSON.stringify({ theme: 'light', statsIntervalMs: 2000 }), 'test.json');
    expect(config.theme).toBe('light');
    expect(config.statsIntervalMs).toBe(2000);
  });
});

describe('expandInput', () => {
  it('splits what arrived in one read into keys', () => {
    const key = { ...NO_KEY };
    expect(expandInput('\r\u001548m\r', key).map((pressed) => pressed.name)).toEqual([
      'enter',
      'ctrl+u',
      '4',
      '8',
      'm',
      'enter',
    ]);
    expect(expandInput('jj', key).map((pressed) => pressed.name)).toEqual(['j', 'j']);
    expect(expandInput('a b\u007f', key).map((pressed) => pressed.name)).toEqual([
      'a',
      'space',
      'b',
      'backspace',
    ]);
    expect(expandInput('', { ...key, upArrow: true })).toEqual([{ name: 'up', input: '' }]);
    // Esc then q, read together ("\u001bq", which Ink reports as meta+q).
    expect(expandInput('q', { ...key, meta: true }).map((pressed) => pressed.name)).toEqual(['escape', 'q']);
    expect(expandInput('', { ...key, escape: true, meta: true })).toEqual([{ name: 'escape', input: '' }]);
  });
});
