/**
 * The inspect view (`i` on a container or an image): `gantry inspect`'s JSON, a screenful at a
 * time. Lines that match the search are marked; the current match is shown in inverse video, its
 * matching text underlined.
 */
import { Box, Text } from 'ink';
import React, { useMemo } from 'react';
import { useTui } from '../context.js';
import { useTuiState } from '../hooks/use-tui-state.js';
import { inspectHeight, inspectOverlay, matchingLines } from '../state/inspect.js';
import type { TuiState } from '../state/types.js';
import { truncate } from '../format.js';

const selectOverlay = (state: TuiState) => inspectOverlay(state);
const selectHeight = (state: TuiState) => inspectHeight(state);
const selectColumns = (state: TuiState) => state.ui.size.columns;

/** A line cut to the width, its match (if any) split out to be underlined. */
function splitMatch(line: string, search: string, width: number): [string, string, string] {
  const text = truncate(line, width);
  const at = search ? text.toLowerCase().indexOf(search.toLowerCase()) : -1;
  if (at < 0) return [text, '', ''];
  return [text.slice(0, at), text.slice(at, at + search.length), text.slice(at + search.length)];
}

export function InspectView() {
  const { theme } = useTui();
  const overlay = useTuiState(selectOverlay);
  const height = useTuiState(selectHeight);
  const columns = useTuiState(selectColumns);
  const lines = overlay?.lines;
  const searchText = overlay?.search.text ?? '';
  const matches = useMemo(() => new Set(matchingLines(lines ?? [], searchText)), [lines, searchText]);
  if (!overlay) return <Text> </Text>;
  const shown = (lines ?? []).slice(overlay.scroll, overlay.scroll + height);
  const position = lines
    ? `lines ${Math.min(lines.length, overlay.scroll + 1)}-${Math.min(lines.length, overlay.scroll + height)} of ${lines.length}`
    : '';
  const matchIndex = overlay.match === undefined ? -1 : [...matches].indexOf(overlay.match);
  const searchNote = overlay.search.editing
    ? `  /${overlay.search.text}▏`
    : overlay.search.text
      ? `  "${overlay.search.text}" ${matches.size === 0 ? 'not found' : `${matchIndex + 1}/${matches.size}`}`
      : '';
  const width = Math.max(10, columns - 2);
  return (
    <Box flexDirection="column" paddingX={1} height={height + 1}>
      <Text wrap="truncate-end">
        <Text bold color={theme.accent}>{`Inspect ${overlay.name}`}</Text>
        <Text
          dimColor
        >{` (${overlay.subject}) ${overlay.id.replace(/^sha256:/, '').slice(0, 12)}  ${position}`}</Text>
        <Text color={matches.size === 0 && overlay.search.text ? theme.bad : theme.accent}>{searchNote}</Text>
      </Text>
      {overlay.error ? <Text color={theme.bad}>{overlay.error}</Text> : null}
      {!lines && !overlay.error ? <Text dimColor>reading…</Text> : null}
      {shown.map((line, index) => {
        const lineIndex = overlay.scroll + index;
        const current = lineIndex === overlay.match;
        const [before, match, after] = matches.has(lineIndex)
          ? splitMatch(line, searchText, width)
          : [truncate(line, width), '', ''];
        return (
          <Text key={lineIndex} inverse={current} wrap="truncate-end">
            {before}
            {match ? (
              <Text underline bold color={current ? undefined : theme.warn}>
                {match}
              </Text>
            ) : null}
            {after}
          </Text>
        );
      })}
    </Box>
  );
}
