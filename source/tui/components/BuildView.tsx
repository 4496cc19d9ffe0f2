/**
 * The build view (`b` in Images): the form (context directory, tag, Containerfile), then the
 * build's progress in `gantry build`'s words, newest lines at the bottom, and how it ended: the
 * image built, or the step that failed and why.
 */
import { Box, Text } from 'ink';
import React from 'react';
import { useTui } from '../context.js';
import { useTuiState } from '../hooks/use-tui-state.js';
import { buildOverlay } from '../state/build.js';
import { paneHeight } from '../state/layout.js';
import type { TuiState } from '../state/types.js';
import { TextField } from './TextField.js';

const selectOverlay = (state: TuiState) => buildOverlay(state);
const selectHeight = (state: TuiState) => paneHeight(state.ui.size);
const selectColumns = (state: TuiState) => state.ui.size.columns;

export function BuildView() {
  const { theme } = useTui();
  const overlay = useTuiState(selectOverlay);
  const height = useTuiState(selectHeight);
  const columns = useTuiState(selectColumns);
  if (!overlay) return <Text> </Text>;
  const typing = !overlay.running;
  const labelWidth = 14;
  const fieldWidth = Math.max(8, columns - 2 - labelWidth - 2);
  const resultLines = overlay.result ? 2 : 0;
  // Title, the fields, the state line; the rest is progress (the newest lines when more than fit).
  const room = Math.max(1, height - 2 - overlay.fields.length - resultLines);
  const lines = [...overlay.lines, ...(overlay.partial ? [overlay.partial] : [])].slice(-room);
  const state = overlay.running
    ? overlay.cancelling
      ? 'cancelling…'
      : `building…${overlay.step ? ` ${overlay.step}` : ''} (Esc cancels it)`
    : overlay.result
      ? 'Enter builds again, Esc closes'
      : 'Enter builds, Tab moves between fields, Esc closes';
  return (
    <Box flexDirection="column" paddingX={1} height={height}>
      <Text bold color={theme.accent} wrap="truncate-end">
        {'Build an image '}
        <Text dimColor bold={false}>
          {state}
        </Text>
      </Text>
      {overlay.fields.map((field, index) => {
        const focused = typing && index === overlay.focus;
        return (
          <Text key={field.name} wrap="truncate-end">
            <Text bold={focused} color={focused ? theme.accent : undefined}>
              {`${focused ? '›' : ' '} ${field.label.padEnd(labelWidth - 2)}`}
            </Text>
            <TextField
              value={field.value}
              placeholder={field.placeholder}
              focused={focused}
              width={fieldWidth}
            />
          </Text>
        );
      })}
      {lines.map((line, index) => (
        <Text key={index} wrap="truncate-end">
          {line || ' '}
        </Text>
      ))}
      {overlay.result ? (
        <Text color={overlay.result.ok ? theme.good : theme.bad} wrap="wrap">
          {overlay.result.text}
        </Text>
      ) : null}
    </Box>
  );
}
