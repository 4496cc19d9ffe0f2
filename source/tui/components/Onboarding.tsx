/**
 * First run on a machine with no images: offer the one image that needs no network, built from
 * this host's own binaries, so a newcomer has a running container within a minute. The box fits
 * the terminal: text wraps to its width, and the blank lines go first when rows are short.
 */
import { Text } from 'ink';
import React from 'react';
import { useTui } from '../context.js';
import { useTuiState } from '../hooks/use-tui-state.js';
import { DEFAULT_IMAGE_NAME } from '../state/form.js';
import { paneHeight } from '../state/layout.js';
import { wrapText } from '../state/messages.js';
import type { TuiState } from '../state/types.js';
import { Dialog } from './Dialog.js';

const selectOverlay = (state: TuiState) =>
  state.ui.overlay?.kind === 'onboarding' ? state.ui.overlay : undefined;
const selectSize = (state: TuiState) => state.ui.size;

const INTRO =
  "There are no images here yet. Gantry can make one now from this machine's own programs (a shell and the usual tools), without any network, in a few seconds:";
const SAME_AS = '(the same as `gantry image from-host gantry-host`)';
const NEXT = 'Then a form opens to run your first container from it.';

export function Onboarding() {
  const { theme } = useTui();
  const overlay = useTuiState(selectOverlay);
  const size = useTuiState(selectSize);
  if (!overlay) return null;
  const width = Math.min(size.columns - 4, 72);
  const inner = Math.max(10, width - 4);
  const intro = wrapText(INTRO, inner);
  const sameAs = wrapText(`  ${SAME_AS}`, inner);
  const next = wrapText(NEXT, inner);
  const keys = wrapText('Enter create it   Esc not now (c in Images does it later)', inner);
  const error = overlay.error ? wrapText(`✖ ${overlay.error}`, inner) : [];
  const text = 1 + intro.length + 1 + sameAs.length + next.length + error.length + keys.length;
  // The border takes two rows and the margin above one; blank lines fill what is left.
  const spare = paneHeight(size) - 3 - text;
  const blanks = Math.max(0, Math.min(4, spare));
  const compact = spare < 0;
  const blank = (index: number) => (blanks > index ? <Text> </Text> : null);
  return (
    <Dialog width={width} compact={compact}>
      <Text bold>Welcome to Gantry</Text>
      {blank(0)}
      {intro.map((line, index) => (
        <Text key={`intro-${index}`}>{line}</Text>
      ))}
      {blank(1)}
      <Text>
        {'  '}
        <Text color={theme.accent} bold>
          {DEFAULT_IMAGE_NAME}
        </Text>
      </Text>
      {sameAs.map((line, index) => (
        <Text key={`same-${index}`} dimColor>
          {line}
        </Text>
      ))}
      {blank(2)}
      {next.map((line, index) => (
        <Text key={`next-${index}`}>{line}</Text>
      ))}
      {blank(3)}
      {error.map((line, index) => (
        <Text key={`error-${index}`} color={theme.bad}>
          {line}
        </Text>
      ))}
      {overlay.creating ? (
        <Text color={theme.accent}>creating the image…</Text>
      ) : (
        <Text wrap="wrap">
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
