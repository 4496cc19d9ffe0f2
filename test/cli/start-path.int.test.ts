/**
 * What the built CLI loads before a command runs (its entry chunk and everything that chunk
 * imports statically): never Ink, React or Ink's layout engine, which are bundled into the TUI's
 * chunks only, and never the registry client. The TUI's start chunk has Ink and React inside it,
 * bundled (no CommonJS package left for Node's lexer), and no registry or build code. And what
 * `gantry run` really loads, recorded by a module hook: the registry client only when it pulls.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { engineForSuite, REPO, testName } from '../support/engine.js';
import { describeUnless, needsRoot } from '../support/skip.js';

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

/** The registry client's modules, as esbuild marks each module's start in a chunk. */
const REGISTRY_CLIENT = /^\/\/ source\/runtime\/images\/registry\/(client|http|challenge|pull)\.ts$/m;

describeUnless(needsRoot(), 'what gantry run loads', () => {
  const engine = engineForSuite('start-path');

  /** The files of dist/cli that `gantry ARGS` loaded (a resolve hook records every module). */
  async function loadedBy(args: string[]): Promise<{ exitCode: number; stderr: string; files: string[] }> {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), `${testName('start-path')}-`));
    try {
      const log = path.join(directory, 'loaded');
      fs.writeFileSync(
        path.join(directory, 'hooks.mjs'),
        `import fs from 'node:fs';\n` +
          `export async function resolve(specifier, context, next) {\n` +
          `  const result = await next(specifier, context);\n` +
          `  fs.appendFileSync(${JSON.stringify(log)}, result.url + '\\n');\n` +
          `  return result;\n}\n`,
      );
      fs.writeFileSync(
        path.join(directory, 'register.mjs'),
        `import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n`,
      );
      const result = await engine.gantry(args, {
        env: { ...engine.env, NODE_OPTIONS: `--import=${path.join(directory, 'register.mjs')}` },
      });
      const files = [
        ...new Set(
          fs
            .readFileSync(log, 'utf8')
            .split('\n')
            .filter((url) => url.startsWith('file://') && url.includes('/dist/cli/'))
            .map((url) => new URL(url).pathname),
        ),
      ];
      return { exitCode: result.exitCode, stderr: result.stderr, files };
    } finally {
      fs.rmSync(directory, { recursive: true, force: true });
    }
  }

  it('runs a present image without loading the registry client; a pull loads it', async () => {
    const present = await loadedBy(['run', '--rm', '--network', 'none', 'demo', 'true']);
    expect(present.exitCode, present.stderr).toBe(0);
    // The hook saw the command's own chunk: it records what is loaded.
    expect(present.files.some((file) => /\/dist\/cli\/run-[A-Z0-9]+\.js$/.test(file))).toBe(true);
    expect(present.files.filter((file) => REGISTRY_CLIENT.test(fs.readFileSync(file, 'utf8')))).toEqual([]);

    // --pull always must ask a registry (none is reachable from the test's namespace): the client loads.
    const pulling = await loadedBy(['create', '--pull', 'always', '--network', 'none', 'demo', 'true']);
    expect(pulling.exitCode).toBe(125);
    expect(pulling.files.some((file) => REGISTRY_CLIENT.test(fs.readFileSync(file, 'utf8')))).toBe(true);
  });
});
