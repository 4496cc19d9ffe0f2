/** The recent history of a figure in one row of block characters: `▁▂▃▅▇`. */
import { Text } from 'ink';
import React, { memo } from 'react';

const BARS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/** The last `width` values scaled to `max` (or to their own maximum). */
export function sparkline(values: readonly number[], width: number, max?: number): string {
  if (width <= 0) return '';
  const shown = values.slice(-width);
  const top = max ?? Math.max(...shown, 0);
  const line = shown.map((value) => {
    if (top <= 0 || value <= 0) return BARS[0]!;
    return BARS[Math.min(BARS.length - 1, Math.max(0, Math.ceil((value / top) * BARS.length) - 1))]!;
  });
  return ' '.repeat(Math.max(0, width - line.length)) + line.join('');
}

/**
 * The top a sparkline is drawn against: the highest limit in force over the points shown, else
 * `fallback` (a capacity such as the host's CPUs), else the points' own maximum, which is then
 * labelled ("≤2MB/s"), since bars drawn against their own maximum look full whatever they are.
 */
export function sparkScale(
  values: readonly number[],
  width: number,
  limits?: readonly (number | undefined)[],
  fallback?: number,
): { max: number | undefined; labelled: boolean } {
  const set = (limits ?? [])
    .slice(-width)
    .filter((limit): limit is number => limit !== undefined && limit > 0);
  if (set.length > 0) return { max: Math.max(...set), labelled: false };
  if (fallback !== undefined && fallback > 0) return { max: fallback, labelled: false };
  const own = Math.max(0, ...values.slice(-width));
  return { max: own > 0 ? own : undefined, labelled: own > 0 };
}

export interface SparklineProps {
  values: readonly number[];
  width: number;
  /** Scale top (a limit); default the largest value shown. */
  max?: number | undefined;
  color?: string | undefined;
}

export const Sparkline = memo(function Sparkline({ values, width, max, color }: SparklineProps) {
  return <Text color={color}>{sparkline(values, width, max)}</Text>;
});
