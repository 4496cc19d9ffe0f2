/**
 * Shared pieces of the security tests: the hostile program (attack.c, built static so any image
 * can run it), a parser for its "<attempt> <result>" lines, and a real terminal (`script`) to run
 * a command in, with a way to see what ends up typed into that terminal afterwards; the test
 * knob's fifos that stop the native helper at a named point, and the check that a process stopped
 * there is out of the container's reach.
 */
import { execa, execaSync } from 'execa';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { GANTRY_OCI, testName, waitFor } from '../support/engine.js';

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

/** What a process out of reach answers to every attempt on it through /proc. */
const DENIED = new Set(['EACCES', 'EPERM']);
const REFUSED_ATTEMPTS = [
  'exe-readlink',
  'exe-open-path',
  'exe-open-read',
  'environ-open',
  'mem-open',
  'cwd-readlink',
  'root-open',
  'fd-open',
  'ptrace',
];

/**
 * Every attempt of `attack proc PID [FD...]` refused (the fd-write-FD ones too), and `secret`
 * (what the process's environment held) nowhere in what the attack got.
 */
export function expectOutOfReach(output: string, secret?: string): void {
  const seen = attempts(output);
  const extra = [...seen.keys()].filter((name) => name.startsWith('fd-write-'));
  for (const name of [...REFUSED_ATTEMPTS, ...extra])
    expect(DENIED.has(seen.get(name) ?? 'missing'), `${name}: ${output}`).toBe(true);
  if (secret) expect(output).not.toContain(secret);
}

export interface Pause {
  /** Where the fifos are. */
  dir: string;
  /** GANTRY_TEST_HELPER_PAUSE for the command that starts the helper. */
  env(point: string): string;
  /** Waits until the helper reports it stopped at `point`: its pid in the container and on the host. */
  stopped(point: string): Promise<{ nsPid: number; hostPid: number }>;
  /** Lets the helper (and every later one reading the same knob) go on. */
  release(): void;
  close(): void;
}

/**
 * The fifos of the test knob, in a directory of their own that a container's mapped root can
 * open (0755, fifos 0666): a restarted run under --userns=auto opens them as that user.
 */
export async function pauseFifos(): Promise<Pause> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${testName('pause')}-`));
  fs.chmodSync(dir, 0o755);
  for (const fifo of ['ready', 'go']) {
    await execa('mkfifo', [path.join(dir, fifo)]);
    fs.chmodSync(path.join(dir, fifo), 0o666);
  }
  // Opened read-write and non-blocking: never waits for the other side.
  const flags = fs.constants.O_RDWR | fs.constants.O_NONBLOCK;
  const ready = fs.openSync(path.join(dir, 'ready'), flags);
  const go = fs.openSync(path.join(dir, 'go'), flags);
  let text = '';
  return {
    dir,
    env: (point) => `${point}:${dir}`,
    async stopped(point) {
      const line = await waitFor(
        () => {
          const buffer = Buffer.alloc(256);
          try {
            text += buffer.toString('utf8', 0, fs.readSync(ready, buffer));
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
          }
          return text.includes('\n') ? text.slice(0, text.indexOf('\n')) : undefined;
        },
        120_000,
        `the helper to stop at ${point}`,
      );
      text = text.slice(line.length + 1);
      const [reported, nsPid, hostPid] = line.trim().split(' ');
      expect(reported).toBe(point);
      return { nsPid: Number(nsPid), hostPid: Number(hostPid) };
    },
    // One byte per helper that stops; later ones (the next health checks) pass straight on.
    release: () => void fs.writeSync(go, 'x'.repeat(4096)),
    close() {
      fs.closeSync(ready);
      fs.closeSync(go);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The security module's attribute files out of the container's reach: `gantry-oci exec` (with
 * `execFlags`, e.g. --apparmor or --process-label) stopped at "joined", where its helper holds
 * them open for writing (opened while /proc was the host's, written only just before its execve)
 * and has joined the container's namespaces; then, from a process of that same container, every
 * way at the helper through /proc (those descriptors, environ, mem, exe, ...) and ptrace must be
 * refused. Returns how many attribute files the helper held, which the caller checks.
 */
export async function attackAttributeHolder(options: {
  /** The container's id in `stateRoot`; its root has the attack program at /attack. */
  id: string;
  stateRoot: string;
  env: Record<string, string>;
  execFlags: string[];
  secret: string;
}): Promise<string[]> {
  const pause = await pauseFifos();
  const oci = (extra: Record<string, string>, ...args: string[]) =>
    execa(process.execPath, [GANTRY_OCI, '--root', options.stateRoot, ...args], {
      env: { ...options.env, ...extra },
      reject: false,
      stdin: 'ignore',
    });
  try {
    const exec = oci(
      { GANTRY_TEST_HELPER_PAUSE: pause.env('joined'), GANTRY_TEST_SECRET: options.secret },
      'exec',
      ...options.execFlags,
      options.id,
      'true',
    );
    // An exec that fails before it gets there says so at once, rather than at the wait's end.
    const stopping = pause.stopped('joined');
    stopping.catch(() => undefined);
    const first = await Promise.race([stopping, exec.then((ended) => ({ ended }))]);
    if ('ended' in first)
      throw new Error(
        `gantry-oci exec ended (exit ${first.ended.exitCode}) before it stopped at "joined": ${String(first.ended.stderr)}`,
      );
    const stopped = first;
    let held: string[] = [];
    try {
      const attributes = new Map<string, string>();
      for (const name of fs.readdirSync(`/proc/${stopped.hostPid}/fd`)) {
        const target = fs.readlinkSync(`/proc/${stopped.hostPid}/fd/${name}`);
        if (/^\/proc\/\d+\/task\/\d+\/attr\//.test(target)) attributes.set(name, target);
      }
      held = [...attributes.values()].map((target) => target.replace(/^.*\/attr\//, ''));
      const attack = await oci(
        {},
        'exec',
        options.id,
        '/attack',
        'proc',
        String(stopped.nsPid),
        ...attributes.keys(),
      );
      expect(attack.exitCode, attack.stderr).toBe(0);
      expectOutOfReach(attack.stdout, options.secret);
      for (const fd of attributes.keys())
        expect(attempts(attack.stdout).has(`fd-write-${fd}`), attack.stdout).toBe(true);
    } finally {
      pause.release();
    }
    const result = await exec;
    expect(result.exitCode, result.stderr).toBe(0);
    return held;
  } finally {
    pause.close();
  }
}
