/**
 * Shared pieces of the security tests: the hostile program (attack.c, built static so any image
 * can run it), a parser for its "<attempt> <result>" lines, and a real terminal (`script`) to run
 * a command in, with a way to see what ends up typed into that terminal afterwards.
 */
import { execa, execaSync } from 'execa';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { testName, waitFor } from '../support/engine.js';

const SOURCE = path.join(import.meta.dirname, 'attack.c');

/** Builds attack.c with `gcc -static` into a new directory (mode 0755) and returns it. */
export function buildAttackTool(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${testName('attack')}-`));
  fs.chmodSync(dir, 0o755);
  execaSync('gcc', ['-static', '-O2', '-Wall', '-o', path.join(dir, 'attack'), SOURCE]);
  return dir;
}

/** The attack's "<attempt> <result>" lines as a map (the first word of the result). */
export function attempts(output: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const line of output.replace(/\r/g, '').split('\n')) {
    const match = /^([a-z0-9-]+) (\S+)/.exec(line);
    if (match && !found.has(match[1]!)) found.set(match[1]!, match[2]!);
  }
  return found;
}

export interface TerminalRun {
  /** Everything the terminal showed. */
  output: string;
  /** The first line the terminal's shell read after the command ended. */
  typedAfterwards: string;
}

/**
 * Runs `command` in a shell on a fresh pseudo-terminal (util-linux `script`), as an admin would
 * from an interactive shell. When it has ended, the test types "CLEAN" and the shell reads one
 * line: anything the command pushed into the terminal's input (TIOCSTI) comes before it, so
 * `typedAfterwards` is "CLEAN" only if nothing was injected.
 */
export async function runInTerminal(command: string, env: Record<string, string>): Promise<TerminalRun> {
  const script = `${command}; echo COMMAND-ENDED; read -r line; echo "TYPED=[$line]"`;
  const child = execa('script', ['-qfec', 'eval "$TERMINAL_TEST_SCRIPT"', '/dev/null'], {
    env: { ...env, SHELL: '/bin/sh', TERM: 'xterm', TERMINAL_TEST_SCRIPT: script },
    stdin: 'pipe',
    reject: false,
    all: true,
  });
  let output = '';
  child.all!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  await waitFor(() => output.includes('COMMAND-ENDED'), 60_000, `the terminal command to end: ${command}`);
  child.stdin!.write('CLEAN\n');
  await waitFor(() => /TYPED=\[/.test(output), 60_000, 'the shell to read what was typed');
  child.stdin!.end();
  await child;
  const typed = /TYPED=\[([^\]\r\n]*)\]/.exec(output);
  return { output, typedAfterwards: typed?.[1] ?? '' };
}
