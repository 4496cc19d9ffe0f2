/** The frame of an overlay that asks something (the run form, the first-run offer), centred. */
import { Box } from 'ink';
import React from 'react';
import { useTui } from '../context.js';

export interface DialogProps {
  /** Columns the dialog takes, its border included. */
  width: number;
  /** No blank row above it (a short terminal). */
  compact?: boolean;
  children: React.ReactNode;
}

export function Dialog({ width, compact = false, children }: DialogProps) {
  const { theme } = useTui();
  return (
    <Box
      flexDirection="column"
      borderStyle="round"
      borderColor={theme.accent}
      paddingX={1}
      width={width}
      alignSelf="center"
      marginTop={compact ? 0 : 1}
      flexShrink={0}
    >
      {children}
    </Box>
  );
}
