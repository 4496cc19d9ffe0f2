// Changes two of Ink's files as they are bundled (scripts/build.mjs) or loaded by the tests
// (vitest.config.ts), so both draw the same frames:
//   - ink/build/output.js keeps its code but exports the TUI's row-caching frame buffer
//     (source/tui/ink/line-cached-output.ts) wrapped around it, handing it Ink's own class,
//     sliceAnsi and stringWidth;
//   - ink/build/render-node-to-output.js measures texts through a cache
//     (source/tui/ink/memoized-width.ts).
// Each change checks that Ink's file still reads as expected and fails the build otherwise.
import path from 'node:path';

const tuiInk = path.resolve(import.meta.dirname, '..', '..', 'source', 'tui', 'ink');

/** Ink's output.js, wherever npm put it. */
export const INK_OUTPUT_FILE = /[\\/]node_modules[\\/]ink[\\/]build[\\/]output\.js$/;
/** Ink's render-node-to-output.js. */
export const INK_RENDER_NODE_FILE = /[\\/]node_modules[\\/]ink[\\/]build[\\/]render-node-to-output\.js$/;
/** Both. */
export const INK_PATCHED_FILES =
  /[\\/]node_modules[\\/]ink[\\/]build[\\/](output|render-node-to-output)\.js$/;

function expect(source, file, lines) {
  const missing = lines.filter((line) => !source.includes(line));
  if (missing.length > 0)
    throw new Error(
      `ink/build/${file} changed (no ${missing.map((line) => JSON.stringify(line)).join(', ')}): ` +
        `check source/tui/ink/ against the installed Ink before building`,
    );
}

const withoutSourceMap = (source) => source.replace(/^\/\/# sourceMappingURL=.*$/m, '');

/** The text of Ink's output.js with its Output wrapped. */
export function withLineCache(source) {
  expect(source, 'output.js', [
    "import sliceAnsi from 'slice-ansi';",
    "import stringWidth from 'string-width';",
    'export default class Output {',
  ]);
  const module = JSON.stringify(path.join(tuiInk, 'line-cached-output.ts'));
  return (
    withoutSourceMap(source.replace('export default class Output {', 'class Output {')) +
    `\nimport { lineCachedOutput as gantryLineCachedOutput } from ${module};\n` +
    'export default gantryLineCachedOutput({ Output, sliceAnsi, stringWidth });\n'
  );
}

/** The text of Ink's render-node-to-output.js with widestLine memoised. */
export function withMemoizedWidth(source) {
  const declaration = "import widestLine from 'widest-line';";
  expect(source, 'render-node-to-output.js', [declaration]);
  const module = JSON.stringify(path.join(tuiInk, 'memoized-width.ts'));
  return withoutSourceMap(
    source.replace(
      declaration,
      "import gantryWidestLine from 'widest-line';\n" +
        `import { memoizeWidth as gantryMemoizeWidth } from ${module};\n` +
        'const widestLine = gantryMemoizeWidth(gantryWidestLine);',
    ),
  );
}

/** Ink's file at `file` as the TUI runs it. */
export function patchInk(file, source) {
  if (INK_OUTPUT_FILE.test(file)) return withLineCache(source);
  if (INK_RENDER_NODE_FILE.test(file)) return withMemoizedWidth(source);
  return source;
}
