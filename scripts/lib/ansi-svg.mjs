// Renders a terminal screen captured with `tmux capture-pane -e -p` (text with SGR escape
// sequences) as an SVG picture of a terminal window. No dependencies, so screenshots can be
// regenerated offline; the palettes are xterm's defaults for a dark and a light background.

const DARK = {
  background: '#1d1f21',
  foreground: '#d7dae0',
  chrome: '#2b2d31',
  colors: [
    '#1d1f21',
    '#e06c75',
    '#98c379',
    '#e5c07b',
    '#61afef',
    '#c678dd',
    '#56b6c2',
    '#d7dae0',
    '#5c6370',
    '#ef7b85',
    '#a8d58a',
    '#f0cd8a',
    '#74bdf7',
    '#d48ae7',
    '#6cc9d5',
    '#ffffff',
  ],
};
const LIGHT = {
  background: '#fafafa',
  foreground: '#383a42',
  chrome: '#e5e5e6',
  colors: [
    '#383a42',
    '#c8272d',
    '#3c8a2e',
    '#a36d00',
    '#2f5fd0',
    '#a626a4',
    '#0b7f8c',
    '#d0d0d0',
    '#696c77',
    '#d73a49',
    '#50a14f',
    '#c18401',
    '#4078f2',
    '#b751b6',
    '#0997b3',
    '#fafafa',
  ],
};

const LOWER_BLOCKS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
const LEFT_BLOCKS = ['▏', '▎', '▍', '▌', '▋', '▊', '▉'];

function xterm256(index, palette) {
  if (index < 16) return palette.colors[index];
  if (index < 232) {
    const value = index - 16;
    const level = (n) => (n === 0 ? 0 : 55 + n * 40);
    const [r, g, b] = [Math.floor(value / 36), Math.floor(value / 6) % 6, value % 6].map(level);
    return `rgb(${r},${g},${b})`;
  }
  const gray = 8 + (index - 232) * 10;
  return `rgb(${gray},${gray},${gray})`;
}

function escapeXml(text) {
  return text.replace(
    /[<>&'"]/g,
    (char) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[char],
  );
}

/** Parses SGR-coloured text into rows of cells. */
export function parseAnsi(text, palette) {
  const rows = [];
  let row = [];
  const reset = () => ({
    fg: undefined,
    bg: undefined,
    bold: false,
    dim: false,
    italic: false,
    underline: false,
    inverse: false,
  });
  let style = reset();
  for (let index = 0; index < text.length; index += 1) {
    const char = text[index];
    if (char === '\u001b' && text[index + 1] === '[') {
      const end = text.slice(index + 2).search(/[A-Za-z]/);
      if (end < 0) break;
      const command = text[index + 2 + end];
      const params = text.slice(index + 2, index + 2 + end);
      index += 2 + end;
      if (command !== 'm') continue;
      const codes = params === '' ? [0] : params.split(/[;:]/).map(Number);
      for (let at = 0; at < codes.length; at += 1) {
        const code = codes[at];
        if (code === 0) style = reset();
        else if (code === 1) style.bold = true;
        else if (code === 2) style.dim = true;
        else if (code === 3) style.italic = true;
        else if (code === 4) style.underline = true;
        else if (code === 7) style.inverse = true;
        else if (code === 22) style.bold = style.dim = false;
        else if (code === 23) style.italic = false;
        else if (code === 24) style.underline = false;
        else if (code === 27) style.inverse = false;
        else if (code >= 30 && code <= 37) style.fg = palette.colors[code - 30];
        else if (code === 39) style.fg = undefined;
        else if (code >= 40 && code <= 47) style.bg = palette.colors[code - 40];
        else if (code === 49) style.bg = undefined;
        else if (code >= 90 && code <= 97) style.fg = palette.colors[code - 90 + 8];
        else if (code >= 100 && code <= 107) style.bg = palette.colors[code - 100 + 8];
        else if ((code === 38 || code === 48) && codes[at + 1] === 5) {
          const color = xterm256(codes[at + 2], palette);
          if (code === 38) style.fg = color;
          else style.bg = color;
          at += 2;
        } else if ((code === 38 || code === 48) && codes[at + 1] === 2) {
          const color = `rgb(${codes[at + 2]},${codes[at + 3]},${codes[at + 4]})`;
          if (code === 38) style.fg = color;
          else style.bg = color;
          at += 4;
        }
      }
      continue;
    }
    if (char === '\n') {
      rows.push(row);
      row = [];
      continue;
    }
    row.push({ char, ...style });
  }
  if (row.length > 0) rows.push(row);
  return rows;
}

/**
 * @param {string} text captured screen
 * @param {{ columns: number, rows: number, title?: string, theme?: 'dark' | 'light' }} options
 */
export function ansiToSvg(text, { columns, rows: height, title = 'gantry', theme = 'dark' }) {
  const palette = theme === 'light' ? LIGHT : DARK;
  const cellWidth = 8.4;
  const cellHeight = 18;
  const fontSize = 14;
  const padding = 12;
  const titleBar = 30;
  const width = Math.ceil(columns * cellWidth + padding * 2);
  const totalHeight = Math.ceil(height * cellHeight + padding * 2 + titleBar);
  const rows = parseAnsi(text, palette).slice(0, height);
  const backgrounds = [];
  const texts = [];
  rows.forEach((cells, y) => {
    const resolved = cells.slice(0, columns).map((cell) => {
      let fg = cell.fg ?? palette.foreground;
      let bg = cell.bg;
      if (cell.inverse) [fg, bg] = [bg ?? palette.background, fg];
      return { ...cell, fg, bg };
    });
    const top = padding + titleBar + y * cellHeight;
    // Backgrounds: runs of one colour.
    for (let x = 0; x < resolved.length;) {
      const bg = resolved[x].bg;
      let end = x + 1;
      while (end < resolved.length && resolved[end].bg === bg) end += 1;
      if (bg)
        backgrounds.push(
          `<rect x="${(padding + x * cellWidth).toFixed(1)}" y="${top}" width="${((end - x) * cellWidth).toFixed(1)}" height="${cellHeight}" fill="${bg}"/>`,
        );
      x = end;
    }
    // Block elements (bars, gauges, charts) are drawn as rectangles: a font's glyphs would leave
    // gaps between rows and vary from font to font.
    resolved.forEach((cell, column) => {
      const left = padding + column * cellWidth;
      const lower = LOWER_BLOCKS.indexOf(cell.char);
      const leftBlock = LEFT_BLOCKS.indexOf(cell.char);
      const opacity = cell.dim ? ' opacity="0.6"' : '';
      if (lower >= 0) {
        const height = ((lower + 1) / 8) * cellHeight;
        backgrounds.push(
          `<rect x="${left.toFixed(1)}" y="${(top + cellHeight - height).toFixed(1)}" width="${cellWidth.toFixed(1)}" height="${height.toFixed(1)}" fill="${cell.fg}"${opacity}/>`,
        );
        cell.char = ' ';
      } else if (leftBlock >= 0) {
        backgrounds.push(
          `<rect x="${left.toFixed(1)}" y="${top}" width="${(((leftBlock + 1) / 8) * cellWidth).toFixed(1)}" height="${cellHeight}" fill="${cell.fg}"${opacity}/>`,
        );
        cell.char = ' ';
      } else if (cell.char === '░') {
        backgrounds.push(
          `<rect x="${left.toFixed(1)}" y="${top + 4}" width="${cellWidth.toFixed(1)}" height="${cellHeight - 8}" fill="${cell.fg}" opacity="0.2"/>`,
        );
        cell.char = ' ';
      }
    });
    // Text: runs of one style, each stretched to its cells so columns line up whatever the font.
    for (let x = 0; x < resolved.length;) {
      const cell = resolved[x];
      const key = `${cell.fg}|${cell.bold}|${cell.dim}|${cell.italic}|${cell.underline}`;
      let end = x + 1;
      while (
        end < resolved.length &&
        `${resolved[end].fg}|${resolved[end].bold}|${resolved[end].dim}|${resolved[end].italic}|${resolved[end].underline}` ===
          key
      )
        end += 1;
      // Each word at its own cell: a long stretched run drifts in renderers that space glyphs
      // their own way.
      for (let start = x; start < end;) {
        if (resolved[start].char === ' ') {
          start += 1;
          continue;
        }
        let stop = start + 1;
        while (stop < end && resolved[stop].char !== ' ') stop += 1;
        const word = resolved
          .slice(start, stop)
          .map((item) => item.char)
          .join('');
        const attributes = [
          `x="${(padding + start * cellWidth).toFixed(1)}"`,
          `y="${top + cellHeight - 5}"`,
          `fill="${cell.fg}"`,
          `textLength="${((stop - start) * cellWidth).toFixed(1)}"`,
          'lengthAdjust="spacingAndGlyphs"',
          cell.bold ? 'font-weight="bold"' : '',
          cell.dim ? 'opacity="0.6"' : '',
          cell.italic ? 'font-style="italic"' : '',
          cell.underline ? 'text-decoration="underline"' : '',
        ].filter(Boolean);
        texts.push(`<text ${attributes.join(' ')}>${escapeXml(word)}</text>`);
        start = stop;
      }
      x = end;
    }
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${totalHeight}" viewBox="0 0 ${width} ${totalHeight}" role="img" aria-label="${escapeXml(title)}">
<rect width="${width}" height="${totalHeight}" rx="8" fill="${palette.background}"/>
<path d="M0 8a8 8 0 0 1 8-8h${width - 16}a8 8 0 0 1 8 8v${titleBar - 8}h-${width}z" fill="${palette.chrome}"/>
<circle cx="18" cy="15" r="6" fill="#ff5f57"/><circle cx="38" cy="15" r="6" fill="#febc2e"/><circle cx="58" cy="15" r="6" fill="#28c840"/>
<text x="${width / 2}" y="20" text-anchor="middle" fill="${palette.foreground}" opacity="0.7" font-family="system-ui, sans-serif" font-size="12">${escapeXml(title)}</text>
<g font-family="'DejaVu Sans Mono', 'Menlo', 'Consolas', 'Liberation Mono', monospace" font-size="${fontSize}" xml:space="preserve">
${backgrounds.join('\n')}
${texts.join('\n')}
</g>
</svg>
`;
}
