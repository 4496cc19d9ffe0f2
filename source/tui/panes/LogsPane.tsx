/**
 * Logs pane: the selected container's output, following new lines as they come; scrolling up
 * holds the view, `/` searches (matches highlighted, n/N to move between them).
 */
import { Box, Text } from 'ink';
import React, { memo } from 'react';
import { useTui } from '../context.js';
import { useTuiState } from '../hooks/use-tui-state.js';
import { logHeight } from '../state/layout.js';
import { logMatches, selectedContainer } from '../state/selectors.js';
import type { LogLine, TuiState } from '../state/types.js';

const selectLogs = (state: TuiState) => state.logs;
const selectSize = (state: TuiState) => state.ui.size;
const selectContainer = (state: TuiState) => selectedContainer(state);

/** Splits `text` into plain and matching parts (case-insensitive). */
export function highlightParts(text: string, needle: string): { text: string; match: boolean }[] {
  if (!needle) return [{ text, match: false }];
  const parts: { text: string; match: boolean }[] = [];
  const lower = text.toLowerCase();
  const target = needle.toLowerCase();
  let position = 0;
  for (let found = lower.indexOf(target); found >= 0; found = lower.indexOf(target, found + target.length)) {
    if (found > position) parts.push({ text: text.slice(position, found), match: false });
    parts.push({ text: text.slice(found, found + target.length), match: true });
    position = found + target.length;
  }
  if (position < text.length) parts.push({ text: text.slice(position), match: false });
  return parts;
}

interface LogRowProps {
  line: LogLine;
  needle: string;
  current: boolean;
  stderrColor: string | undefined;
  accent: string | undefined;
}

const LogRow = memo(function LogRow({ line, needle, current, stderrColor, accent }: LogRowProps) {
  // Control characters would move the cursor and break the frame; tabs become spaces.
  // eslint-disable-next-line no-control-regex
  const text = line.text.replace(/\t/g, '    ').replace(/[\u0000-\u001f\u007f]/g, '');
  return (
    <Text wrap="truncate-end" color={line.stream === 'stderr' ? stderrColor : undefined}>
      {current ? <Text color={accent}>{'›'}</Text> : ' '}
      {highlightParts(text, needle).map((part, index) =>
        part.match ? (
          <Text key={index} inverse bold={current}>
            {part.text}
          </Text>
        ) : (
          part.text
        ),
      )}
    </Text>
  );
});

export function LogsPane() {
  const { theme } = useTui();
  const logs = useTuiState(selectLogs);
  const size = useTuiState(selectSize);
  const container = useTuiState(selectContainer);
  if (!container || !logs.containerId) {
    return (
      <Box flexDirection="column" paddingX={1}>
        <Text>No container selected.</Text>
        <Text dimColor>Select one in Containers (1) and come back with 5.</Text>
      </Box>
    );
  }
  const height = logHeight(size);
  const bottom = Math.max(0, logs.lines.length - height);
  const top = logs.follow ? bottom : Math.min(logs.scrollTop, bottom);
  const shown = logs.lines.slice(top, top + height);
  const matches = logMatches(logs.lines, logs.search.text);
  const matchNumber = logs.match === undefined ? 0 : matches.indexOf(logs.match) + 1;
  return (
    <Box flexDirection="column" height={height + 1}>
      <Text wrap="truncate-end">
        {' Logs of '}
        <Text bold>{container.Name}</Text>
        {'  '}
        {logs.follow ? (
          <Text color={theme.good}>following</Text>
        ) : (
          <Text color={theme.warn}>{`held at ${top + 1}-${top + shown.length}/${logs.lines.length}`}</Text>
        )}
        {logs.ended ? <Text dimColor>{logs.error ? `  ${logs.error}` : '  (ended)'}</Text> : null}
        {logs.dropped > 0 ? <Text dimColor>{`  ${logs.dropped} older lines not kept`}</Text> : null}
        {logs.search.text && !logs.search.editing ? (
          <Text
            color={theme.accent}
          >{`  "${logs.search.text}" ${matches.length === 0 ? 'not found' : `${matchNumber || '-'}/${matches.length}`}`}</Text>
        ) : null}
      </Text>
      {logs.lines.length === 0 ? (
        <Text dimColor> {logs.ended ? 'no output' : 'waiting for output…'}</Text>
      ) : (
        shown.map((line, index) => (
          <LogRow
            key={line.seq}
            line={line}
            needle={logs.search.text}
            current={top + index === logs.match}
            stderrColor={theme.warn}
            accent={theme.accent}
          />
        ))
      )}
    </Box>
  );
}
