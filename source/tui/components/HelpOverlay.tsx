/** Every key, grouped by where it works, from the keymap the handler uses (so it cannot lie). */
import { Box, Text } from 'ink';
import React, { useMemo } from 'react';
import { useTui } from '../context.js';
import { useTuiState } from '../hooks/use-tui-state.js';
import { configPath } from '../config.js';
import { helpLines } from '../keymap/keymap.js';
import { paneHeight } from '../state/layout.js';
import type { TuiState } from '../state/types.js';

const selectSize = (state: TuiState) => state.ui.size;
const selectScroll = (state: TuiState) => (state.ui.overlay?.kind === 'help' ? state.ui.overlay.scroll : 0);

export function HelpOverlay() {
  const { keymap, theme } = useTui();
  const size = useTuiState(selectSize);
  const requestedScroll = useTuiState(selectScroll);
  const lines = useMemo(() => helpLines(keymap), [keymap]);
  const height = paneHeight(size);
  // Two columns when the terminal is wide enough; the list is cut to the pane either way.
  const columns = size.columns >= 150 ? 2 : 1;
  const perColumn = Math.ceil(lines.length / columns);
  const width = Math.floor((size.columns - 2) / columns);
  const keyWidth = 14;
  const showCommand = width >= 110;
  const visible = height - 2;
  const scroll = columns === 1 ? Math.min(requestedScroll, Math.max(0, lines.length - visible)) : 0;
  const chunks = Array.from({ length: columns }, (_, index) =>
    lines.slice(index * perColumn, (index + 1) * perColumn).slice(scroll, scroll + visible),
  );
  const more = columns === 1 && scroll + visible < lines.length;
  return (
    <Box flexDirection="column" paddingX={1} height={height}>
      <Text>
        <Text bold color={theme.accent}>
          Keys
        </Text>
        <Text dimColor>{`  (Esc closes${more ? ', ↓ scrolls' : ''}; remap in ${configPath()})`}</Text>
      </Text>
      <Box>
        {chunks.map((chunk, index) => (
          <Box key={index} flexDirection="column" width={width}>
            {chunk.map((line, row) =>
              line.heading ? (
                <Text key={row} bold underline>
                  {line.heading}
                </Text>
              ) : (
                <Text key={row} wrap="truncate-end">
                  <Text color={theme.accent}>{`  ${line.keys!}`.padEnd(keyWidth)}</Text>
                  <Text>{line.text}</Text>
                  {showCommand ? <Text dimColor>{`  ${line.command}`}</Text> : null}
                </Text>
              ),
            )}
          </Box>
        ))}
      </Box>
    </Box>
  );
}
