/**
 * The pull view (`P` in Images): the reference being typed, then the transfer's progress, one
 * line per layer in `gantry pull`'s words, and how it ended.
 */
import { Box, Text } from 'ink';
import React from 'react';
import { useTui } from '../context.js';
import { useTuiState } from '../hooks/use-tui-state.js';
import { paneHeight } from '../state/layout.js';
import { pullOverlay } from '../state/pull.js';
import type { TuiState } from '../state/types.js';

const selectOverlay = (state: TuiState) => pullOverlay(state);
const selectHeight = (state: TuiState) => paneHeight(state.ui.size);

export function PullView() {
  const { theme } = useTui();
  const overlay = useTuiState(selectOverlay);
  const height = useTuiState(selectHeight);
  if (!overlay) return <Text> </Text>;
  const typing = !overlay.running;
  // The newest lines when there are more than fit.
  const room = Math.max(1, height - 4);
  const lines = overlay.lines.slice(-room);
  return (
    <Box flexDirection="column" paddingX={1} height={height}>
      <Text bold color={theme.accent}>
        {overlay.host ? `Pull an image onto ${overlay.host}` : 'Pull an image'}
      </Text>
      <Text wrap="truncate-end">
        {'Image: '}
        <Text inverse={typing}>{`${overlay.reference}${typing ? '▏' : ''}`}</Text>
        <Text dimColor>
          {typing
            ? '  e.g. busybox, busybox:1.36, localhost:5000/team/app:v1; Enter pulls'
            : '  pulling… (Esc closes; the pull goes on)'}
        </Text>
      </Text>
      {lines.map((line, index) => (
        <Text key={index} wrap="truncate-end">
          {line}
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
