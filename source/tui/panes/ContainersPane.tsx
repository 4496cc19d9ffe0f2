/**
 * Containers pane: the table of containers (like `docker ps -a` with live figures), and under it
 * the selected container's command and the last minute of CPU and memory as sparklines.
 */
import { Box, Text } from 'ink';
import React, { useMemo } from 'react';
import { fitColumns } from '../components/column-fit.js';
import { DataTable, type RowSelector, type TableRow } from '../components/DataTable.js';
import type { ContainerRecord } from '../../runtime/containers/record.js';
import { sparkline, sparkScale } from '../components/Sparkline.js';
import { useTui } from '../context.js';
import { shallowEqual, useTuiState, useTuiStateWith } from '../hooks/use-tui-state.js';
import { formatMemory, formatPercent, formatRate, truncate } from '../format.js';
import { detailHeight, tableHeight } from '../state/layout.js';
import {
  commandLine,
  displayImage,
  memoizeLast,
  selectedContainer,
  visibleContainers,
} from '../state/selectors.js';
import type { StatsSeries, TuiState } from '../state/types.js';
import { hostOf, type HostStatus } from '../hosts/keys.js';
import { containerRow, memoryText, pidsText, sortedColumns, statusText, uptime } from './container-cells.js';

const selectSize = (state: TuiState) => state.ui.size;
const selectContainers = (state: TuiState) => state.containers;
const selectSelectedPending = (state: TuiState) =>
  state.containers.selectedId ? state.ui.pending[state.containers.selectedId] : undefined;
const selectSelected = (state: TuiState) => selectedContainer(state);
const selectLoadedEmpty = (state: TuiState) =>
  state.containers.loaded && Object.keys(state.containers.records).length === 0;

const windowIds = memoizeLast((rows: readonly ContainerRecord[], scrollTop: number, height: number) =>
  rows.slice(scrollTop, scrollTop + height).map((record) => record.Id),
);
/** Ids of the rows on screen; the same array while they stay the same. */
const selectWindow = (state: TuiState) =>
  windowIds(visibleContainers(state), state.containers.scrollTop, tableHeight(state.ui.size));

/** The status of a row's host when several are shown. */
function hostStatus(state: TuiState, key: string): HostStatus | undefined {
  const { hosts } = state.containers;
  if (hosts.length < 2) return undefined;
  const name = hostOf(key);
  return hosts.find((host) => host.name === name);
}

/**
 * A row's cells, rebuilt only when its record, its figures, its pending operation or its shown
 * uptime changed: a stats tick touches every row's selector, and most rows were not sampled.
 */
const rowCache = new Map<string, { inputs: unknown[]; row: TableRow }>();
const selectRow: RowSelector = (state, id, theme) => {
  const record = state.containers.records[id];
  if (!record) {
    rowCache.delete(id);
    return undefined;
  }
  const marked = state.containers.marked.includes(id);
  const host = hostStatus(state, id);
  const inputs = [
    host,
    record,
    state.stats.byId[id],
    state.ui.pending[id],
    uptime(record, state.ui.now),
    theme,
    marked,
  ];
  const cached = rowCache.get(id);
  if (cached && cached.inputs.every((value, index) => value === inputs[index])) return cached.row;
  const row = containerRow(
    record,
    state.stats.byId[id],
    state.ui.pending[id],
    state.ui.now,
    theme,
    marked,
    host,
  );
  rowCache.set(id, { inputs, row });
  return row;
};

function memorySpark(series: StatsSeries, width: number): string {
  const scale = sparkScale(series.history.memory, width, series.history.memoryLimit);
  const label = scale.labelled && scale.max !== undefined ? ` ≤${formatMemory(scale.max)}` : '';
  return `${sparkline(series.history.memory, width, scale.max)}${label}`;
}

interface DetailFigures {
  up: string;
  sampled: boolean;
  cpuSpark: string;
  cpu: string;
  memorySpark: string;
  memory: string;
  pids: string;
  io: string;
}

/** The detail strip as text: it re-renders only when what it shows changes, not on every sample. */
const selectFigures = (state: TuiState): DetailFigures | undefined => {
  const record = selectedContainer(state);
  if (!record) return undefined;
  const series = state.stats.byId[record.Id];
  const sparkWidth = Math.max(4, Math.min(30, Math.floor((state.ui.size.columns - 60) / 2)));
  return {
    up: uptime(record, state.ui.now),
    sampled: series !== undefined,
    // CPU against the quota of each point's time, else the host's CPUs; memory against its
    // limit, else its own top, then said (bars against their own top always look full).
    cpuSpark: series
      ? sparkline(
          series.history.cpu,
          sparkWidth,
          sparkScale(series.history.cpu, sparkWidth, series.history.cpuLimit, series.raw.onlineCpus * 100)
            .max,
        )
      : '',
    cpu: series ? formatPercent(series.cpuPercent).padStart(6) : '',
    memorySpark: series ? memorySpark(series, sparkWidth) : '',
    memory: series ? memoryText(series) || formatMemory(series.memoryUsage) : '',
    pids: series ? pidsText(series) : '',
    io: series
      ? `io r ${formatRate(series.ioReadRate)} w ${formatRate(series.ioWriteRate)}` +
        (series.raw.netRxBytes !== undefined
          ? `   net rx ${formatRate(series.netRxRate)} tx ${formatRate(series.netTxRate)}`
          : '')
      : '',
  };
};

function Detail() {
  const { theme } = useTui();
  const record = useTuiState(selectSelected);
  const size = useTuiState(selectSize);
  const figures = useTuiStateWith(selectFigures, shallowEqual);
  const pending = useTuiState(selectSelectedPending);
  const width = size.columns;
  if (!record || !figures) return <Text dimColor> {'─'.repeat(Math.max(0, width - 2))}</Text>;
  const status = statusText(record, pending, theme);
  return (
    <Box flexDirection="column">
      <Text dimColor>{'─'.repeat(Math.max(0, width))}</Text>
      <Text wrap="truncate-end">
        {' '}
        <Text bold>{record.Name}</Text>
        {'  '}
        <Text color={status.color}>{status.text}</Text>
        {figures.up ? <Text dimColor>{` up ${figures.up}`}</Text> : null}
        <Text dimColor>{`  ${displayImage(record)}  $ `}</Text>
        <Text>{truncate(commandLine(record), Math.max(10, width - 50))}</Text>
        {record.State.Error ? <Text color={theme.bad}>{`  ${record.State.Error}`}</Text> : null}
      </Text>
      {figures.sampled ? (
        <Text wrap="truncate-end">
          {' cpu '}
          <Text color={theme.accent}>{figures.cpuSpark}</Text>
          {` ${figures.cpu}   mem `}
          <Text color={theme.accent}>{figures.memorySpark}</Text>
          {` ${figures.memory}   pids ${figures.pids}`}
          <Text dimColor>{`   ${figures.io}`}</Text>
        </Text>
      ) : (
        <Text dimColor>
          {' '}
          {record.State.Status === 'running' || record.State.Status === 'paused'
            ? 'sampling…'
            : 'not running: s starts it, D removes it'}
        </Text>
      )}
    </Box>
  );
}

export function ContainersPane() {
  const size = useTuiState(selectSize);
  const containers = useTuiState(selectContainers);
  const shown = useTuiState(selectWindow);
  const empty = useTuiState(selectLoadedEmpty);
  // The marks of a host that is down or connecting take two more.
  const hostWidth =
    containers.hosts.length > 1 ? Math.max(...containers.hosts.map((host) => host.name.length + 2)) : 0;
  const columns = useMemo(
    () => fitColumns(sortedColumns(containers.sort, hostWidth), size.columns),
    [containers.sort, size.columns, hostWidth],
  );
  const height = tableHeight(size);
  const emptyText = !containers.loaded
    ? 'reading containers…'
    : empty
      ? 'No containers yet. Press 2 for Images, then n to run one (c creates an image from this host).'
      : containers.host !== undefined && shown.length === 0 && !containers.filter.text
        ? `no containers shown on ${containers.host} (H shows the next host, then all)`
        : containers.filter.text
          ? `nothing matches "${containers.filter.text}" (Esc clears the filter)`
          : 'no running containers (a shows stopped ones)';
  return (
    <Box flexDirection="column" height={height + 1 + detailHeight(size)}>
      <Box height={height + 1} flexDirection="column">
        <DataTable
          columns={columns}
          rowKeys={shown}
          selectRow={selectRow}
          selectedKey={containers.selectedId}
          empty={emptyText}
        />
      </Box>
      {detailHeight(size) > 0 ? <Detail /> : null}
    </Box>
  );
}
