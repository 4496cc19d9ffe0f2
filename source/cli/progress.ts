/**
 * Pull and push progress: on a terminal one line per blob with a bar, redrawn in place at most
 * ten times a second; otherwise (logs, pipes, tests) one plain line per change of state, never
 * per byte. Plain ANSI, no ink: this runs on the CLI path.
 */
import type { TransferEvent } from '../runtime/images/registry/transfer.js';
import { humanSize } from './format.js';

type Stream = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

interface BlobLine {
  id: string;
  kind: 'layer' | 'config';
  status: string;
  current: number;
  total: number;
  active: boolean;
}

const REDRAW_INTERVAL_MS = 100;
const BAR_WIDTH = 40;

function shortDigest(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}

export class TransferProgress {
  private readonly lines = new Map<string, BlobLine>();
  private drawn = 0;
  private lastDraw = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly tty: boolean;

  constructor(
    private readonly stream: Stream,
    private readonly direction: 'pull' | 'push',
    options: { tty?: boolean } = {},
  ) {
    this.tty = options.tty ?? stream.isTTY === true;
  }

  private print(text: string): void {
    this.stream.write(`${text}\n`);
  }

  /** A line above the bars (finished lines scroll up, bars stay at the bottom). */
  private message(text: string): void {
    if (this.tty && this.drawn > 0) {
      this.stream.write(`\x1b[${this.drawn}A\x1b[J`);
      this.drawn = 0;
      this.print(text);
      this.draw(true);
    } else {
      this.print(text);
    }
  }

  handle(event: TransferEvent): void {
    switch (event.type) {
      case 'resolved':
        this.message(
          `${this.direction === 'pull' ? 'Pulling from' : 'Pushing to'} ${event.reference}` +
            (event.platform ? ` (platform ${event.platform})` : ''),
        );
        return;
      case 'storing':
        this.finishBars();
        this.print('Storing image (verifying and unpacking layers)');
        return;
      case 'manifest':
        this.finishBars();
        return;
      case 'blob':
        this.blob(event);
    }
  }

  private blob(event: Extract<TransferEvent, { type: 'blob' }>): void {
    const id = shortDigest(event.digest);
    const line = this.lines.get(id) ?? {
      id,
      kind: event.kind,
      status: '',
      current: 0,
      total: event.total,
      active: false,
    };
    this.lines.set(id, line);
    const previous = line.status;
    const pulling = this.direction === 'pull';
    line.current = event.current;
    line.total = event.total;
    line.active = event.phase === 'transferring';
    switch (event.phase) {
      case 'waiting':
        // docker's words: every layer of a pull starts as "Pulling fs layer".
        line.status = pulling ? 'Pulling fs layer' : 'Waiting';
        break;
      case 'exists':
        line.status = pulling ? 'Already exists' : 'Layer already exists';
        break;
      case 'mounted':
        line.status = 'Mounted from another repository';
        break;
      case 'transferring':
        line.status =
          event.resumedFrom && event.resumedFrom > 0
            ? `Resuming at ${humanSize(event.resumedFrom)}`
            : pulling
              ? 'Downloading'
              : 'Pushing';
        break;
      case 'retrying':
        line.status = `Retrying (${event.detail ?? 'connection problem'})`;
        break;
      case 'done':
        // The download's digest was checked as it streamed; docker says so before "Download complete".
        if (pulling && !this.tty) this.print(`${id}: Verifying Checksum`);
        line.status = pulling ? 'Download complete' : 'Pushed';
        break;
      case 'extracting':
        line.status = 'Extracting';
        break;
      case 'complete':
        line.status = 'Pull complete';
        break;
      case 'failed':
        line.status = `Failed: ${event.detail ?? 'error'}`;
        break;
    }
    if (this.tty) {
      this.draw(event.phase !== 'transferring');
    } else if (line.status !== previous) {
      this.print(`${id}: ${line.status}`);
    }
  }

  private render(line: BlobLine): string {
    const label = `${line.id}: ${line.status}`;
    if (!line.active || line.total <= 0) return label;
    const fraction = Math.min(1, line.current / line.total);
    const filled = Math.round(fraction * BAR_WIDTH);
    const bar = `[${'='.repeat(Math.max(0, filled - 1))}${filled > 0 ? '>' : ''}${' '.repeat(BAR_WIDTH - filled)}]`;
    return `${label.padEnd(34)} ${bar} ${humanSize(line.current)}/${humanSize(line.total)}`;
  }

  private draw(force: boolean): void {
    const now = Date.now();
    if (!force && now - this.lastDraw < REDRAW_INTERVAL_MS) {
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        this.draw(true);
      }, REDRAW_INTERVAL_MS);
      return;
    }
    this.lastDraw = now;
    // A pseudo-terminal without a size reports 0 columns.
    const width = Math.max(40, (this.stream.columns || 100) - 1);
    let output = this.drawn > 0 ? `\x1b[${this.drawn}A` : '';
    for (const line of this.lines.values()) output += `\x1b[2K${this.render(line).slice(0, width)}\n`;
    this.stream.write(output);
    this.drawn = this.lines.size;
  }

  private finishBars(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.tty && this.lines.size > 0) this.draw(true);
    this.drawn = 0;
    this.lines.clear();
  }

  /** Stops redrawing (call when the transfer ends, also on failure). */
  close(): void {
    this.finishBars();
  }
}
