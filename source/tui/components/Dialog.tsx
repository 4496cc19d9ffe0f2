/** The frame of an overlay that asks something (the run form, the first-run offer), centred. */
import { Box } from 'ink';
import React from 'react';
import { useTui } from '../context.js';

export interface DialogProps {
  /** Columns the dialog takes, its border included. */
  width: number;
  children: React.ReactNode;
}

export function Dialog({ width, children }: DialogProps) {
  const { theme } = useTui();
  return (
    <Box
      flexDirection="column"
      borderStyle="round"
      borderColor={theme.accent}
      paddingX={1}
      width={width}
      alignSelf="center"
      marginTop={1}
    >
      {children}
    </Box>
  );
}
