/**
 * The TUI in a terminal whose locale is not UTF-8 (LANG=C): every character it writes is ASCII.
 * Each glyph the screens use has a one-column ASCII stand-in, so the layout Ink computed (one
 * column per glyph) stays exact; anything else (a container's own output, say) becomes "?".
 * Applied to what is written to the terminal, so no component has to know.
 */

const STAND_INS: Record<string, string> = {
  '…': '~',
  '›': '>',
  '‹': '<',
  '●': '*',
  '‖': '=',
  '○': 'o',
  '×': 'x',
  '■': '-',
  '✖': 'X',
  '◌': '~',
  '▲': '^',
  '▼': 'v',
  '▾': 'v',
  '▸': '>',
  '→': '>',
  '←': '<',
  '↑': '^',
  '↓': 'v',
  '·': '.',
  '•': '*',
  '≤': '<',
  '≥': '>',
  '’': "'",
  '‘': "'",
  '“': '"',
  '”': '"',
  '—': '-',
  '–': '-',
  '─': '-',
  '━': '-',
  '│': '|',
  '┃': '|',
  '├': '|',
  '┤': '|',
  '└': '`',
  '┘': '+',
  '┌': '+',
  '┐': '+',
  '┬': '+',
  '┴': '+',
  '┼': '+',
  '╭': '+',
  '╮': '+',
  '╰': '+',
  '╯': '+',
  '┈': '-',
  '┊': ':',
  '░': '.',
  '▁': '_',
  '▂': '_',
  '▃': '.',
  '▄': '-',
  '▅': '-',
  '▆': '=',
  '▇': '=',
  '█': '#',
  '▉': '#',
  '▊': '#',
  '▋': '=',
  '▌': '=',
  '▍': '-',
  '▎': '-',
  '▏': '.',
  '✓': 'v',
  '⚠': '!',
};

/** Characters a terminal draws two columns wide (CJK, emoji): "??" keeps the layout. */
const WIDE =
  /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{1f300}-\u{1faff}]/u;

/** Whether the locale (LC_ALL, else LC_CTYPE, else LANG; unset is "C") has UTF-8 characters. */
export function isUtf8Locale(env: NodeJS.ProcessEnv): boolean {
  const locale = env.LC_ALL || env.LC_CTYPE || env.LANG || '';
  return /utf-?8/i.test(locale);
}

/** `text` with every character beyond ASCII replaced by its stand-in. */
export function toAscii(text: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\u0000-\u007f]*$/.test(text)) return text;
  let out = '';
  for (const char of text) {
    if (char.charCodeAt(0) < 0x80) out += char;
    else out += STAND_INS[char] ?? (WIDE.test(char) ? '??' : '?');
  }
  return out;
}

/**
 * Makes every write to `stdout` ASCII until the returned function is called. (Ink writes frames
 * as strings; a Buffer is passed on as it is.)
 */
export function asciiOutput(stdout: NodeJS.WriteStream): () => void {
  const original = stdout.write;
  const write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
    const converted = typeof chunk === 'string' ? toAscii(chunk) : chunk;
    return (original as (...args: unknown[]) => boolean).call(this, converted, ...rest);
  };
  stdout.write = write as typeof stdout.write;
  return () => {
    if (stdout.write === write) stdout.write = original;
  };
}
