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

/**
 * Which hosts are shown (all, or the one H picked), and every host that is down with when it is
 * tried again: empty when only this machine is.
 */
export function hostSummary(state: TuiState): { text: string; down: boolean } {
  const { hosts, host } = state.containers;
  if (hosts.length < 2) return { text: '', down: false };
  const down = hosts
    .filter((status) => status.state === 'unreachable')
    .map((status) => {
      // The back-off's wait, not a countdown: the header is redrawn on changes, not each second.
      const retry = status.retryInMs === undefined ? '' : `, retry after ${status.retryInMs / 1000}s`;
      return `✖ ${status.name} unreachable${status.error ? ` (${status.error})` : ''}${retry}`;
    });
  const connecting = hosts
    .filter((status) => status.state === 'connecting')
    .map((status) => `◌ ${status.name}`);
  return {
    text: [`host: ${host ?? `all ${hosts.length}`}`, ...down, ...connecting].join(' · '),
    down: down.length > 0,
  };
}
const selectHosts = (state: TuiState) => {
  const summary = hostSummary(state);
  return `${summary.down ? '!' : ' '}${summary.text}`;
};

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
  const hostsShown = useTuiState(selectHosts);
  const hostsDown = hostsShown.startsWith('!');
  const hosts = hostsShown.slice(1);
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
  const summary = [hostsDown ? '' : hosts, marked ? `${marked} marked` : '', stale || counted]
    .filter(Boolean)
    .join(' · ');
  // A host that is down is said before anything else, in the colour of errors.
  const alarm = hostsDown ? hosts : '';
  const full = PANES.map((id) => ` ${keyFor(id)} ${PANE_TITLES[id]} `).join('').length + 8;
  const shortTitles = PANES.map((id) => ` ${keyFor(id)} ${PANE_TITLES[id].slice(0, 4)} `).join('').length + 8;
  // Short titles when the full ones and the summary do not fit (80 columns fit both).
  const compact =
    full > columns - Math.max(20, stale || marked || hosts ? summary.length + alarm.length + 4 : 0);
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
      <Box>
        {alarm ? <Text color={theme.bad} bold wrap="truncate-end">{`${alarm} `}</Text> : null}
        {summary && columns - used - (alarm ? alarm.length + 1 : 0) >= summary.length + 2 ? (
          <Text
            dimColor={!stale && !marked}
            color={stale || marked ? theme.warn : undefined}
          >{`${summary} `}</Text>
        ) : null}
      </Box>
    </Box>
  );
}
