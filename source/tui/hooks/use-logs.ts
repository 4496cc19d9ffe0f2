/**
 * Follows the output of the container the Logs pane shows: the last lines, then new ones as the
 * monitor writes them, batched so a chatty container costs one render per batch.
 */
import { useEffect } from 'react';
import { useTui } from '../context.js';
import { logLineText } from '../format.js';
import { describeError } from '../state/limit-definitions.js';
import type { LogLine } from '../state/types.js';
import { useTuiState } from './use-tui-state.js';

const TAIL_LINES = 1000;
const BATCH_MS = 50;

const selectLogTarget = (state: { logs: { containerId: string | undefined } }) => state.logs.containerId;
const selectGeneration = (state: { logs: { generation: number } }) => state.logs.generation;

export function useLogs(): void {
  const { store, engine } = useTui();
  const containerId = useTuiState(selectLogTarget);
  // A new generation (the container restarted) follows the log again from its tail.
  const generation = useTuiState(selectGeneration);
  useEffect(() => {
    if (!containerId) return;
    const controller = new AbortController();
    let batch: Omit<LogLine, 'seq'>[] = [];
    let timer: NodeJS.Timeout | undefined;
    const flush = () => {
      timer = undefined;
      if (batch.length === 0 || controller.signal.aborted) return;
      const lines = batch;
      batch = [];
      store.dispatch({ type: 'logs/appended', containerId, lines });
    };
    void (async () => {
      try {
        for await (const entry of engine.logs(containerId, {
          follow: true,
          tail: TAIL_LINES,
          signal: controller.signal,
        })) {
          if (controller.signal.aborted) break;
          batch.push({ time: entry.time, stream: entry.stream, text: logLineText(entry.text) });
          timer ??= setTimeout(flush, BATCH_MS);
        }
        flush();
        if (!controller.signal.aborted) store.dispatch({ type: 'logs/ended', containerId });
      } catch (error) {
        flush();
        if (!controller.signal.aborted)
          store.dispatch({ type: 'logs/ended', containerId, error: describeError(error) });
      }
    })();
    return () => {
      controller.abort();
      clearTimeout(timer);
    };
  }, [store, engine, containerId, generation]);
}
