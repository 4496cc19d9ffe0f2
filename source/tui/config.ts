/**
 * The TUI's config file: $GANTRY_CONFIG, else $XDG_CONFIG_HOME/gantry/config.json, else
 * ~/.config/gantry/config.json. Everything is optional:
 *
 *   {
 *     "theme": "auto",                       // "auto" | "dark" | "light" | "mono"
 *     "statsIntervalMs": 1000,               // how often live figures are sampled (250..10000)
 *     "keys": {
 *       "container.kill": "ctrl+k",          // one key or a list; replaces the default keys
 *       "app.quit": ["q", "Q"],
 *       "limits:limit.increase": ["+", "]"], // "scope:command" changes only that scope
 *       "container.sort": []                 // an empty list unbinds
 *     }
 *   }
 *
 * A problem in the file never stops the TUI: the defaults stay and the problems are shown in
 * the status line.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  COMMANDS,
  DEFAULT_KEYMAP,
  type Binding,
  type CommandId,
  type Keymap,
  type Scope,
} from './keymap/keymap.js';
import { isValidKeyName } from './keymap/keys.js';
import type { ThemeName } from './theme.js';

export interface TuiConfig {
  theme: ThemeName;
  statsIntervalMs: number;
  keymap: Keymap;
  /** Where the config was read from, if a file existed. */
  source: string | undefined;
  /** What was wrong with the file; shown in the status line. */
  warnings: string[];
}

export const DEFAULT_STATS_INTERVAL_MS = 1000;

export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.GANTRY_CONFIG) return env.GANTRY_CONFIG;
  const base = env.XDG_CONFIG_HOME || path.join(env.HOME || os.homedir(), '.config');
  return path.join(base, 'gantry', 'config.json');
}

const THEMES: readonly ThemeName[] = ['auto', 'dark', 'light', 'mono'];
const SCOPES = new Set<Scope>(DEFAULT_KEYMAP.map((binding) => binding.scope));

/**
 * Applies `keys` remappings to a keymap. A key taken by a remapped command is taken off any
 * other command of the same scope, so the user's choice wins and no key means two things.
 */
export function remapKeys(keymap: Keymap, keys: Record<string, unknown>, warnings: string[]): Keymap {
  let bindings: Binding[] = keymap.map((binding) => ({ ...binding }));
  for (const [name, value] of Object.entries(keys)) {
    const [scopePart, commandPart] = name.includes(':')
      ? (name.split(':', 2) as [string, string])
      : [undefined, name];
    if (!(COMMANDS as readonly string[]).includes(commandPart)) {
      warnings.push(
        `config: unknown command "${commandPart}" in "keys" (see the help overlay, ?, for command names)`,
      );
      continue;
    }
    if (scopePart !== undefined && !SCOPES.has(scopePart as Scope)) {
      warnings.push(`config: unknown scope "${scopePart}" in "${name}"`);
      continue;
    }
    const list =
      typeof value === 'string'
        ? [value]
        : Array.isArray(value) && value.every((key) => typeof key === 'string')
          ? (value as string[])
          : undefined;
    if (!list) {
      warnings.push(`config: "${name}" must be a key name or a list of key names`);
      continue;
    }
    const bad = list.filter((key) => !isValidKeyName(key));
    if (bad.length > 0) {
      warnings.push(
        `config: "${name}": ${bad.map((key) => JSON.stringify(key)).join(', ')} is not a key name (e.g. "x", "X", "ctrl+x", "enter", "escape", "tab", "up")`,
      );
      continue;
    }
    const command = commandPart as CommandId;
    const targets = bindings.filter(
      (binding) => binding.command === command && (scopePart === undefined || binding.scope === scopePart),
    );
    if (targets.length === 0) {
      warnings.push(`config: "${command}" has no binding in scope "${scopePart}"`);
      continue;
    }
    const targetScopes = new Set(targets.map((binding) => binding.scope));
    bindings = bindings.map((binding) => {
      if (targets.includes(binding)) return { ...binding, keys: [...list] };
      if (targetScopes.has(binding.scope)) {
        const kept = binding.keys.filter((key) => !list.includes(key));
        if (kept.length !== binding.keys.length) {
          warnings.push(
            `config: ${list.filter((key) => binding.keys.includes(key)).join(', ')} moved from ${binding.command} to ${command}`,
          );
          return { ...binding, keys: kept };
        }
      }
      return binding;
    });
  }
  return bindings;
}

export function parseConfig(text: string, source: string): TuiConfig {
  const warnings: string[] = [];
  const config: TuiConfig = {
    theme: 'auto',
    statsIntervalMs: DEFAULT_STATS_INTERVAL_MS,
    keymap: DEFAULT_KEYMAP,
    source,
    warnings,
  };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    warnings.push(`config: ${source} is not valid JSON (${(error as Error).message}); using the defaults`);
    return config;
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    warnings.push(`config: ${source} must hold a JSON object; using the defaults`);
    return config;
  }
  const object = raw as Record<string, unknown>;
  for (const key of Object.keys(object)) {
    if (!['theme', 'statsIntervalMs', 'keys', '$schema'].includes(key))
      warnings.push(`config: unknown setting "${key}" (known: theme, statsIntervalMs, keys)`);
  }
  if (object.theme !== undefined) {
    if (THEMES.includes(object.theme as ThemeName)) config.theme = object.theme as ThemeName;
    else warnings.push(`config: theme ${JSON.stringify(object.theme)} is not one of ${THEMES.join(', ')}`);
  }
  if (object.statsIntervalMs !== undefined) {
    const interval = object.statsIntervalMs;
    if (typeof interval === 'number' && interval >= 250 && interval <= 10_000)
      config.statsIntervalMs = interval;
    else warnings.push('config: statsIntervalMs must be a number from 250 to 10000');
  }
  if (object.keys !== undefined) {
    if (typeof object.keys === 'object' && object.keys !== null && !Array.isArray(object.keys)) {
      config.keymap = remapKeys(DEFAULT_KEYMAP, object.keys as Record<string, unknown>, warnings);
    } else {
      warnings.push('config: "keys" must be an object of command names to keys');
    }
  }
  return config;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): TuiConfig {
  const file = configPath(env);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    const config: TuiConfig = {
      theme: 'auto',
      statsIntervalMs: DEFAULT_STATS_INTERVAL_MS,
      keymap: DEFAULT_KEYMAP,
      source: undefined,
      warnings: [],
    };
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
      config.warnings.push(`config: cannot read ${file}: ${(error as Error).message}`);
    return config;
  }
  return parseConfig(text, file);
}

/** The config's problems as one message for the log: each on its own line, in full. */
export function configReport(config: TuiConfig): string | undefined {
  const { warnings } = config;
  if (warnings.length === 0) return undefined;
  const where = config.source ?? 'the config file';
  if (warnings.length === 1) return warnings[0]!;
  return [
    `config: ${warnings.length} problems in ${where} (the defaults stay for them):`,
    ...warnings.map((warning) => `- ${warning.replace(/^config: /, '')}`),
  ].join('\n');
}
