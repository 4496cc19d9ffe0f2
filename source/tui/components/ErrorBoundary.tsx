/**
 * Keeps a rendering error inside one pane: the pane shows what failed and the rest of the TUI
 * goes on (Ink would otherwise print the error and exit).
 */
import { Box, Text } from 'ink';
import React, { Component, type ReactNode } from 'react';

export interface ErrorBoundaryProps {
  /** Names the part that failed in the message. */
  label: string;
  /** Changing it (e.g. the selection) gives the part another try. */
  resetKey?: string | undefined;
  /** Told about the error, e.g. to show it in the status line. */
  onError?: (error: Error) => void;
  /** Colour of the message (the theme's error colour; none under NO_COLOR). */
  color?: string | undefined;
  children?: ReactNode;
}

interface ErrorBoundaryState {
  error: Error | undefined;
  resetKey: string | undefined;
}

export class ErrorBoundary extends Component<ErrorBoundaryProps, ErrorBoundaryState> {
  override state: ErrorBoundaryState = { error: undefined, resetKey: this.props.resetKey };

  static getDerivedStateFromError(error: Error): Partial<ErrorBoundaryState> {
    return { error };
  }

  static getDerivedStateFromProps(
    props: ErrorBoundaryProps,
    state: ErrorBoundaryState,
  ): Partial<ErrorBoundaryState> | null {
    return props.resetKey !== state.resetKey ? { error: undefined, resetKey: props.resetKey } : null;
  }

  override componentDidCatch(error: Error): void {
    this.props.onError?.(error);
  }

  override render() {
    if (this.state.error) {
      return (
        <Box flexDirection="column" paddingX={1}>
          <Text color={this.props.color} bold>
            {this.props.label} failed to draw: {this.state.error.message}
          </Text>
          <Text dimColor>
            The rest of Gantry goes on; switch panes or select something else to try again.
          </Text>
        </Box>
      );
    }
    return this.props.children;
  }
}
