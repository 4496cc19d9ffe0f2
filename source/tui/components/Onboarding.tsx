/**
 * First run on a machine with no images: offer the one image that needs no network, built from
 * this host's own binaries, so a newcomer has a running container within a minute.
 */
import { Text } from 'ink';
import React from 'react';
import { useTui } from '../context.js';
import { useTuiState } from '../hooks/use-tui-state.js';
import { DEFAULT_IMAGE_NAME } from '../state/form.js';
import type { TuiState } from '../state/types.js';
import { Dialog } from './Dialog.js';

const selectOverlay = (state: TuiState) =>
  state.ui.overlay?.kind === 'onboarding' ? state.ui.overlay : undefined;
const selectColumns = (state: TuiState) => state.ui.size.columns;

export function Onboarding() {
  const { theme } = useTui();
  const overlay = useTuiState(selectOverlay);
  const columns = useTuiState(selectColumns);
  if (!overlay) return null;
  return (
    <Dialog width={Math.min(columns - 4, 72)}>
      <Text bold>Welcome to Gantry</Text>
      <Text> </Text>
      <Text>There are no images here yet. Gantry can make one now from this machine's own programs</Text>
      <Text>(a shell and the usual tools), without any network, in a few seconds:</Text>
      <Text> </Text>
      <Text>
        {'  '}
        <Text color={theme.accent} bold>
          {DEFAULT_IMAGE_NAME}
        </Text>
        <Text dimColor> (the same as `gantry image from-host gantry-host`)</Text>
      </Text>
      <Text> </Text>
      <Text>Then a form opens to run your first container from it.</Text>
      <Text> </Text>
      {overlay.error ? <Text color={theme.bad}>{`✖ ${overlay.error}`}</Text> : null}
      {overlay.creating ? (
        <Text color={theme.accent}>creating the image…</Text>
      ) : (
        <Text>
          <Text bold color={theme.accent}>
            Enter
          </Text>
          {' create it   '}
          <Text bold color={theme.accent}>
            Esc
          </Text>
          {' not now (c in Images does it later)'}
        </Text>
      )}
    </Dialog>
  );
}
