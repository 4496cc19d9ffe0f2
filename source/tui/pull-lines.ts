/**
 * A pull's progress as the lines `gantry pull` prints off a terminal (one per layer and state),
 * handed one by one to the TUI's pull view, whichever host pulls: the same words for this
 * machine's registry client and a remote host's progress events. Loaded on a pull's first use.
 */
import { TransferProgress } from '../cli/progress.js';
import type { TransferEvent } from '../runtime/images/registry/transfer.js';

export interface PullLines {
  handle(event: TransferEvent): void;
  close(): void;
}

export function pullLines(onLine: (line: string) => void): PullLines {
  let partial = '';
  const lines = {
    isTTY: false,
    write(chunk: string | Uint8Array) {
      const text = partial + String(chunk);
      const parts = text.split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) if (line) onLine(line);
      return true;
    },
  } as unknown as NodeJS.WritableStream;
  return new TransferProgress(lines, 'pull', { tty: false });
}
