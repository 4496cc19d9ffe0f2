/**
 * Loads what the Layers pane asks for: the stack (and then the efficiency analysis) when a
 * subject is opened, and a layer's file tree when the tree is opened or switched between the
 * layer's own changes and the aggregated view.
 */
import { useEffect } from 'react';
import { useTui } from '../context.js';
import { describeError } from '../state/limit-definitions.js';
import type { TuiState } from '../state/types.js';
import { useTuiState } from './use-tui-state.js';

/** How often a container's live writable layer is read again while the pane shows it. */
export const LIVE_LAYER_REFRESH_MS = 3000;

const selectSubject = (state: TuiState) => state.layers.subject;
const selectShowsLiveLayer = (state: TuiState) => {
  const subject = state.layers.subject;
  return (
    state.ui.pane === 'layers' &&
    subject?.kind === 'container' &&
    state.containers.records[subject.id]?.State.Status === 'running'
  );
};
const selectLoading = (state: TuiState) => state.layers.loading;
const selectAnalyzing = (state: TuiState) => state.layers.analyzing;
const selectStack = (state: TuiState) => state.layers.stack;
const selectTreeRequest = (state: TuiState) => {
  const tree = state.layers.tree;
  return tree?.loading ? `${tree.layer}:${tree.aggregated}` : undefined;
};

export function useLayers(): void {
  const { store, layerSource } = useTui();
  const subject = useTuiState(selectSubject);
  const loading = useTuiState(selectLoading);
  const treeRequest = useTuiState(selectTreeRequest);
  const analyzing = useTuiState(selectAnalyzing);
  const stack = useTuiState(selectStack);
  const showsLiveLayer = useTuiState(selectShowsLiveLayer);

  // A container's writable layer changes while it runs: read it again while it is on screen.
  useEffect(() => {
    if (!showsLiveLayer) return;
    const timer = setInterval(() => store.dispatch({ type: 'layers/refresh' }), LIVE_LAYER_REFRESH_MS);
    return () => clearInterval(timer);
  }, [store, showsLiveLayer]);

  useEffect(() => {
    if (!subject || !loading) return;
    let alive = true;
    void (async () => {
      try {
        const loaded = await layerSource.stack(subject);
        if (alive) store.dispatch({ type: 'layers/stackLoaded', subject, stack: loaded });
      } catch (error) {
        if (alive) store.dispatch({ type: 'layers/failed', subject, error: describeError(error) });
      }
    })();
    return () => {
      alive = false;
    };
  }, [store, layerSource, subject, loading]);

  // The analysis walks every layer: it follows the stack, and a newer stack supersedes it.
  useEffect(() => {
    if (!subject || !stack || !analyzing) return;
    let alive = true;
    void (async () => {
      try {
        const analysis = await layerSource.analyze(subject);
        if (alive) store.dispatch({ type: 'layers/analysisLoaded', subject, analysis });
      } catch (error) {
        if (alive) store.dispatch({ type: 'layers/failed', subject, error: describeError(error) });
      }
    })();
    return () => {
      alive = false;
    };
  }, [store, layerSource, subject, stack, analyzing]);

  useEffect(() => {
    if (!subject || !treeRequest) return;
    const [layerText, aggregatedText] = treeRequest.split(':');
    const layer = Number(layerText);
    const aggregated = aggregatedText === 'true';
    let alive = true;
    void (async () => {
      try {
        const root = await layerSource.tree(subject, layer, { aggregated });
        if (alive) store.dispatch({ type: 'layers/treeLoaded', layer, aggregated, root });
      } catch (error) {
        if (alive) store.dispatch({ type: 'layers/treeFailed', layer, error: describeError(error) });
      }
    })();
    return () => {
      alive = false;
    };
  }, [store, layerSource, subject, treeRequest]);
}
