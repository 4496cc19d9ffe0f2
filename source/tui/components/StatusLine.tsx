/**
 * The row above the footer: the last message (errors stay until the next one or a while), or a
 * confirmation question. Runtime errors land here instead of ending the TUI.
 */
import { Text } from 'ink';
import React, { useEffect } from 'react';
import { useTui } from '../context.js';
import { useTuiState } from '../hooks/use-tui-state.js';
import { truncate } from '../format.js';
import { currentFilter } from '../state/selectors.js';
import type { TuiState } from '../state/types.js';
import { TextField } from './TextField.js';

const selectStatus = (state: TuiState) => state.ui.status;
const selectOverlay = (state: TuiState) => state.ui.overlay;
const selectColumns = (state: TuiState) => state.ui.size.columns;
const selectFilter = (state: TuiState) => {
  const filter = currentFilter(state);
  return filter ? `${filter.editing ? 'e' : 'k'}${filter.label}:${filter.text}` : '';
};

const INFO_MS = 5000;
const ERROR_MS = 15000;

export function StatusLine() {
  const { theme, store, keymap } = useTui();
  const messagesKey = keymap.find((binding) => binding.command === 'app.messages')?.keys[0];
  const status = useTuiState(selectStatus);
  const overlay = useTuiState(selectOverlay);
  const columns = useTuiState(selectColumns);
  const filter = useTuiState(selectFilter);
  useEffect(() => {
    if (!status) return;
    const timer = setTimeout(
      () => {
        if (store.getState().ui.status === status) store.dispatch({ type: 'ui/clearStatus' });
      },
      status.level === 'error' ? ERROR_MS : INFO_MS,
    );
    return () => clearTimeout(timer);
  }, [status, store]);
  if (overlay?.kind === 'confirm') {
    return (
      <Text wrap="truncate-end">
        <Text inverse bold color={theme.bad}>
          {` ${truncate(overlay.message, columns - 12)} `}
        </Text>
        <Text bold> y/N</Text>
      </Text>
    );
  }
  const editing = filter.startsWith('e');
  const [label, ...rest] = filter.slice(1).split(':');
  const prompt = filter ? (
    <Text wrap="truncate-end">
      <Text bold color={theme.accent}>{` /${label} `}</Text>
      <TextField value={rest.join(':')} focused={editing} width={columns - 12} />
    </Text>
  ) : null;
  if (prompt && (editing || !status)) return prompt;
  if (!status) return <Text> </Text>;
  const text = status.text.replace(/\s+/g, ' ');
  const room = columns - 2 - (status.level === 'error' ? 2 : 0);
  // A message cut to the line says where the rest is.
  const more = messagesKey ? ` (${messagesKey}: all of it)` : '';
  const shown = text.length <= room ? text : `${truncate(text, Math.max(10, room - more.length))}`;
  return (
    <Text wrap="truncate-end">
      <Text color={status.level === 'error' ? theme.bad : undefined} bold={status.level === 'error'}>
        {` ${status.level === 'error' ? '✖ ' : ''}${shown}`}
      </Text>
      {shown === text ? null : <Text dimColor>{more}</Text>}
    </Text>
  );
}
