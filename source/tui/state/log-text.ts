/**
 * A log line as the Logs pane shows it: the text a container printed, with its SGR colours kept
 * as styled segments (cursor movement, screen clears and other escapes dropped, so they cannot
 * move the pane's cursor), tabs expanded, a carriage-return progress line reduced to what it
 * showed last, and cut at a length a pane can hold. Plus the column arithmetic that wrapping and
 * sideways scrolling need.
 */

/** The text attributes SGR sets that the pane can draw. */
export interface SgrStyle {
  color?: string;
  backgroundColor?: string;
  bold?: boolean;
  dim?: boolean;
  italic?: boolean;
  underline?: boolean;
  inverse?: boolean;
  strikethrough?: boolean;
}

export interface StyledSegment {
  text: string;
  style: SgrStyle;
}

/** A line longer than this is cut (the log on disk keeps all of it). */
export const MAX_LINE_CHARS = 16_384;
const TAB_WIDTH = 8;

const NAMES = ['black', 'red', 'green', 'yellow', 'blue', 'magenta', 'cyan', 'white'];
const BRIGHT = NAMES.map((name) => `${name === 'black' ? 'gray' : `${name}Bright`}`);

const ESCAPES =
  // eslint-disable-next-line no-control-regex
  /\u001b\[([0-?]*)([ -/]*)([@-~])|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|\u001b[@-Z\\-_]?/g;
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f]/g;

/** Applies one SGR parameter list to `style` (a copy). */
function applySgr(style: SgrStyle, parameters: string): SgrStyle {
  const codes = parameters === '' ? [0] : parameters.split(/[;:]/).map((code) => Number(code || 0));
  let next: SgrStyle = { ...style };
  for (let index = 0; index < codes.length; index++) {
    const code = codes[index]!;
    if (code === 0) next = {};
    else if (code === 1) next.bold = true;
    else if (code === 2) next.dim = true;
    else if (code === 3) next.italic = true;
    else if (code === 4) next.underline = true;
    else if (code === 7) next.inverse = true;
    else if (code === 9) next.strikethrough = true;
    else if (code === 22) next = { ...next, bold: false, dim: false };
    else if (code === 23) next.italic = false;
    else if (code === 24) next.underline = false;
    else if (code === 27) next.inverse = false;
    else if (code === 29) next.strikethrough = false;
    else if (code >= 30 && code <= 37) next.color = NAMES[code - 30]!;
    else if (code >= 90 && code <= 97) next.color = BRIGHT[code - 90]!;
    else if (code >= 40 && code <= 47) next.backgroundColor = NAMES[code - 40]!;
    else if (code >= 100 && code <= 107) next.backgroundColor = BRIGHT[code - 100]!;
    else if (code === 39) delete next.color;
    else if (code === 49) delete next.backgroundColor;
    else if (code === 38 || code === 48) {
      const key = code === 38 ? 'color' : 'backgroundColor';
      if (codes[index + 1] === 5 && codes[index + 2] !== undefined) {
        next[key] = `ansi256(${codes[index + 2]})`;
        index += 2;
      } else if (codes[index + 1] === 2 && codes[index + 4] !== undefined) {
        next[key] = `rgb(${codes[index + 2]},${codes[index + 3]},${codes[index + 4]})`;
        index += 4;
      }
    }
  }
  // Attributes turned off are dropped, so equal styles compare equal.
  for (const key of Object.keys(next) as (keyof SgrStyle)[]) if (next[key] === false) delete next[key];
  return next;
}

function expandTabs(text: string, column: number): { text: string; column: number } {
  if (!text.includes('\t')) return { text, column: column + text.length };
  let out = '';
  for (const char of text) {
    if (char === '\t') {
      const spaces = TAB_WIDTH - (column % TAB_WIDTH);
      out += ' '.repeat(spaces);
      column += spaces;
    } else {
      out += char;
      column += 1;
    }
  }
  return { text: out, column };
}

/**
 * The line as segments of equal style. `colours` false (a mono terminal) keeps the text and
 * drops the styles.
 */
export function parseLogLine(raw: string, colours = true): StyledSegment[] {
  let line = raw.replace(/\r?\n$/, '');
  // A progress bar redraws with \r: what it showed last is what a terminal would show.
  const lastReturn = line.replace(/\r+$/, '').lastIndexOf('\r');
  if (lastReturn >= 0) line = line.slice(lastReturn + 1);
  line = line.replace(/\r/g, '');
  const segments: StyledSegment[] = [];
  let style: SgrStyle = {};
  let column = 0;
  let length = 0;
  const push = (text: string) => {
    const cleaned = text.replace(CONTROLS, '');
    if (!cleaned || length >= MAX_LINE_CHARS) return;
    const expanded = expandTabs(cleaned, column);
    column = expanded.column;
    const piece = expanded.text.slice(0, MAX_LINE_CHARS - length);
    length += piece.length;
    const last = segments[segments.length - 1];
    if (last && sameStyle(last.style, style)) last.text += piece;
    else segments.push({ text: piece, style: colours ? style : {} });
  };
  let position = 0;
  for (const match of line.matchAll(ESCAPES)) {
    push(line.slice(position, match.index));
    position = match.index + match[0].length;
    if (colours && match[3] === 'm' && match[2] === '') style = applySgr(style, match[1] ?? '');
  }
  push(line.slice(position));
  if (length >= MAX_LINE_CHARS) segments.push({ text: ' …', style: { dim: true } });
  return segments;
}

function sameStyle(a: SgrStyle, b: SgrStyle): boolean {
  const keys = Object.keys(a) as (keyof SgrStyle)[];
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}

export function plainText(segments: readonly StyledSegment[]): string {
  return segments.map((segment) => segment.text).join('');
}

/** Columns a character takes in a terminal: 2 for wide East Asian ones and emoji, 0 for combining marks. */
export function charWidth(codePoint: number): number {
  if (
    (codePoint >= 0x300 && codePoint <= 0x36f) ||
    (codePoint >= 0x200b && codePoint <= 0x200f) ||
    (codePoint >= 0xfe00 && codePoint <= 0xfe0f) ||
    (codePoint >= 0xfe20 && codePoint <= 0xfe2f)
  )
    return 0;
  if (
    (codePoint >= 0x1100 && codePoint <= 0x115f) ||
    (codePoint >= 0x2e80 && codePoint <= 0xa4cf && codePoint !== 0x303f) ||
    (codePoint >= 0xac00 && codePoint <= 0xd7a3) ||
    (codePoint >= 0xf900 && codePoint <= 0xfaff) ||
    (codePoint >= 0xfe30 && codePoint <= 0xfe4f) ||
    (codePoint >= 0xff00 && codePoint <= 0xff60) ||
    (codePoint >= 0xffe0 && codePoint <= 0xffe6) ||
    (codePoint >= 0x1f300 && codePoint <= 0x1f64f) ||
    (codePoint >= 0x1f900 && codePoint <= 0x1f9ff) ||
    (codePoint >= 0x20000 && codePoint <= 0x3fffd)
  )
    return 2;
  return 1;
}

export function textWidth(text: string): number {
  let width = 0;
  for (const char of text) width += charWidth(char.codePointAt(0)!);
  return width;
}

/** A run of the line to draw: its text, style, and whether it is part of a search match. */
export interface LinePart {
  text: string;
  style: SgrStyle;
  match: boolean;
}

/** The segments split where case-insensitive matches of `needle` begin and end. */
export function markMatches(segments: readonly StyledSegment[], needle: string): LinePart[] {
  const parts: LinePart[] = [];
  if (!needle) {
    for (const segment of segments) parts.push({ ...segment, match: false });
    return parts;
  }
  const text = plainText(segments).toLowerCase();
  const target = needle.toLowerCase();
  const ranges: [number, number][] = [];
  for (let found = text.indexOf(target); found >= 0; found = text.indexOf(target, found + target.length))
    ranges.push([found, found + target.length]);
  let offset = 0;
  for (const segment of segments) {
    const end = offset + segment.text.length;
    let cut = offset;
    for (const [from, to] of ranges) {
      if (to <= cut || from >= end) continue;
      if (from > cut)
        parts.push({
          text: segment.text.slice(cut - offset, from - offset),
          style: segment.style,
          match: false,
        });
      const stop = Math.min(to, end);
      parts.push({
        text: segment.text.slice(Math.max(from, cut) - offset, stop - offset),
        style: segment.style,
        match: true,
      });
      cut = stop;
    }
    if (cut < end) parts.push({ text: segment.text.slice(cut - offset), style: segment.style, match: false });
    offset = end;
  }
  return parts;
}

/**
 * The parts cut into rows of `width` columns (wrapping), or the one row seen from column `from`
 * on (`wrap` false: sideways scrolling). A wide character never straddles a row's edge.
 */
export function layoutParts(
  parts: readonly LinePart[],
  width: number,
  wrap: boolean,
  from = 0,
): LinePart[][] {
  const rows: LinePart[][] = [[]];
  let column = 0;
  let skipped = 0;
  for (const part of parts) {
    let text = '';
    const flush = () => {
      if (text) rows[rows.length - 1]!.push({ ...part, text });
      text = '';
    };
    for (const char of part.text) {
      const size = charWidth(char.codePointAt(0)!);
      if (!wrap && skipped < from) {
        skipped += Math.max(size, 1);
        continue;
      }
      if (column + size > width) {
        if (!wrap) {
          flush();
          return rows;
        }
        flush();
        rows.push([]);
        column = 0;
      }
      text += char;
      column += size;
    }
    flush();
  }
  return rows;
}

/** Rows a line takes when wrapped at `width` columns (at least one). */
export function wrappedRows(text: string, width: number): number {
  return Math.max(1, Math.ceil(textWidth(text) / Math.max(1, width)));
}
