/** Every message of the session in full, wrapped, newest at the bottom (`m` opens it). */
import { Box, Text } from 'ink';
import React, { useMemo } from 'react';
import { useTui } from '../context.js';
import { useTuiState } from '../hooks/use-tui-state.js';
import { paneHeight } from '../state/layout.js';
import { messageLines } from '../state/messages.js';
import type { TuiState } from '../state/types.js';

const selectMessages = (state: TuiState) => state.ui.messages;
const selectSize = (state: TuiState) => state.ui.size;
const selectScroll = (state: TuiState) =>
  state.ui.overlay?.kind === 'messages' ? state.ui.overlay.scroll : 0;

export function MessageLog() {
  const { theme } = useTui();
  const messages = useTuiState(selectMessages);
  const size = useTuiState(selectSize);
  const scroll = useTuiState(selectScroll);
  const lines = useMemo(() => messageLines(messages, size.columns - 2), [messages, size.columns]);
  const visible = Math.max(1, paneHeight(size) - 2);
  const end = Math.max(0, lines.length - scroll);
  const shown = lines.slice(Math.max(0, end - visible), end);
  return (
    <Box flexDirection="column" paddingX={1} height={paneHeight(size)}>
      <Text>
        <Text bold color={theme.accent}>
          {`Messages (${messages.length})`}
        </Text>
        <Text dimColor>
          {`  newest last${scroll > 0 ? `, ${scroll} newer lines below` : ''}; Esc closes, ↑/↓ scroll`}
        </Text>
      </Text>
      {lines.length === 0 ? <Text dimColor>No messages yet.</Text> : null}
      {shown.map((line, index) => (
        <Text key={index} color={line.level === 'error' ? theme.bad : undefined}>
          {line.text}
        </Text>
      ))}
    </Box>
  );
}
