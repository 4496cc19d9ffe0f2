/**
 * The small form `n` opens: run a new container from an image with a name, command and limits.
 * Every field's problem is shown under it at once, not one per Enter.
 */
import { Text } from 'ink';
import React from 'react';
import { useTui } from '../context.js';
import { useTuiState } from '../hooks/use-tui-state.js';
import { paneHeight } from '../state/layout.js';
import type { TuiState } from '../state/types.js';
import { Dialog } from './Dialog.js';
import { TextField } from './TextField.js';

const selectForm = (state: TuiState) =>
  state.ui.overlay?.kind === 'form' ? state.ui.overlay.form : undefined;
const selectColumns = (state: TuiState) => state.ui.size.columns;
const selectRows = (state: TuiState) => state.ui.size.rows;

export function NewContainerForm() {
  const { theme } = useTui();
  const form = useTuiState(selectForm);
  const columns = useTuiState(selectColumns);
  const rows = useTuiState(selectRows);
  if (!form) return null;
  const width = Math.min(columns - 4, 76);
  const fieldWidth = width - 16;
  const errorCount = form.fields.filter((field) => form.errors[field.name]).length;
  // Every line is one row; on a short terminal the explanation and the spacing go first, then
  // the hint, so the title, every field and every problem stay on screen.
  const base = 1 + form.fields.length + errorCount;
  const compact = paneHeight({ columns, rows }) - 3 < base;
  const room = paneHeight({ columns, rows }) - (compact ? 2 : 3); // the margin above, the border
  const showHint = room >= base + 1;
  const showSpacing = room >= base + 3;
  const showDescription = room >= base + 4;
  return (
    <Dialog width={width + 2} compact={compact}>
      <Text bold wrap="truncate-end">
        {'Run a container from '}
        <Text color={theme.accent}>{form.imageLabel}</Text>
      </Text>
      {showDescription ? (
        <Text dimColor wrap="truncate-end">
          Started detached with a terminal (-dit): e opens a shell in it.
        </Text>
      ) : null}
      {showSpacing ? <Text> </Text> : null}
      {form.fields.map((field, index) => {
        const problem = form.errors[field.name];
        return (
          <React.Fragment key={field.name}>
            <Text wrap="truncate-end">
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
            {problem ? (
              <Text color={theme.bad} wrap="truncate-end">{`${' '.repeat(14)}✖ ${problem}`}</Text>
            ) : null}
          </React.Fragment>
        );
      })}
      {showSpacing ? <Text> </Text> : null}
      {form.error ? (
        <Text color={theme.bad} wrap={showSpacing ? 'wrap' : 'truncate-end'}>{`✖ ${form.error}`}</Text>
      ) : showHint ? (
        <Text dimColor wrap="truncate-end">
          {form.submitting
            ? 'creating and starting…'
            : errorCount > 0
              ? `${errorCount === 1 ? 'a field needs' : `${errorCount} fields need`} changing · Esc cancels`
              : 'Enter runs it · Tab/↓ next field · Esc cancels'}
        </Text>
      ) : null}
    </Dialog>
  );
}
