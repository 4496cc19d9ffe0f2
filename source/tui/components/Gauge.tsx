/** A horizontal bar for a value against its limit: `█████░░░░░`. */
import { Text } from 'ink';
import React, { memo } from 'react';

export interface GaugeProps {
  /** Fill, 0..1 (clamped); undefined draws an empty, dim track (no limit). */
  ratio: number | undefined;
  /** Cells wide. */
  width: number;
  color?: string | undefined;
}

/** Eighth blocks give the bar sub-cell resolution. */
const PARTIAL = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];

export function gaugeText(ratio: number, width: number): { filled: string; empty: string } {
  const clamped = Math.max(0, Math.min(1, ratio));
  const eighths = Math.round(clamped * width * 8);
  const full = Math.floor(eighths / 8);
  const partial = PARTIAL[eighths % 8] ?? '';
  const filled = '█'.repeat(full) + partial;
  return { filled, empty: '░'.repeat(Math.max(0, width - full - (partial ? 1 : 0))) };
}

export const Gauge = memo(function Gauge({ ratio, width, color }: GaugeProps) {
  if (width <= 0) return null;
  if (ratio === undefined) return <Text dimColor>{'·'.repeat(width)}</Text>;
  const { filled, empty } = gaugeText(ratio, width);
  return (
    <Text>
      <Text color={color}>{filled}</Text>
      <Text dimColor>{empty}</Text>
    </Text>
  );
});
