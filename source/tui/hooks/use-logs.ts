/**
 * Follows the output of the container the Logs pane shows: its tail (read backwards from the end
 * of the log, so the log's size does not matter), then new lines as the monitor writes them,
 * batched so a chatty container costs one render per batch; and a page of older lines whenever
 * the pane asks for one. Everything is cancelled at once when the pane closes or shows another
 * container.
 */
import { useEffect } from 'react';
import type { LogEntry } from '../../runtime/containers/logs.js';
import { useTui } from '../context.js';
import { describeError } from '../state/limit-definitions.js';
import { parseLogLine, plainText } from '../state/log-text.js';
import type { LogLine, TuiState } from '../state/types.js';
import { useTuiState } from './use-tui-state.js';

/** Lines read from the end when the pane opens, and per older page. */
export const TAIL_LINES = 1000;
export const OLDER_PAGE_LINES = 1000;
const BATCH_MS = 50;

const selectLogTarget = (state: TuiState) => state.logs.containerId;
const selectGeneration = (state: TuiState) => state.logs.generation;
const selectOlderRequest = (state: TuiState) => state.logs.olderRequest;

/** An entry as the pane holds it: plain text for search, colour segments only when it has colours. */
export function toLogLine(entry: LogEntry, colours: boolean): Omit<LogLine, 'seq'> {
  const segments = parseLogLine(entry.text, colours);
  const styled = segments.some((segment) => Object.keys(segment.style).length > 0);
  return {
    time: entry.time,
    stream: entry.stream,
    text: plainText(segments),
    ...(styled ? { segments } : {}),
    ...(entry.cursor ? { cursor: entry.cursor } : {}),
  };
}

export function useLogs(): void {
  const { store, engine, theme } = useTui();
  const containerId = useTuiState(selectLogTarget);
  // A new generation (the container restarted, or following resumed) reads the tail again.
  const generation = useTuiState(selectGeneration);
  const olderRequest = useTuiState(selectOlderRequest);
  const colours = theme.color;

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
          positions: true,
          signal: controller.signal,
          onStart: (older) => {
            if (!controller.signal.aborted)
              store.dispatch({ type: 'logs/olderExist', containerId, exist: older !== undefined });
          },
          onOlderUnsupported: (reason) => {
            if (!controller.signal.aborted)
              store.dispatch({ type: 'logs/olderUnsupported', containerId, reason });
          },
        })) {
          if (controller.signal.aborted) break;
          batch.push(toLogLine(entry, colours));
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
  }, [store, engine, containerId, generation, colours]);

  useEffect(() => {
    const logs = store.getState().logs;
    const cursor = logs.lines[0]?.cursor;
    if (!containerId || !logs.olderLoading || !cursor) return;
    const controller = new AbortController();
    void (async () => {
      try {
        const page = await engine.olderLogs(containerId, cursor, OLDER_PAGE_LINES, controller.signal);
        if (controller.signal.aborted) return;
        store.dispatch({
          type: 'logs/prepended',
          containerId,
          lines: page.entries.map((entry) => toLogLine(entry, colours)),
          older: page.olderBefore !== undefined,
        });
      } catch (error) {
        if (controller.signal.aborted) return;
        const text = describeError(error);
        store.dispatch({ type: 'logs/olderFailed', containerId, error: text });
        // The pane says an error only once the log ended: a failed page is said at once.
        store.dispatch({ type: 'ui/status', text, level: 'error', time: Date.now() });
      }
    })();
    return () => controller.abort();
    // A page per request; a new container or generation drops the request with its lines.
  }, [store, engine, containerId, generation, olderRequest, colours]);
}
