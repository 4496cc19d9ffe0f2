/**
 * A small area chart of a figure's recent history, `height` rows tall, newest on the right, on an
 * absolute scale. Each point is drawn beside the limit in force at its time (a dim line that
 * steps where the limit changed, the change marked by a dotted column), so raising or lowering a
 * limit never redraws the past as if it had always been at the new one.
 */
import { Box, Text } from 'ink';
import React, { memo } from 'react';

const EIGHTHS = [' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
const LIMIT_LINE = '┈';
const LIMIT_CHANGE = '┊';

/** What one cell of the chart shows. */
export type ChartCellKind = 'bar' | 'limit' | 'change' | 'empty';

export interface ChartSegment {
  kind: ChartCellKind;
  text: string;
}

/** The points shown (the last `width`), with their limits, left-padded to `width`. */
function window<T>(values: readonly T[], width: number): T[] {
  return values.slice(-width);
}

/** Indexes (in the shown window) where the limit differs from the point before it. */
export function limitChanges(limits: readonly (number | undefined)[]): number[] {
  const changes: number[] = [];
  for (let index = 1; index < limits.length; index += 1)
    if (limits[index] !== limits[index - 1]) changes.push(index);
  return changes;
}

/**
 * The chart's rows, top first, as runs of cells of one kind. `limits` (aligned with `values`,
 * undefined where there was none) draws the limit line; `max` is the top of the scale.
 */
export function chartSegments(
  values: readonly number[],
  limits: readonly (number | undefined)[] | undefined,
  width: number,
  height: number,
  max: number,
): ChartSegment[][] {
  const shown = window(values, width);
  const shownLimits = limits ? window(limits, width) : [];
  const pad = Math.max(0, width - shown.length);
  const changes = new Set(limitChanges(shownLimits));
  const levelOf = (value: number) => (max > 0 ? Math.round((Math.max(0, value) / max) * height * 8) : 0);
  const rows: ChartSegment[][] = [];
  for (let row = 0; row < height; row += 1) {
    const floor = (height - 1 - row) * 8;
    const cells: ChartSegment[] = [{ kind: 'empty', text: ' '.repeat(pad) }];
    shown.forEach((value, index) => {
      const level = Math.max(0, Math.min(8, levelOf(value) - floor));
      if (level > 0) {
        cells.push({ kind: 'bar', text: EIGHTHS[level]! });
        return;
      }
      const limit = shownLimits[index];
      // The limit's row: the one its level falls in (a limit at the very top sits in row 0).
      const limitRow =
        limit === undefined ? -1 : height - 1 - Math.min(height - 1, Math.floor(levelOf(limit) / 8 - 1e-9));
      if (limit !== undefined && limitRow === row) cells.push({ kind: 'limit', text: LIMIT_LINE });
      else if (changes.has(index)) cells.push({ kind: 'change', text: LIMIT_CHANGE });
      else cells.push({ kind: 'empty', text: ' ' });
    });
    // Runs of one kind become one piece of text.
    const merged: ChartSegment[] = [];
    for (const cell of cells) {
      const last = merged.at(-1);
      if (last && last.kind === cell.kind) last.text += cell.text;
      else if (cell.text) merged.push({ ...cell });
    }
    rows.push(merged);
  }
  return rows;
}

/** The chart's rows as plain text (tests and the screenshot checks read this). */
export function chartRows(
  values: readonly number[],
  width: number,
  height: number,
  max: number,
  limits?: readonly (number | undefined)[],
): string[] {
  return chartSegments(values, limits, width, height, max).map((row) =>
    row.map((cell) => cell.text).join(''),
  );
}

export interface ChartProps {
  title: string;
  /** The figure now, shown after the title. */
  current: string;
  values: readonly number[];
  /** The limit in force at each point (undefined: none), aligned with `values`. */
  limits?: readonly (number | undefined)[] | undefined;
  width: number;
  height: number;
  /** Top of the scale. */
  max: number;
  color?: string | undefined;
  /** Text under the chart: the scale and the last limit change ("top = 1G · limit 64M→128M 42s ago"). */
  scale: string;
}

export const Chart = memo(function Chart({
  title,
  current,
  values,
  limits,
  width,
  height,
  max,
  color,
  scale,
}: ChartProps) {
  const rows = chartSegments(values, limits, width, height, max);
  return (
    <Box flexDirection="column" width={width + 2}>
      <Text wrap="truncate-end">
        <Text bold>{title}</Text>
        {` ${current}`}
      </Text>
      <Box
        flexDirection="column"
        borderStyle="single"
        borderLeft
        borderRight={false}
        borderTop={false}
        borderBottom
        borderDimColor
      >
        {rows.map((row, index) => (
          <Text key={index}>
            {row.map((cell, part) =>
              cell.kind === 'bar' ? (
                <Text key={part} color={color}>
                  {cell.text}
                </Text>
              ) : cell.kind === 'empty' ? (
                cell.text
              ) : (
                <Text key={part} dimColor>
                  {cell.text}
                </Text>
              ),
            )}
          </Text>
        ))}
      </Box>
      <Text dimColor wrap="truncate-end">{`${scale}, last ${Math.min(values.length, width)}s`}</Text>
    </Box>
  );
});
