/** The top row: the panes with their number keys, the current one highlighted, and a summary. */
import { Box, Text } from 'ink';
import React, { useCallback } from 'react';
import { useTui } from '../context.js';
import { staleBucketSeconds, staleSortAgeMs } from '../hooks/use-stats-sampler.js';
import { useTuiState } from '../hooks/use-tui-state.js';
import { PANE_TITLES, PANES, type TuiState } from '../state/types.js';

const selectPane = (state: TuiState) => state.ui.pane;
const selectRecords = (state: TuiState) => state.containers.records;
const selectColumns = (state: TuiState) => state.ui.size.columns;
const selectMarked = (state: TuiState) => state.containers.marked.length;

export function TabBar() {
  const { theme, keymap, statsIntervalMs } = useTui();
  const selectStale = useCallback(
    (state: TuiState) => {
      const age = staleSortAgeMs(state, statsIntervalMs);
      if (age === undefined) return '';
      const key = state.containers.sort.key === 'memory' ? 'MEM' : state.containers.sort.key.toUpperCase();
      return Number.isFinite(age)
        ? `${key} order: figures ≤${staleBucketSeconds(age)}s old`
        : `${key} order: sampling…`;
    },
    [statsIntervalMs],
  );
  const stale = useTuiState(selectStale);
  const pane = useTuiState(selectPane);
  const records = useTuiState(selectRecords);
  const columns = useTuiState(selectColumns);
  const marked = useTuiState(selectMarked);
  const counts = { running: 0, paused: 0, stopped: 0 };
  for (const record of Object.values(records)) {
    if (record.State.Status === 'running') counts.running += 1;
    else if (record.State.Status === 'paused') counts.paused += 1;
    else counts.stopped += 1;
  }
  const keyFor = (id: string) => keymap.find((binding) => binding.command === `pane.${id}`)?.keys[0] ?? '';
  const counted = [
    counts.running ? `${counts.running} running` : '',
    counts.paused ? `${counts.paused} paused` : '',
    counts.stopped ? `${counts.stopped} stopped` : '',
  ]
    .filter(Boolean)
    .join(' · ');
  // Stale sort figures are worth more than the counts: they say the order may be off. Marks
  // come first: the next action goes to all of them.
  const summary = [marked ? `${marked} marked` : '', stale || counted].filter(Boolean).join(' · ');
  const full = PANES.map((id) => ` ${keyFor(id)} ${PANE_TITLES[id]} `).join('').length + 8;
  const shortTitles = PANES.map((id) => ` ${keyFor(id)} ${PANE_TITLES[id].slice(0, 4)} `).join('').length + 8;
  // Short titles when the full ones and the summary do not fit (80 columns fit both).
  const compact = full > columns - Math.max(20, stale || marked ? summary.length + 2 : 0);
  const used = compact ? shortTitles : full;
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
      {summary && columns - used >= summary.length + 2 ? (
        <Text
          dimColor={!stale && !marked}
          color={stale || marked ? theme.warn : undefined}
        >{`${summary} `}</Text>
      ) : null}
    </Box>
  );
}
