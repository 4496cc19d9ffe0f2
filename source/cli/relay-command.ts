/**
 * A command relayed whole to a remote host (relayed.ts says which): on the host, the service's
 * `command` channel runs `gantry COMMAND ...` as a child process against its own root; here, the
 * client sends the words and relays the child's streams. Its stdout and this side's stdin travel
 * within the protocol's window (flow.ts), so `export` of a large container or `load` of a large
 * archive holds neither in memory; stderr comes as it is; the exit code is the command's.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { InvalidArgumentError, UnsupportedError } from '../runtime/errors.js';
import type { ChannelHandler } from '../runtime/remote/server.js';
import type { CommandContext } from './context.js';
import { relayReadsStdin, relayRefusal, takeOutputFile } from './relayed.js';

/** The host's side: the channel handler `system service --stdio` serves as `command`. */
export const serveRelayedCommand: ChannelHandler = async (params, io) => {
  const argv = params.argv;
  if (!Array.isArray(argv) || argv.length === 0 || argv.some((word) => typeof word !== 'string'))
    throw new InvalidArgumentError('a relayed command needs its words (argv: strings)');
  const words = argv as string[];
  const refusal = relayRefusal(words, 'this host');
  if (refusal) throw new UnsupportedError(refusal, { hint: 'run it on that host' });
  const { creditedReadable, creditedWritable } = await import('../runtime/remote/flow.js');
  const { pipeline } = await import('node:stream/promises');
  // The command runs on this host only: never on a host its default connection names.
  const env: NodeJS.ProcessEnv = { ...process.env, GANTRY_HOST: 'local' };
  // `--`: Node reads none of the command's words as its own (`--env-file` of run, say).
  const child = spawn(process.execPath, ['--', process.argv[1]!, ...words], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env,
  });
  const exited = new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? osSignal(signal) : 0)));
  });
  io.started(child.pid ?? 0);
  const input = creditedReadable((bytes) => io.credit(bytes));
  io.onInput((data) => (data === null ? input.end() : input.deliver(data)));
  const feeding = pipeline(input.readable, child.stdin).catch(() => undefined);
  io.onSignal((name) => child.kill(name as NodeJS.Signals));
  io.signal.addEventListener('abort', () => child.kill('SIGTERM'), { once: true });
  child.stderr.on('data', (data: Buffer) => void io.output(data, 2));
  const output = pipeline(
    child.stdout,
    creditedWritable({
      send: (data) => io.output(data, 1),
      onCredit: (listener) => io.onCredit(listener),
      signal: io.signal,
    }),
  );
  const [exitCode] = await Promise.all([
    exited,
    output,
    new Promise((resolve) => child.stderr.once('end', resolve)),
  ]);
  input.fail(new Error('the command ended'));
  await feeding;
  return { exitCode };
};

function osSignal(name: NodeJS.Signals): number {
  return (
    ({ SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGPIPE: 13, SIGTERM: 15 } as Record<string, number>)[
      name
    ] ?? 0
  );
}

/**
 * This side: `argv` (the command's name and its words, global options left out) run on the
 * command's host, its stdout here (or in the -o FILE of export and save), its stderr here, this
 * stdin sent when the command reads one; the exit code is the remote command's.
 */
export async function relayToHost(context: CommandContext, argv: readonly string[]): Promise<number> {
  const host = context.host!;
  const refusal = relayRefusal(argv, host);
  if (refusal)
    throw new UnsupportedError(refusal, { hint: 'run it on that host, or leave out --host and GANTRY_HOST' });
  const { argv: words, file } = takeOutputFile(argv);
  const [{ RemoteEngine }, { creditedReadable, creditedWritable }, { pipeline }] = await Promise.all([
    import('../runtime/remote/client.js'),
    import('../runtime/remote/flow.js'),
    import('node:stream/promises'),
  ]);
  const engine = await context.hostEngine();
  if (!(engine instanceof RemoteEngine)) throw new InvalidArgumentError(`${host} is not a remote host`);
  const sink: Writable =
    file === undefined ? (context.stdout as Writable) : fs.createWriteStream(file, { flags: 'w' });
  const channel = engine.connection.channel('command', { argv: words });
  await channel.started;
  const output = creditedReadable((bytes) => channel.credit(bytes));
  channel.onOutput((data, fd) => (fd === 1 ? output.deliver(data) : context.stderr.write(data)));
  const writing = pipeline(output.readable, sink, { end: file !== undefined });
  const stop = new AbortController();
  if (relayReadsStdin(argv)) {
    const writable = creditedWritable({
      send: (data) => channel.write(data),
      onCredit: (listener) => channel.onCredit(listener),
      signal: stop.signal,
    });
    void pipeline(process.stdin as Readable, writable).then(
      () => channel.endInput(),
      () => undefined,
    );
  } else channel.endInput();
  const forward = (signal: NodeJS.Signals) => channel.signal(signal);
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const signal of signals) process.on(signal, forward);
  try {
    const result = (await channel.result) as { exitCode: number };
    output.end();
    await writing;
    return result.exitCode;
  } catch (error) {
    output.fail(error as Error);
    await writing.catch(() => undefined);
    throw error;
  } finally {
    stop.abort();
    for (const signal of signals) process.off(signal, forward);
    if (relayReadsStdin(argv)) process.stdin.destroy();
  }
}
