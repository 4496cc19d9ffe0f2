/** Ink's output.js, wherever npm put it. */
export declare const INK_OUTPUT_FILE: RegExp;
/** Ink's render-node-to-output.js. */
export declare const INK_RENDER_NODE_FILE: RegExp;
/** Both files patchInk changes. */
export declare const INK_PATCHED_FILES: RegExp;
/** The text of Ink's output.js with its Output wrapped; throws if Ink's file no longer fits. */
export declare function withLineCache(source: string): string;
/** The text of Ink's render-node-to-output.js with widestLine memoised; throws likewise. */
export declare function withMemoizedWidth(source: string): string;
/** Ink's file at `file` as the TUI runs it (unchanged unless it is one of the two). */
export declare function patchInk(file: string, source: string): string;
