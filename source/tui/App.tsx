/**
 * The whole screen: tabs, the pane (or a dialog in its place), status line and footer. The data
 * hooks run here once; panes only read the store.
 */
import { Box } from 'ink';
import React, { useCallback } from 'react';
import { ErrorBoundary } from './components/ErrorBoundary.js';
import { Footer } from './components/Footer.js';
import { HelpOverlay } from './components/HelpOverlay.js';
import { InspectView } from './components/InspectView.js';
import { PullView } from './components/PullView.js';
import { BuildView } from './components/BuildView.js';
import { MessageLog } from './components/MessageLog.js';
import { NewContainerForm } from './components/NewContainerForm.js';
import { Onboarding } from './components/Onboarding.js';
import { StatusLine } from './components/StatusLine.js';
import { TabBar } from './components/TabBar.js';
import { useTui } from './context.js';
import { useEngineSync } from './hooks/use-engine-sync.js';
import { useKeyHandler } from './hooks/use-key-handler.js';
import { useLayers } from './hooks/use-layers.js';
import { useLogs } from './hooks/use-logs.js';
import { useStatsSampler } from './hooks/use-stats-sampler.js';
import { useTerminalSize } from './hooks/use-terminal-size.js';
import { useTuiState } from './hooks/use-tui-state.js';
import { ContainersPane } from './panes/ContainersPane.js';
import { ImagesPane } from './panes/ImagesPane.js';
import { LayersPane } from './panes/LayersPane.js';
import { LimitsPane } from './panes/LimitsPane.js';
import { LogsPane } from './panes/LogsPane.js';
import { paneHeight } from './state/layout.js';
import type { PaneId, TuiState } from './state/types.js';

const PANE_COMPONENTS: Record<PaneId, () => React.JSX.Element> = {
  containers: ContainersPane,
  images: ImagesPane,
  layers: LayersPane,
  limits: LimitsPane,
  logs: LogsPane,
};

const selectPane = (state: TuiState) => state.ui.pane;
const selectOverlayKind = (state: TuiState) => state.ui.overlay?.kind;
const selectSize = (state: TuiState) => state.ui.size;
const selectSelection = (state: TuiState) => `${state.containers.selectedId}:${state.images.selectedId}`;

interface PaneBoundaryProps {
  label: string;
  /** What the reset key starts with (the pane and overlay shown). */
  shown: string;
  onError: (error: Error) => void;
  color: string | undefined;
  children: React.ReactNode;
}

/**
 * The pane's error boundary, given another try when the pane, the overlay or the selection
 * changes. It alone follows the selection: when App did, every cursor move re-rendered the whole
 * screen (tabs, status line, footer) for the two rows that changed.
 */
function PaneBoundary({ label, shown, onError, color, children }: PaneBoundaryProps) {
  const selection = useTuiState(selectSelection);
  return (
    <ErrorBoundary label={label} resetKey={`${shown}:${selection}`} onError={onError} color={color}>
      {children}
    </ErrorBoundary>
  );
}

export interface AppProps {
  /** Whether the app takes keys (false while a shell has the terminal). */
  interactive?: boolean;
}

export function App({ interactive = true }: AppProps) {
  const { store, theme } = useTui();
  useTerminalSize();
  useEngineSync();
  useStatsSampler();
  useLogs();
  useLayers();
  useKeyHandler({ isActive: interactive });
  const pane = useTuiState(selectPane);
  const overlay = useTuiState(selectOverlayKind);
  const size = useTuiState(selectSize);
  const reportError = useCallback(
    (error: Error) =>
      store.dispatch({
        type: 'ui/status',
        text: `display error: ${error.message}`,
        level: 'error',
        time: Date.now(),
      }),
    [store],
  );
  const Pane = PANE_COMPONENTS[pane];
  let body: React.JSX.Element;
  if (overlay === 'help') body = <HelpOverlay />;
  else if (overlay === 'messages') body = <MessageLog />;
  else if (overlay === 'form') body = <NewContainerForm />;
  else if (overlay === 'onboarding') body = <Onboarding />;
  else if (overlay === 'inspect') body = <InspectView />;
  else if (overlay === 'pull') body = <PullView />;
  else if (overlay === 'build') body = <BuildView />;
  else body = <Pane />;
  return (
    <Box flexDirection="column" width={size.columns} height={size.rows - 1}>
      <TabBar />
      <Box flexDirection="column" height={paneHeight(size)}>
        <PaneBoundary
          label={overlay ?? pane}
          shown={`${pane}:${overlay}`}
          onError={reportError}
          color={theme.bad}
        >
          {body}
        </PaneBoundary>
      </Box>
      <StatusLine />
      <Footer />
    </Box>
  );
}
