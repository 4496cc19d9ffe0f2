/** A small area chart of a figure's recent history, `height` rows tall, newest on the right. */
import { Box, Text } from 'ink';
import React, { memo } from 'react';

const EIGHTHS = [' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/** The chart's rows, top first. */
export function chartRows(values: readonly number[], width: number, height: number, max: number): string[] {
  const shown = values.slice(-width);
  const pad = width - shown.length;
  const rows: string[] = [];
  for (let row = 0; row < height; row += 1) {
    const floor = (height - 1 - row) * 8;
    let line = ' '.repeat(Math.max(0, pad));
    for (const value of shown) {
      const level = max > 0 ? Math.round((Math.max(0, value) / max) * height * 8) : 0;
      line += EIGHTHS[Math.max(0, Math.min(8, level - floor))];
    }
    rows.push(line);
  }
  return rows;
}

export interface ChartProps {
  title: string;
  /** The figure now, shown after the title. */
  current: string;
  values: readonly number[];
  width: number;
  height: number;
  /** Top of the scale: the limit when there is one. */
  max: number;
  color?: string | undefined;
  /** Text for the top of the scale ("limit 64M"). */
  scale: string;
}

export const Chart = memo(function Chart({
  title,
  current,
  values,
  width,
  height,
  max,
  color,
  scale,
}: ChartProps) {
  const rows = chartRows(values, width, height, max);
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
          <Text key={index} color={color}>
            {row}
          </Text>
        ))}
      </Box>
      <Text dimColor wrap="truncate-end">{`${scale}, last ${Math.min(values.length, width)}s`}</Text>
    </Box>
  );
});
