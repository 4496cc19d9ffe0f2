/** The bottom row: the keys that work here, read from the same keymap as the help overlay. */
import { Text } from 'ink';
import React, { useMemo } from 'react';
import { useTui } from '../context.js';
import { useTuiState } from '../hooks/use-tui-state.js';
import { displayKey, footerBindings, type CommandId, type Scope } from '../keymap/keymap.js';
import { activeScopes } from '../state/selectors.js';
import type { TuiState } from '../state/types.js';

const selectScopes = (state: TuiState) => activeScopes(state).join(',');
/** Panes without a filter do not advertise one. */
const selectFilterless = (state: TuiState) =>
  state.ui.pane === 'limits' || (state.ui.pane === 'layers' && state.layers.focus !== 'tree');
const NO_FILTER = new Set<CommandId>(['filter.start', 'filter.clear']);
const NOTHING_HIDDEN = new Set<CommandId>();
const selectColumns = (state: TuiState) => state.ui.size.columns;

/** Fits as many `key label` hints as the width allows, in keymap order. */
export function footerText<Hint extends { key: string; label: string }>(
  hints: readonly Hint[],
  width: number,
): Hint[] {
  const shown: Hint[] = [];
  let used = 1;
  for (const hint of hints) {
    const size = hint.key.length + 1 + hint.label.length + 2;
    if (used + size > width) continue;
    shown.push(hint);
    used += size;
  }
  return shown;
}

/**
 * Keys that stay however narrow the terminal: quitting, the help (where every key that did not
 * fit is listed) and the filter. The others fill the room left, in keymap order.
 */
const PINNED: ReadonlySet<CommandId> = new Set(['app.quit', 'app.help', 'filter.start', 'tree.filter']);

export function fitFooter<Hint extends { key: string; label: string; command: CommandId }>(
  hints: readonly Hint[],
  width: number,
): Hint[] {
  const pinned = hints.filter((hint) => PINNED.has(hint.command));
  const pinnedWidth = pinned.reduce((sum, hint) => sum + hint.key.length + hint.label.length + 3, 0);
  const rest = footerText(
    hints.filter((hint) => !PINNED.has(hint.command)),
    width - pinnedWidth,
  );
  // Pinned keys keep their place among the others when all fit, else go last.
  const kept = new Set<Hint>([...rest, ...pinned]);
  return rest.length === hints.length - pinned.length
    ? hints.filter((hint) => kept.has(hint))
    : [...rest, ...pinned];
}

export function Footer() {
  const { keymap, theme } = useTui();
  const scopes = useTuiState(selectScopes);
  const columns = useTuiState(selectColumns);
  const filterless = useTuiState(selectFilterless);
  const hints = useMemo(() => {
    const bindings = footerBindings(
      keymap,
      scopes.split(',') as Scope[],
      filterless ? NO_FILTER : NOTHING_HIDDEN,
    );
    // The global keys are always the same; they go last so the pane's own keys show first.
    const ordered = [
      ...bindings.filter((binding) => binding.scope !== 'global'),
      ...bindings.filter((binding) => binding.scope === 'global'),
    ];
    const all = ordered.map((binding) => ({
      key: displayKey(binding.keys[0]!),
      label: binding.label,
      command: binding.command,
    }));
    return fitFooter(all, columns);
  }, [keymap, scopes, columns, filterless]);
  return (
    <Text wrap="truncate-end">
      {' '}
      {hints.map((hint, index) => (
        <Text key={`${hint.key}-${index}`}>
          <Text bold color={theme.accent}>
            {hint.key}
          </Text>
          <Text dimColor>{` ${hint.label}  `}</Text>
        </Text>
      ))}
    </Text>
  );
}
