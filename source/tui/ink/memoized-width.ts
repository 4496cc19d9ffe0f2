/**
 * Ink's widest-line (the width of a text's widest line) with a bounded cache. Ink measures every
 * text node again at every frame to decide whether it wraps: a whole table of unchanged rows, each
 * a grapheme segmentation where a row has a character beyond ASCII. Put in place of Ink's import
 * in render-node-to-output.js by scripts/lib/ink-output.mjs.
 */

/** Texts kept: every text node of a few screens. */
const CACHED_TEXTS = 4096;

/** `widestLine` with its results kept, least recently used dropped first. */
export function memoizeWidth(widestLine: (text: string) => number): (text: string) => number {
  const widths = new Map<string, number>();
  return (text) => {
    const cached = widths.get(text);
    if (cached !== undefined) {
      widths.delete(text);
      widths.set(text, cached);
      return cached;
    }
    const width = widestLine(text);
    widths.set(text, width);
    if (widths.size > CACHED_TEXTS) widths.delete(widths.keys().next().value!);
    return width;
  };
}
