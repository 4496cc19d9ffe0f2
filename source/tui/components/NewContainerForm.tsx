/** The small form `n` opens: run a new container from an image with a name, command and limits. */
import { Text } from 'ink';
import React from 'react';
import { useTui } from '../context.js';
import { useTuiState } from '../hooks/use-tui-state.js';
import type { TuiState } from '../state/types.js';
import { Dialog } from './Dialog.js';
import { TextField } from './TextField.js';

const selectForm = (state: TuiState) =>
  state.ui.overlay?.kind === 'form' ? state.ui.overlay.form : undefined;
const selectColumns = (state: TuiState) => state.ui.size.columns;

export function NewContainerForm() {
  const { theme } = useTui();
  const form = useTuiState(selectForm);
  const columns = useTuiState(selectColumns);
  if (!form) return null;
  const width = Math.min(columns - 4, 76);
  const fieldWidth = width - 16;
  return (
    <Dialog width={width + 2}>
      <Text bold>
        {'Run a container from '}
        <Text color={theme.accent}>{form.imageLabel}</Text>
      </Text>
      <Text dimColor>Started detached with a terminal (-dit): e opens a shell in it.</Text>
      <Text> </Text>
      {form.fields.map((field, index) => (
        <Text key={field.name} wrap="truncate-end">
          <Text bold={index === form.focus} color={index === form.focus ? theme.accent : undefined}>
            {`${index === form.focus ? '›' : ' '} ${field.label.padEnd(11)} `}
          </Text>
          <TextField
            value={field.value}
            placeholder={field.placeholder}
            focused={index === form.focus && !form.submitting}
            width={fieldWidth}
          />
        </Text>
      ))}
      <Text> </Text>
      {form.error ? (
        <Text color={theme.bad} wrap="wrap">{`✖ ${form.error}`}</Text>
      ) : (
        <Text dimColor>
          {form.submitting ? 'creating and starting…' : 'Enter runs it · Tab/↓ next field · Esc cancels'}
        </Text>
      )}
    </Dialog>
  );
}
