/** The top row: the panes with their number keys, the current one highlighted, and a summary. */
import { Box, Text } from 'ink';
import React from 'react';
import { useTui } from '../context.js';
import { useTuiState } from '../hooks/use-tui-state.js';
import { PANE_TITLES, PANES, type TuiState } from '../state/types.js';

const selectPane = (state: TuiState) => state.ui.pane;
const selectRecords = (state: TuiState) => state.containers.records;
const selectColumns = (state: TuiState) => state.ui.size.columns;

export function TabBar() {
  const { theme, keymap } = useTui();
  const pane = useTuiState(selectPane);
  const records = useTuiState(selectRecords);
  const columns = useTuiState(selectColumns);
  const counts = { running: 0, paused: 0, stopped: 0 };
  for (const record of Object.values(records)) {
    if (record.State.Status === 'running') counts.running += 1;
    else if (record.State.Status === 'paused') counts.paused += 1;
    else counts.stopped += 1;
  }
  const keyFor = (id: string) => keymap.find((binding) => binding.command === `pane.${id}`)?.keys[0] ?? '';
  // Short titles when the full ones do not fit (80 columns fit the full ones and the summary).
  const full = PANES.map((id) => ` ${keyFor(id)} ${PANE_TITLES[id]} `).join('').length + 8;
  const compact = full > columns - 20;
  const summary = [
    counts.running ? `${counts.running} running` : '',
    counts.paused ? `${counts.paused} paused` : '',
    counts.stopped ? `${counts.stopped} stopped` : '',
  ]
    .filter(Boolean)
    .join(' · ');
  return (
    <Box width={columns} justifyContent="space-between">
      <Text wrap="truncate-end">
        <Text bold color={theme.accent}>
          {' gantry '}
        </Text>
        {PANES.map((id) => {
          const title = compact ? PANE_TITLES[id].slice(0, 4) : PANE_TITLES[id];
          const label = ` ${keyFor(id)} ${title} `;
          return id === pane ? (
            <Text key={id} inverse bold>
              {label}
            </Text>
          ) : (
            <Text key={id}>{label}</Text>
          );
        })}
      </Text>
      {summary && columns - full >= summary.length + 2 ? <Text dimColor>{`${summary} `}</Text> : null}
    </Box>
  );
}
