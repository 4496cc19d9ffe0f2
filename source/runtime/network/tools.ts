/**
 * Runs the host's network tools (iproute2's `ip`, `nft`, `iptables-restore`, util-linux's
 * `nsenter`) with a fixed PATH and no inherited environment, feeding batches on stdin so a whole
 * step costs one process. Failures become NetworkSetupError with the tool's own message.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { GantryError, UnsupportedError } from '../errors.js';
import { trace } from '../trace.js';

const SEARCH_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** A network step failed: which tool, what it was asked, what it said. */
export class NetworkSetupError extends GantryError {}

const found = new Map<string, string | undefined>();

/** The absolute path of a tool, or undefined when the host has none. */
export function findTool(name: string): string | undefined {
  if (found.has(name)) return found.get(name);
  const candidate = SEARCH_PATH.map((directory) => path.join(directory, name)).find((file) => {
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
  found.set(name, candidate);
  return candidate;
}

export function requireTool(name: string, purpose: string, packageName: string): string {
  const file = findTool(name);
  if (!file) {
    throw new UnsupportedError(`${purpose} needs \`${name}\`, which this host does not have`, {
      hint: `install ${packageName}, or run the container with --network none (own stack with only lo) or --network host`,
    });
  }
  return file;
}

export interface ToolResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Runs a tool; resolves with its output and status (never rejects on a non-zero status). */
export function runTool(file: string, args: readonly string[], input?: string): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      env: { PATH: SEARCH_PATH.join(':'), LC_ALL: 'C' },
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ stdout, stderr, code: code ?? (signal ? 128 : 1) }));
    if (input !== undefined) child.stdin!.end(input);
  });
}

/** Runs a tool and throws NetworkSetupError (naming `what`) unless it succeeds. */
export async function mustRun(
  file: string,
  args: readonly string[],
  what: string,
  input?: string,
): Promise<string> {
  const result = await runTool(file, args, input);
  trace(`network: ${what}`);
  if (result.code !== 0) {
    const said = result.stderr.trim().split('\n').slice(0, 6).join('; ') || `status ${result.code}`;
    const permission = /Operation not permitted|Permission denied/i.test(said);
    throw new NetworkSetupError(`${what}: ${path.basename(file)}: ${said}`, {
      hint: permission
        ? 'bridge networking needs root (CAP_NET_ADMIN); run the container with --network none or --network host'
        : `the batch was:\n${(input ?? args.join(' ')).trim()}`,
    });
  }
  return result.stdout;
}

export function ipTool(): string {
  return requireTool('ip', 'bridge networking', 'iproute2');
}

/** `ip -batch -` in gantry's own network namespace. */
export async function ipBatch(commands: readonly string[], what: string): Promise<void> {
  if (commands.length === 0) return;
  await mustRun(ipTool(), ['-batch', '-'], what, `${commands.join('\n')}\n`);
}

/**
 * `ip -batch -` inside the network namespace of process `pid` (a container's init waiting at its
 * exec fifo, or running): nsenter joins that namespace only, so `ip` stays the host's binary with
 * the host's files, out of sight of the container's processes (another pid namespace).
 */
export async function ipBatchIn(pid: number, commands: readonly string[], what: string): Promise<void> {
  if (commands.length === 0) return;
  const nsenter = requireTool('nsenter', 'configuring a container interface', 'util-linux');
  await mustRun(
    nsenter,
    [`--net=/proc/${pid}/ns/net`, '--', ipTool(), '-batch', '-'],
    what,
    `${commands.join('\n')}\n`,
  );
}

/** `ip -j ...` parsed. */
export async function ipJson<T>(args: readonly string[], what: string): Promise<T> {
  const text = await mustRun(ipTool(), ['-j', ...args], what);
  try {
    return JSON.parse(text || '[]') as T;
  } catch (error) {
    throw new NetworkSetupError(`${what}: ip printed no JSON`, { cause: error });
  }
}
