/**
 * What the built CLI loads before a command runs (its entry chunk and everything that chunk
 * imports statically): never Ink, React or Ink's layout engine, which are bundled into the TUI's
 * chunks only, and never the registry client. The TUI's start chunk has Ink and React inside it,
 * bundled (no CommonJS package left for Node's lexer), and no registry or build code.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../support/engine.js';

const DIST = path.join(REPO, 'dist', 'cli');

/** The chunk and every chunk it imports statically (dynamic import() is on first use). */
function staticClosure(entry: string): { files: string[]; text: string } {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = fs.readFileSync(path.join(DIST, file), 'utf8');
    for (const match of text.matchAll(
      /^(?:import|export)\s[^;]*?from\s*"\.\/([^"]+)"|^import\s*"\.\/([^"]+)"/gm,
    ))
      visit((match[1] ?? match[2])!);
  };
  visit(entry);
  const files = [...seen];
  return { files, text: files.map((file) => fs.readFileSync(path.join(DIST, file), 'utf8')).join('\n') };
}

/** Bare imports of packages (not node: builtins, not our chunks) in the closure. */
function packageImports(text: string): string[] {
  const found = new Set<string>();
  const imports =
    /^(?:import|export)\s[^;]*?from\s*"([^".][^"]*)"|^import\s*"([^".][^"]*)"|\bimport\("([^".][^"]*)"\)/gm;
  for (const match of text.matchAll(imports)) {
    const name = (match[1] ?? match[2] ?? match[3])!;
    if (!name.startsWith('node:')) found.add(name);
  }
  return [...found].sort();
}

describe('the built CLI start path', () => {
  it('loads neither Ink, React, the layout engine nor the registry client before a command runs', () => {
    const cli = staticClosure('gantry.js');
    expect(cli.text).not.toMatch(/react-reconciler|loadYoga|createReconciler/);
    expect(cli.text).not.toMatch(/WWW-Authenticate|application\/vnd\.docker\.distribution/);
    expect(packageImports(cli.text)).toEqual([]);
  });

  it("bundles Ink and React into the TUI's start chunk, without registry or build code", () => {
    // Other commands have start-*.js chunks too (esbuild names a chunk after its entry's file):
    // the TUI's is the one whose closure draws with Ink.
    const starts = fs.readdirSync(DIST).filter((file) => /^start-[A-Z0-9]+\.js$/.test(file));
    const drawing = starts.filter((file) => /loadYoga/.test(staticClosure(file).text));
    expect(drawing).toHaveLength(1);
    const tui = staticClosure(drawing[0]!);
    expect(tui.text).toMatch(/loadYoga/);
    // Only koffi (a native binary) comes from node_modules; ink, react and their dependencies
    // are bundled, so Node's CommonJS lexer has nothing to parse.
    expect(packageImports(tui.text).filter((name) => name !== 'koffi')).toEqual([]);
    expect(tui.text).not.toMatch(/WWW-Authenticate|BUILD_HISTORY_COMMENT|"gantry build"/);
  });
});
