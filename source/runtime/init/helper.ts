/**
 * Starts the native helper and speaks its small line protocol on fd 3:
 *   helper -> engine   "pid <container> <monitor>", "hooks", "created", "started",
 *                      "error <text>", "execerr <errno>"
 *   engine -> helper   the plan (ending in "end"), then "go" after runtime hooks.
 * The helper starts with an empty environment: what the caller has in its environment (tokens,
 * passwords) is never in the memory of a process that enters a container.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough, type Duplex, type Readable, type Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { CommandCannotRunError, CommandNotFoundError, GantryError, UnsupportedError } from '../errors.js';
import { serializePlan, type HelperPlan } from './plan.js';

/** The container could not be created: the helper reported what failed. */
export class ContainerStartError extends GantryError {}

let cachedHelperPath: string | undefined;

/** dist/bin/gantry-init of this checkout (or $GANTRY_HELPER). */
export function helperPath(): string {
  if (cachedHelperPath) return cachedHelperPath;
  if (process.env.GANTRY_HELPER) return (cachedHelperPath = process.env.GANTRY_HELPER);
  let directory = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(directory, 'package.json'))) {
    const parent = path.dirname(directory);
    if (parent === directory) break;
    directory = parent;
  }
  const candidate = path.join(directory, 'dist', 'bin', 'gantry-init');
  if (!fs.existsSync(candidate)) {
    throw new UnsupportedError(`the native helper ${candidate} is missing`, {
      hint: 'build it with `npm install` (or `npm run build`) in the gantry checkout; it needs a C compiler',
    });
  }
  return (cachedHelperPath = candidate);
}

/** The helper's environment: none. It reads everything it needs from the plan. */
const HELPER_ENV: NodeJS.ProcessEnv = {};

/**
 * Tests only: GANTRY_TEST_HELPER_PAUSE=POINT:DIR makes the helper stop at POINT ("joined": the
 * exec's process is in all of the container's namespaces; "prepared": it also has the
 * container's user and capabilities; "init": a new container's init, set up, before it reports
 * created; "restarted": the same point of a run the restart policy started; "copyup-entry": a
 * tmpcopyup copy between a regular file's stat and its open) and report on the
 * fifo DIR/ready, until a byte arrives on the fifo DIR/go. Tests use it to attack the helper at a
 * known moment instead of racing it. A health check's exec plan, written at `run`, carries it too.
 */
export function testPauseFromEnvironment(): HelperPlan['testPause'] {
  const value = process.env.GANTRY_TEST_HELPER_PAUSE;
  if (!value) return undefined;
  const colon = value.indexOf(':');
  if (colon <= 0) return undefined;
  const directory = value.slice(colon + 1);
  return {
    point: value.slice(0, colon),
    ready: path.join(directory, 'ready'),
    go: path.join(directory, 'go'),
  };
}

/** Reads "\n"-terminated lines from the helper's channel. */
class LineChannel {
  private buffer = '';
  private readonly lines: string[] = [];
  private waiting: ((line: string | undefined) => void) | undefined;
  private ended = false;

  constructor(readonly socket: Duplex) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      let index: number;
      while ((index = this.buffer.indexOf('\n')) >= 0) {
        this.push(this.buffer.slice(0, index));
        this.buffer = this.buffer.slice(index + 1);
      }
    });
    const end = () => {
      this.ended = true;
      if (this.waiting) {
        const waiting = this.waiting;
        this.waiting = undefined;
        waiting(undefined);
      }
    };
    socket.on('end', end);
    socket.on('close', end);
    socket.on('error', end);
  }

  private push(line: string): void {
    if (this.waiting) {
      const waiting = this.waiting;
      this.waiting = undefined;
      waiting(line);
    } else {
      this.lines.push(line);
    }
  }

  /** The next line, or undefined once the helper closed the channel. */
  next(): Promise<string | undefined> {
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.ended) return Promise.resolve(undefined);
    return new Promise((resolve) => (this.waiting = resolve));
  }

  write(text: string): void {
    this.socket.write(text);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Inverse of the helper's encode_field (and of plan.ts encodeField). */
export function decodeField(text: string): string {
  if (text === '%') return '';
  return Buffer.from(
    text.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))),
    'latin1',
  ).toString('utf8');
}

const ENOENT = 2;
const ENOEXEC = 8;

/**
 * What execve's errors mean, in the words docker prints them (Go's syscall messages): every
 * failure is said in words, not as a number.
 */
const EXEC_ERRORS: Readonly<Record<number, string>> = {
  1: 'operation not permitted',
  2: 'no such file or directory',
  5: 'input/output error',
  7: 'argument list too long',
  [ENOEXEC]: 'exec format error',
  12: 'cannot allocate memory',
  13: 'permission denied',
  14: 'bad address',
  20: 'not a directory',
  21: 'is a directory',
  22: 'invalid argument',
  23: 'too many open files in system',
  24: 'too many open files',
  26: 'text file busy',
  36: 'file name too long',
  40: 'too many levels of symbolic links',
  79: 'can not access a needed shared library',
  80: 'accessing a corrupted shared library',
};

/** The message of an execve errno ("exec format error"), or "errno N" for one not listed. */
export function execErrnoText(errno: number): string {
  return EXEC_ERRORS[errno] ?? `errno ${errno}`;
}

export interface ExecErrorContext {
  /** The image's and the host's platforms ("linux/arm64"), when they differ. */
  platforms?: { image: string; host: string };
}

/** Maps a failed exec to docker's errors and exit codes (127 not found, 126 cannot run). */
export function execError(errno: number, command: string, context: ExecErrorContext = {}): GantryError {
  if (errno === ENOENT) {
    return new CommandNotFoundError(
      command.includes('/')
        ? `exec: "${command}": no such file or directory`
        : `exec: "${command}": executable file not found in $PATH`,
    );
  }
  let message = `exec: "${command}": ${execErrnoText(errno)}`;
  // podman's warning: the usual cause is an image of another architecture.
  if (errno === ENOEXEC && context.platforms)
    message += ` (the image's platform is ${context.platforms.image}; this host is ${context.platforms.host})`;
  return new CommandCannotRunError(message, {
    ...(errno === ENOEXEC
      ? { hint: 'the file is not a program this host can run: pull or build the image for this platform' }
      : {}),
  });
}

async function exitCode(child: ChildProcess): Promise<number> {
  if (child.exitCode !== null) return child.exitCode;
  if (child.signalCode !== null) return 128;
  return new Promise((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 125))),
  );
}

/**
 * A relay's output pipe, read from the start into a stream of ours that keeps it until the caller
 * reads: node drains and drops what an exited child left in a pipe nobody read yet (on the tick
 * after 'exit'), and a short process can end while the caller still awaits its own steps (the
 * exec fifo's release after an attach).
 */
function readFromStart(stream: Readable | null): Readable | null {
  if (!stream) return null;
  const kept = new PassThrough();
  stream.on('error', (error) => kept.destroy(error));
  return stream.pipe(kept);
}

/** Turns a protocol line that reports a failure into an error; undefined for other lines. */
function failure(
  line: string | undefined,
  command: string,
  child: ChildProcess,
): Promise<GantryError> | undefined {
  if (line === undefined) {
    return exitCode(child).then(
      (code) =>
        new ContainerStartError(`the native helper exited during setup (status ${code}) without saying why`),
    );
  }
  if (line.startsWith('error ')) return Promise.resolve(new ContainerStartError(decodeField(line.slice(6))));
  if (line.startsWith('execerr ')) return Promise.resolve(execError(Number(line.slice(8)), command));
  return undefined;
}

export interface MonitorHandle {
  containerPid: number;
  monitorPid: number;
  /** The helper process (the monitor). Unref'd when detached. */
  child: ChildProcess;
}

export interface StartMonitorOptions {
  /** Detach the monitor into its own session so it outlives the caller (gantry run -d). */
  detached: boolean;
  /** stdio of the helper; "inherit" for gantry-oci passthrough. */
  stdio?: 'ignore' | 'inherit';
  /** Called once the container's namespaces exist, before pivot_root (OCI createRuntime hooks). */
  onHooks?: (containerPid: number) => Promise<void>;
  /** Called as soon as the pids are known (before setup completes), to record them. */
  onPid?: (containerPid: number, monitorPid: number) => void;
}

/** Creates a container: returns once it is set up and waiting at its exec fifo (or running). */
export async function startMonitor(plan: HelperPlan, options: StartMonitorOptions): Promise<MonitorHandle> {
  const stdio: StdioOptions =
    options.stdio === 'inherit'
      ? ['inherit', 'inherit', 'inherit', 'pipe']
      : ['ignore', 'ignore', 'ignore', 'pipe'];
  const child = spawn(helperPath(), ['init'], { stdio, detached: options.detached, env: HELPER_ENV });
  const channel = new LineChannel(child.stdio[3] as Duplex);
  const spawnError = new Promise<never>((_, reject) => child.once('error', reject));
  spawnError.catch(() => undefined);
  const testPause = testPauseFromEnvironment();
  channel.write(serializePlan(testPause ? { ...plan, testPause } : plan));
  const command = plan.process.args[0] ?? '';
  let containerPid = 0;
  let monitorPid = 0;
  try {
    for (;;) {
      const line = await Promise.race([channel.next(), spawnError]);
      const problem = failure(line, command, child);
      if (problem) throw await problem;
      if (line!.startsWith('pid ')) {
        const [, container, monitor] = line!.split(' ');
        containerPid = Number(container);
        monitorPid = Number(monitor);
        options.onPid?.(containerPid, monitorPid);
      } else if (line === 'hooks') {
        await options.onHooks?.(containerPid);
        channel.write('go\n');
      } else if (line === 'created') {
        break;
      }
    }
  } catch (error) {
    channel.close();
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
    }
    await exitCode(child);
    throw error;
  }
  channel.close();
  if (options.detached) child.unref();
  return { containerPid, monitorPid, child };
}

export interface ExecHandle {
  pid: number;
  /** Resolves with the process's exit status (128+N for a signal). */
  exit: Promise<number>;
  /** Passes a signal to the process (the helper relays only what its parent sends). */
  signal(signal: NodeJS.Signals): void;
  /** The relay's stdio when they were asked for as pipes (a remote exec relays them on). */
  pipes?: { stdin: Writable | null; stdout: Readable | null; stderr: Readable | null };
  /**
   * Sets the pty's size (the process gets SIGWINCH): for a terminal that is not the relay's own
   * to read, a remote client's. Present with `resizable`.
   */
  resize?(rows: number, cols: number): void;
}

/**
 * Runs a process in a container. The helper relays between the given stdio (the caller's by
 * default) and pipes or a pty of the process: the process itself never gets the caller's fds.
 */
export async function startExec(
  plan: HelperPlan,
  stdio: StdioOptions = ['inherit', 'inherit', 'inherit'],
  options: { resizable?: boolean } = {},
): Promise<ExecHandle> {
  const streams = Array.isArray(stdio) ? stdio.slice(0, 3) : [stdio, stdio, stdio];
  const child = spawn(helperPath(), ['exec'], {
    stdio: [...streams, 'pipe'] as StdioOptions,
    env: HELPER_ENV,
  });
  const output = { stdout: readFromStart(child.stdout), stderr: readFromStart(child.stderr) };
  const exit = exitCode(child);
  const channel = new LineChannel(child.stdio[3] as Duplex);
  const testPause = testPauseFromEnvironment();
  channel.write(serializePlan(testPause ? { ...plan, testPause } : plan));
  const command = plan.process.args[0] ?? '';
  let pid = 0;
  for (;;) {
    const line = await channel.next();
    const problem = failure(line, command, child);
    if (problem) {
      channel.close();
      throw await problem;
    }
    if (line!.startsWith('pid ')) pid = Number(line!.split(' ')[1]);
    else if (line === 'started') break;
  }
  // With a terminal the relay reads sizes from the channel until it closes; otherwise it is done.
  const resizable = options.resizable === true && plan.terminal === true && plan.detach !== true;
  if (resizable) void exit.finally(() => channel.close());
  else channel.close();
  return {
    pid,
    exit,
    signal: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
    ...(resizable
      ? {
          resize: (rows: number, cols: number) => {
            if (child.exitCode !== null || child.signalCode !== null) return;
            if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 1 || cols < 1) return;
            channel.write(`size ${Math.min(rows, 0xffff)} ${Math.min(cols, 0xffff)}\n`);
          },
        }
      : {}),
    ...(child.stdout || child.stdin ? { pipes: { stdin: child.stdin, ...output } } : {}),
  };
}

export interface AttachHandle {
  /** Resolves with the container's exit code once it ends (or 0 after a detach). */
  exit: Promise<number>;
  /** Passes a signal to the container's process (with a tty, Ctrl-C is a key, not a signal). */
  signal(signal: NodeJS.Signals): void;
  /** With `pipes`: the streams the caller relays (a remote client's), in place of this stdio. */
  pipes?: { stdin: Writable | null; stdout: Readable | null; stderr: Readable | null };
  /** With `pipes` and a tty: the caller's terminal changed size (the container's pty follows). */
  resize?(rows: number, cols: number): void;
}

/** Connects the caller's stdio (or, with `pipes`, pipes of its own) to a monitor's attach socket. */
export async function attach(
  stateDir: string,
  socketName: string,
  options: {
    tty: boolean;
    stdin: boolean;
    ownsCleanup?: boolean;
    stdout?: boolean;
    stderr?: boolean;
    pipes?: boolean;
  },
): Promise<AttachHandle> {
  // Pipes cannot tell a terminal's size: the sizes come on the channel ("sized").
  const sized = options.pipes === true && options.tty;
  const args = [
    'attach',
    stateDir,
    socketName,
    ...(options.tty ? ['tty'] : []),
    ...(options.stdin ? ['stdin'] : []),
    // The caller records the end itself, so the monitor need not start a cleanup process.
    ...(options.ownsCleanup ? ['cleanup'] : []),
    ...(sized ? ['sized'] : []),
  ];
  const given = options.pipes ? 'pipe' : 'inherit';
  const child = spawn(helperPath(), args, {
    // A stream not attached (docker's -a) goes to /dev/null here; the monitor still logs it.
    stdio: [
      options.stdin ? given : 'ignore',
      options.stdout === false ? 'ignore' : given,
      options.stderr === false ? 'ignore' : given,
      'pipe',
    ],
    env: HELPER_ENV,
  });
  const output = { stdout: readFromStart(child.stdout), stderr: readFromStart(child.stderr) };
  const exit = exitCode(child);
  const channel = new LineChannel(child.stdio[3] as Duplex);
  const line = await channel.next();
  if (sized) void exit.finally(() => channel.close());
  else channel.close();
  if (line !== 'attached') {
    channel.close();
    const code = await exit;
    throw new ContainerStartError(`could not attach to the container (status ${code})`);
  }
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    exit,
    signal: (signal) => {
      if (running()) child.kill(signal);
    },
    ...(options.pipes ? { pipes: { stdin: child.stdin, ...output } } : {}),
    ...(sized
      ? {
          resize: (rows: number, cols: number) => {
            if (!running() || !Number.isInteger(rows) || !Number.isInteger(cols) || rows < 1 || cols < 1)
              return;
            channel.write(`size ${Math.min(rows, 0xffff)} ${Math.min(cols, 0xffff)}\n`);
          },
        }
      : {}),
  };
}
