/**
 * Logs pane: the selected container's output, following new lines as they come; scrolling up
 * holds the view, `/` searches (matches highlighted, the current one differently, n/N to move),
 * `w` wraps long lines or cuts them (←/→ scroll sideways), `t` shows times, `o` loads older
 * lines when the header says they exist. Colours the container printed are kept.
 */
import { Box, Text } from 'ink';
import React, { memo, useMemo } from 'react';
import { useTui } from '../context.js';
import { useTuiState } from '../hooks/use-tui-state.js';
import { logHeight } from '../state/layout.js';
import { layoutParts, markMatches, type LinePart, type StyledSegment } from '../state/log-text.js';
import { logMatches, selectedContainer } from '../state/selectors.js';
import type { LogLine, LogsState, TuiState } from '../state/types.js';
import type { Theme } from '../theme.js';

const selectLogs = (state: TuiState) => state.logs;
const selectSize = (state: TuiState) => state.ui.size;
const selectContainer = (state: TuiState) => selectedContainer(state);

/** "12-31 23:59:59.123", local time: what a reader of the pane compares. */
export function shortTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso.slice(0, 18).padEnd(18);
  const two = (value: number) => String(value).padStart(2, '0');
  return `${two(date.getMonth() + 1)}-${two(date.getDate())} ${two(date.getHours())}:${two(date.getMinutes())}:${two(
    date.getSeconds(),
  )}.${String(date.getMilliseconds()).padStart(3, '0')}`;
}
const TIME_WIDTH = 19; // shortTime and a space

/** One screen row: a part of a log line, with what its first row carries. */
interface Row {
  key: string;
  line: LogLine;
  first: boolean;
  current: boolean;
  parts: LinePart[];
}

function segmentsOf(line: LogLine): readonly StyledSegment[] {
  return line.segments ?? [{ text: line.text, style: {} }];
}

/**
 * The rows on screen: from line `top` down when holding, or ending with the last line when
 * following; wrapped lines take as many rows as they need (the first line shown may begin above
 * the pane when following), cut lines one row from column `scrollX`.
 */
export function visibleRows(logs: LogsState, width: number, height: number): Row[] {
  const prefix = 1 + (logs.timestamps ? TIME_WIDTH : 0);
  const content = Math.max(1, width - prefix);
  const needle = logs.search.editing ? '' : logs.search.text;
  const count = logs.lines.length;
  const bottom = Math.max(0, count - height);
  const rowsOf = (index: number): Row[] => {
    const line = logs.lines[index]!;
    const parts = markMatches(segmentsOf(line), needle);
    const laid = layoutParts(parts, content, logs.wrap, logs.wrap ? 0 : logs.scrollX);
    return laid.map((rowParts, rowIndex) => ({
      key: `${line.seq}:${rowIndex}`,
      line,
      first: rowIndex === 0,
      current: index === logs.match,
      parts: rowParts,
    }));
  };
  const rows: Row[] = [];
  if (logs.follow && logs.wrap) {
    for (let index = count - 1; index >= 0 && rows.length < height; index--) rows.unshift(...rowsOf(index));
    return rows.slice(Math.max(0, rows.length - height));
  }
  const top = logs.follow ? bottom : Math.min(logs.scrollTop, bottom);
  for (let index = top; index < count && rows.length < height; index++) rows.push(...rowsOf(index));
  return rows.slice(0, height);
}

interface LogRowProps {
  row: Row;
  timestamps: boolean;
  theme: Theme;
}

const LogRow = memo(function LogRow({ row, timestamps, theme }: LogRowProps) {
  const stderr = row.line.stream === 'stderr';
  return (
    <Text wrap="truncate-end">
      {row.first && row.current ? <Text color={theme.accent}>{'›'}</Text> : ' '}
      {timestamps ? (
        <Text dimColor>{row.first ? `${shortTime(row.line.time)} ` : ' '.repeat(TIME_WIDTH)}</Text>
      ) : null}
      {row.parts.map((part, index) => {
        const style = part.style;
        const color = style.color ?? (stderr ? theme.warn : undefined);
        if (part.match && row.current) {
          // The current match: bold and underlined, on the accent colour where there is colour.
          return (
            <Text
              key={index}
              bold
              underline
              {...(theme.accent ? { backgroundColor: theme.accent, color: 'black' } : { inverse: true })}
            >
              {part.text}
            </Text>
          );
        }
        return (
          <Text
            key={index}
            {...(color ? { color } : {})}
            {...(style.backgroundColor ? { backgroundColor: style.backgroundColor } : {})}
            bold={style.bold ?? false}
            dimColor={style.dim ?? false}
            italic={style.italic ?? false}
            underline={style.underline ?? false}
            strikethrough={style.strikethrough ?? false}
            inverse={part.match ? !style.inverse : (style.inverse ?? false)}
          >
            {part.text}
          </Text>
        );
      })}
    </Text>
  );
});

function Header({ logs, name, shown, theme }: { logs: LogsState; name: string; shown: Row[]; theme: Theme }) {
  const matches = logMatches(logs.lines, logs.search.text);
  const matchNumber = logs.match === undefined ? 0 : matches.indexOf(logs.match) + 1;
  const lineOf = (row: Row | undefined) => (row ? logs.lines.indexOf(row.line) + 1 : 0);
  return (
    <Text wrap="truncate-end">
      {' Logs of '}
      <Text bold>{name}</Text>
      {'  '}
      {logs.detached ? (
        <Text color={theme.warn}>not following (f reads the newest)</Text>
      ) : logs.follow ? (
        <Text color={theme.good}>following</Text>
      ) : (
        <Text
          color={theme.warn}
        >{`held at ${lineOf(shown[0])}-${lineOf(shown[shown.length - 1])}/${logs.lines.length}`}</Text>
      )}
      {logs.olderLoading ? (
        <Text color={theme.info}>{'  loading older lines…'}</Text>
      ) : logs.older ? (
        <Text color={theme.info}>{'  older lines exist (o loads them)'}</Text>
      ) : null}
      {logs.search.text && !logs.search.editing ? (
        <Text color={theme.accent}>
          {`  "${logs.search.text}" ${matches.length === 0 ? 'not found' : `${matchNumber || '-'}/${matches.length}`}`}
        </Text>
      ) : null}
      <Text dimColor>
        {logs.wrap ? '  wrap' : logs.scrollX > 0 ? `  cut, from column ${logs.scrollX + 1}` : '  cut'}
      </Text>
      {logs.ended ? <Text dimColor>{logs.error ? `  ${logs.error}` : '  (ended)'}</Text> : null}
    </Text>
  );
}

export function LogsPane() {
  const { theme } = useTui();
  const logs = useTuiState(selectLogs);
  const size = useTuiState(selectSize);
  const container = useTuiState(selectContainer);
  const height = logHeight(size);
  const rows = useMemo(() => visibleRows(logs, size.columns, height), [logs, size.columns, height]);
  if (!container || !logs.containerId) {
    return (
      <Box flexDirection="column" paddingX={1}>
        <Text>No container selected.</Text>
        <Text dimColor>Select one in Containers (1) and come back with 5.</Text>
      </Box>
    );
  }
  return (
    <Box flexDirection="column" height={height + 1}>
      <Header logs={logs} name={container.Name} shown={rows} theme={theme} />
      {logs.lines.length === 0 ? (
        <Text dimColor> {logs.ended ? 'no output' : 'waiting for output…'}</Text>
      ) : (
        rows.map((row) => <LogRow key={row.key} row={row} timestamps={logs.timestamps} theme={theme} />)
      )}
    </Box>
  );
}
