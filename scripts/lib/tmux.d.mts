export declare const hasTmux: boolean;

export interface TmuxSession {
  /** The tmux server's socket name (`tmux -L`). */
  socket: string;
  /** The screen as text (with `escapes`, with colours and attributes as escape sequences). */
  capture(options?: { escapes?: boolean }): string;
  /** Keys as tmux names them ("Enter", "Escape", "C-u") or literal text. */
  send(...keys: string[]): void;
  /** Types text literally (no key-name lookup). */
  type(text: string): void;
  resize(columns: number, rows: number): void;
  /** The pid of the pane's shell (the command runs as its child). */
  panePid(): number;
  /** The pid of the command the pane runs (the shell's child), once it has started. */
  commandPid(timeoutMs?: number): Promise<number>;
  /** Whether the pane shows the terminal's alternate screen now. */
  alternateOn(): boolean;
  /** tmux's paste buffer: what an application copied with OSC 52 (set-clipboard is on). */
  clipboard(): string;
  /**
   * The screen once `probe` finds it (polled every `pollMs`, default 50 ms); throws with the
   * screen after `timeoutMs`.
   */
  waitFor(
    probe: string | RegExp | ((screen: string) => boolean),
    timeoutMs?: number,
    what?: string,
    pollMs?: number,
  ): Promise<string>;
  /** Ends the server and everything in it. */
  kill(): void;
}

export interface TmuxOptions {
  env?: Record<string, string | undefined>;
  columns?: number;
  rows?: number;
  /** Part of the socket name: gantry-LABEL-RANDOM. */
  label: string;
}

export declare function startTmux(command: readonly string[], options: TmuxOptions): TmuxSession;
