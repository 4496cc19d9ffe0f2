/**
 * Ink's frame buffer (its `Output` class) with a cache of finished rows that outlives the frame.
 *
 * Ink draws every frame from scratch: each string written is split into styled characters, laid
 * into a width x height grid of cell objects, and every row is joined back into a string. At 120x40
 * that was about 85% of what a key cost the TUI, although a key changes two rows of the table. A
 * row's text depends only on the width and on the pieces written to that row (each piece's column
 * and its line of text after clipping and transformers, in order), so this class works out the
 * pieces of each row first, which is cheap, and only a row whose pieces no recent frame had goes
 * through Ink's own Output (a one-row grid), so every frame is exactly what Ink would have drawn.
 *
 * The bundler (scripts/build.mjs) and the tests (vitest.config.ts) put it in place of
 * ink/build/output.js through scripts/lib/ink-output.mjs, which hands it Ink's own class and
 * string functions.
 */

/** A function Ink applies to each line of a node's text (colours, <Transform>). */
export type OutputTransformer = (line: string, index: number) => string;

/** Where writes are cut off (a Box with overflow hidden); undefined sides do not clip. */
export interface OutputClip {
  x1: number | undefined;
  x2: number | undefined;
  y1: number | undefined;
  y2: number | undefined;
}

/** What Ink's renderer calls on its output (the interface of ink/build/output.js). */
export interface InkOutput {
  readonly width: number;
  readonly height: number;
  write(x: number, y: number, text: string, options: { transformers: OutputTransformer[] }): void;
  clip(clip: OutputClip): void;
  unclip(): void;
  get(): { output: string; height: number };
}

export type InkOutputClass = new (options: { width: number; height: number }) => InkOutput;

/** Ink's own pieces, so rows are measured, cut and drawn exactly as Ink does. */
export interface InkOutputParts {
  /** Ink's original Output class. */
  Output: InkOutputClass;
  sliceAnsi: (text: string, start?: number, end?: number) => string;
  stringWidth: (text: string) => number;
}

type Operation =
  | { type: 'write'; x: number; y: number; text: string; transformers: OutputTransformer[] }
  | { type: 'clip'; clip: OutputClip }
  | { type: 'unclip' };

/** Rows kept: several screens, so scrolling by a line finds the rows it moves. */
const CACHED_ROWS = 2048;

/**
 * Finished rows by their width and pieces, least recently used first. Shared by every frame (Ink
 * makes a new Output per frame) and every Ink instance: a row is a pure function of its key.
 */
const rowCache = new Map<string, string>();

/** How many rows were drawn by Ink's Output and how many came from the cache (for tests). */
export const rowCacheCounts = { drawn: 0, reused: 0 };

/** Forgets every cached row (tests that count draws start from an empty cache). */
export function clearRowCache(): void {
  rowCache.clear();
  rowCacheCounts.drawn = 0;
  rowCacheCounts.reused = 0;
}

/** Ink's Output with the row cache in front of it; see the file comment. */
export function lineCachedOutput({ Output, sliceAnsi, stringWidth }: InkOutputParts): InkOutputClass {
  const widestLine = (text: string) => {
    let widest = 0;
    for (const line of text.split('\n')) widest = Math.max(widest, stringWidth(line));
    return widest;
  };

  return class LineCachedOutput implements InkOutput {
    readonly width: number;
    readonly height: number;
    private readonly operations: Operation[] = [];

    constructor({ width, height }: { width: number; height: number }) {
      this.width = width;
      this.height = height;
    }

    write(x: number, y: number, text: string, { transformers }: { transformers: OutputTransformer[] }) {
      if (!text) return;
      this.operations.push({ type: 'write', x, y, text, transformers });
    }

    clip(clip: OutputClip) {
      this.operations.push({ type: 'clip', clip });
    }

    unclip() {
      this.operations.push({ type: 'unclip' });
    }

    get(): { output: string; height: number } {
      // Each row's pieces as its cache key (`column:length:text` each), and the pieces themselves.
      const keys: string[] = new Array<string>(this.height).fill('');
      const pieces: { x: number; line: string }[][] = Array.from({ length: this.height }, () => []);
      const clips: OutputClip[] = [];
      for (const operation of this.operations) {
        if (operation.type === 'clip') clips.push(operation.clip);
        else if (operation.type === 'unclip') clips.pop();
        else this.place(operation, clips.at(-1), keys, pieces);
      }
      const rows = keys.map((key, y) => (key === '' ? '' : this.row(key, pieces[y]!)));
      return { output: rows.join('\n'), height: this.height };
    }

    /** Ink's clipping and transformers for one write, row by row (the same steps as Ink's get). */
    private place(
      { x: startX, y: startY, text, transformers }: Extract<Operation, { type: 'write' }>,
      clip: OutputClip | undefined,
      keys: string[],
      pieces: { x: number; line: string }[][],
    ) {
      let x = startX;
      let y = startY;
      let lines = text.split('\n');
      if (clip) {
        const clipHorizontally = typeof clip.x1 === 'number' && typeof clip.x2 === 'number';
        const clipVertically = typeof clip.y1 === 'number' && typeof clip.y2 === 'number';
        if (clipHorizontally && (x + widestLine(text) < clip.x1! || x > clip.x2!)) return;
        if (clipVertically && (y + lines.length < clip.y1! || y > clip.y2!)) return;
        if (clipHorizontally) {
          const x1 = clip.x1!;
          const x2 = clip.x2!;
          lines = lines.map((line) => {
            const from = x < x1 ? x1 - x : 0;
            const width = stringWidth(line);
            const to = x + width > x2 ? x2 - x : width;
            return sliceAnsi(line, from, to);
          });
          if (x < x1) x = x1;
        }
        if (clipVertically) {
          const y1 = clip.y1!;
          const y2 = clip.y2!;
          const from = y < y1 ? y1 - y : 0;
          const to = y + lines.length > y2 ? y2 - y : lines.length;
          lines = lines.slice(from, to);
          if (y < y1) y = y1;
        }
      }
      // As in Ink: a line outside the grid is skipped without moving on to the next row, so a
      // write that starts above the grid draws nothing and one that runs past its end is cut.
      let offsetY = 0;
      for (const [index, original] of lines.entries()) {
        const row = y + offsetY;
        if (pieces[row] === undefined) continue;
        let line = original;
        for (const transformer of transformers) line = transformer(line, index);
        keys[row] += `${x}:${line.length}:${line}`;
        pieces[row]!.push({ x, line });
        offsetY += 1;
      }
    }

    /** One row's text: from the cache, or drawn by Ink's Output as a one-row grid. */
    private row(pieceKey: string, rowPieces: readonly { x: number; line: string }[]): string {
      const key = `${this.width}|${pieceKey}`;
      const cached = rowCache.get(key);
      if (cached !== undefined) {
        // Most recently used last, so the oldest row is the first to go.
        rowCache.delete(key);
        rowCache.set(key, cached);
        rowCacheCounts.reused += 1;
        return cached;
      }
      const one = new Output({ width: this.width, height: 1 });
      // The line is already clipped and transformed: written as one line that the transformer
      // replaces whole, because an empty line (which Ink draws when a transformer fills it) is
      // not written at all and a transformer's output is not split again.
      for (const { x, line } of rowPieces) one.write(x, 0, ' ', { transformers: [() => line] });
      const drawn = one.get().output;
      rowCache.set(key, drawn);
      if (rowCache.size > CACHED_ROWS) rowCache.delete(rowCache.keys().next().value!);
      rowCacheCounts.drawn += 1;
      return drawn;
    }
  };
}
