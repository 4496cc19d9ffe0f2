/**
 * The serving end of the remote protocol (`gantry system service --stdio`): reads requests from
 * stdin, answers on stdout, and exits when stdin ends (the ssh session closed). Every request runs
 * at once and concurrently (a follow of logs does not hold up a `ps`); streams end at the client's
 * cancel or at the end of the session. Nothing listens and nothing stays behind.
 */
import readline from 'node:readline';
import { pipeline } from 'node:stream/promises';
import type { Resources, StatsOptions } from '../cgroups/types.js';
import type { CreateOptions } from '../containers/create.js';
import type { LogCursor, LogEntry } from '../containers/logs.js';
import { InvalidArgumentError } from '../errors.js';
import type {
  ExecStream,
  HostAttachOptions,
  HostCopyFrom,
  HostCopyTo,
  HostEngine,
  HostExecOptions,
  HostLogOptions,
  HostPullRequest,
} from './host-engine.js';
import {
  GANTRY_VERSION,
  MIN_PROTOCOL_VERSION,
  PROTOCOL_VERSION,
  decodeTimeout,
  encodeError,
  plainError,
  type ClientMessage,
  type Hello,
  type ServerMessage,
} from './protocol.js';

type Params = Record<string, unknown>;

/** What an exec-like request gets besides its parameters: the client's input and signals. */
export interface ChannelIo {
  /** Tells the client the process runs. */
  started(pid: number): void;
  /** Output to the client, on its fd 1 or 2; a promise when the connection wants a wait. */
  output(data: Buffer, fd: 1 | 2): void | Promise<void>;
  /** Input from the client (null at its end), and signals it passes on. */
  onInput(listener: (data: Buffer | null) => void): void;
  onSignal(listener: (signal: string) => void): void;
  /** The client's terminal size, each time it changes. */
  onResize(listener: (rows: number, cols: number) => void): void;
  /** Credit for a flow-controlled output (flow.ts): the client read this many more bytes. */
  onCredit(listener: (bytes: number) => void): void;
  /** Tells the client this many more bytes of its input were read (its window reopens). */
  credit(bytes: number): void;
  /** The client detached (Ctrl-P Ctrl-Q): the relay is to end with the process running on. */
  onDetach(listener: () => void): void;
  signal: AbortSignal;
}

/** A request kind beyond the HostEngine calls (exec, relayed commands): added by the CLI. */
export type ChannelHandler = (params: Params, io: ChannelIo) => Promise<unknown>;

export interface ServeOptions {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  channels?: Record<string, ChannelHandler>;
}

function reference(params: Params): string {
  const value = params.reference;
  if (typeof value !== 'string' || value === '')
    throw new InvalidArgumentError('the request names no container (reference)');
  return value;
}

/** Calls that answer once. */
const CALLS: Record<string, (engine: HostEngine, params: Params) => Promise<unknown>> = {
  list: async (engine, params) => {
    const result = await engine.list({ all: params.all === true });
    return {
      records: result.records,
      damaged: result.damaged.map((bad) => ({ ...bad, error: plainError(bad.error) })),
      unsettled: (result.unsettled ?? []).map((bad) => ({ ...bad, error: plainError(bad.error) })),
    };
  },
  get: (engine, params) => engine.get(reference(params)),
  inspect: (engine, params) =>
    engine.inspect(reference(params), params.type as 'container' | 'image' | undefined),
  create: (engine, params) => engine.create(params.options as CreateOptions),
  start: (engine, params) => engine.start(reference(params)),
  stop: (engine, params) =>
    engine.stop(reference(params), decodeTimeout(params.timeout as number | undefined)),
  restart: (engine, params) =>
    engine.restart(reference(params), decodeTimeout(params.timeout as number | undefined)),
  kill: (engine, params) => engine.kill(reference(params), params.signal as string | number | undefined),
  remove: async (engine, params) => {
    await engine.remove(reference(params), {
      force: params.force === true,
      volumes: params.volumes === true,
    });
    return null;
  },
  pause: (engine, params) => engine.pause(reference(params)),
  unpause: (engine, params) => engine.unpause(reference(params)),
  update: (engine, params) => engine.update(reference(params), params.resources as Resources),
  wait: (engine, params) =>
    engine.wait(reference(params), params.condition ? { condition: params.condition as string } : {}),
  stats: (engine, params) => engine.stats(reference(params), (params.options ?? {}) as StatsOptions),
  'images.list': (engine) => engine.images.list(),
  'images.tree': (engine, params) =>
    engine.images.tree(reference(params), { container: params.container === true }),
  'images.remove': (engine, params) =>
    engine.images.remove(reference(params), {
      force: params.force === true,
      allNames: params.allNames === true,
    }),
  'volumes.list': (engine, params) => engine.volumes.list({ sizes: params.sizes === true }),
  'networks.list': (engine) => engine.networks.list(),
  'logs.older': async (engine, params) => {
    const page = await engine.olderLogs(reference(params), logCursor(params.cursor), pageSize(params.count));
    return { entries: page.entries, olderBefore: page.olderBefore ?? null };
  },
};

/** Calls that send progress items before their one result. */
const PROGRESS: Record<
  string,
  (engine: HostEngine, params: Params, item: (value: unknown) => void) => Promise<unknown>
> = {
  'images.pull': (engine, params, item) => {
    const request = (params.request ?? {}) as HostPullRequest;
    if (typeof request.reference !== 'string' || request.reference === '')
      throw new InvalidArgumentError('the request names no image to pull (request.reference)');
    return engine.images.pull(request, item);
  },
};

/**
 * A container's streams relayed over a channel (run attached, start -a, attach): `onGone` is what
 * the relay gets when the client goes (a hang-up, or an end of the relay alone). A client that
 * detaches first goes without it: the container runs on.
 */
async function relayProcess(
  io: ChannelIo,
  open: (options: HostAttachOptions) => Promise<ExecStream>,
  params: Params,
  onGone: NodeJS.Signals,
): Promise<unknown> {
  const given = (params.options ?? {}) as HostAttachOptions;
  const stream = await open({
    stdin: given.stdin === true,
    tty: given.tty === true,
    ...(given.consoleSize ? { consoleSize: given.consoleSize } : {}),
  });
  io.started(stream.pid);
  stream.onOutput((data, fd) => void io.output(data, fd));
  io.onInput((data) => (data === null ? stream.endInput() : stream.write(data)));
  io.onSignal((name) => stream.signal(name as NodeJS.Signals));
  io.onResize((rows, cols) => stream.resize(rows, cols));
  let detached: Promise<void> | undefined;
  io.onDetach(() => (detached ??= stream.detach?.()));
  io.signal.addEventListener('abort', () => detached ?? stream.signal(onGone), { once: true });
  const exitCode = await stream.exit;
  if (detached) {
    await detached;
    return { detached: true };
  }
  return { exitCode };
}

/** Calls with a process behind them: input and signals in, output out, the exit status last. */
const CHANNELS: Record<string, (engine: HostEngine, params: Params, io: ChannelIo) => Promise<unknown>> = {
  exec: async (engine, params, io) => {
    const given = (params.options ?? {}) as HostExecOptions;
    if (!Array.isArray(given.command) || given.command.length === 0)
      throw new InvalidArgumentError('exec needs a command');
    const stream = await engine.exec(reference(params), given);
    io.started(stream.pid);
    if (given.detach) return { exitCode: 0 };
    stream.onOutput((data, fd) => io.output(data, fd));
    io.onInput((data) => (data === null ? stream.endInput() : stream.write(data)));
    io.onSignal((name) => stream.signal(name as NodeJS.Signals));
    io.onResize((rows, cols) => stream.resize(rows, cols));
    // The client went (cancel, or the session ended): its terminal hung up.
    io.signal.addEventListener('abort', () => stream.signal('SIGHUP'), { once: true });
    return { exitCode: await stream.exit };
  },
  'start.attached': (engine, params, io) =>
    relayProcess(io, (given) => engine.startAttached(reference(params), given), params, 'SIGHUP'),
  // A client that goes has detached: the container goes on (the relay ends, nothing is signalled).
  attach: (engine, params, io) =>
    relayProcess(io, (given) => engine.attach(reference(params), given), params, 'SIGKILL'),
  'copy.from': async (engine, params, io) => {
    const request = (params.request ?? {}) as HostCopyFrom;
    if (typeof request.source !== 'string' || request.source === '')
      throw new InvalidArgumentError('cp needs a source path in the container (request.source)');
    const archive = await engine.copyFrom(reference(params), request);
    io.started(0);
    const { creditedWritable } = await import('./flow.js');
    await pipeline(
      archive,
      creditedWritable({
        send: (data) => io.output(data, 1),
        onCredit: (listener) => io.onCredit(listener),
        signal: io.signal,
      }),
    );
    return null;
  },
  'copy.to': async (engine, params, io) => {
    const request = (params.request ?? {}) as HostCopyTo;
    if (typeof request.destination !== 'string' || request.destination === '')
      throw new InvalidArgumentError('cp needs a destination path in the container (request.destination)');
    const { creditedReadable, StreamAbortedError } = await import('./flow.js');
    const input = creditedReadable((bytes) => io.credit(bytes));
    io.onInput((data) => (data === null ? input.end() : input.deliver(data)));
    io.signal.addEventListener(
      'abort',
      () => input.fail(new StreamAbortedError('the client stopped sending the archive')),
      { once: true },
    );
    const record = await engine.get(reference(params));
    io.started(0);
    await engine.copyTo(record.Id, request, input.readable);
    return null;
  },
};

/** Calls that answer with items until they end or are cancelled. */
const STREAMS: Record<
  string,
  (engine: HostEngine, params: Params, signal: AbortSignal) => AsyncIterable<unknown>
> = {
  events: (engine, _params, signal) => engine.events({ signal }),
  logs: (engine, params, signal) => {
    const given = (params.options ?? {}) as Record<string, unknown>;
    const options: HostLogOptions = { signal };
    if (given.follow === true) options.follow = true;
    if (typeof given.tail === 'number') options.tail = given.tail;
    if (typeof given.since === 'string') options.since = new Date(given.since);
    if (typeof given.until === 'string') options.until = new Date(given.until);
    if (given.positions === true) options.positions = true;
    if (given.start === true)
      return startFirst((onStart) => engine.logs(reference(params), { ...options, onStart }));
    return engine.logs(reference(params), options);
  },
};

/** The largest page `logs.older` reads at once (the TUI asks for 1000). */
const MAX_OLDER_PAGE = 10_000;

function logCursor(value: unknown): LogCursor {
  const cursor = (value ?? {}) as Record<string, unknown>;
  const whole = (field: unknown) => Number.isSafeInteger(field) && (field as number) >= 0;
  // The birth time is in milliseconds, with a fraction.
  const born = typeof cursor.born === 'number' && Number.isFinite(cursor.born) && cursor.born >= 0;
  if (!whole(cursor.inode) || !born || !whole(cursor.offset))
    throw new InvalidArgumentError(`not a log cursor: ${JSON.stringify(value)?.slice(0, 100)}`, {
      hint: 'give the cursor a logs stream sent ({ inode, born, offset }, numbers of at least 0)',
    });
  return { inode: cursor.inode as number, born: cursor.born as number, offset: cursor.offset as number };
}

function pageSize(value: unknown): number {
  if (!Number.isSafeInteger(value) || (value as number) < 1 || (value as number) > MAX_OLDER_PAGE)
    throw new InvalidArgumentError(`not a page size: ${JSON.stringify(value)}`, {
      hint: `give a whole number of lines from 1 to ${MAX_OLDER_PAGE}`,
    });
  return value as number;
}

/**
 * A logs stream whose first item says where its entries begin (`{ start: { olderBefore } }`,
 * null when nothing older is kept), sent as soon as the reader knows it: before the first entry,
 * and also when the tail is empty and following waits for output.
 */
async function* startFirst(
  open: (onStart: (olderBefore: LogCursor | undefined) => void) => AsyncIterable<LogEntry>,
): AsyncGenerator<unknown> {
  let start: { start: { olderBefore: LogCursor | null } } | undefined;
  let told: () => void = () => undefined;
  const known = new Promise<void>((resolve) => (told = resolve));
  const iterator = open((olderBefore) => {
    start = { start: { olderBefore: olderBefore ?? null } };
    told();
  })[Symbol.asyncIterator]();
  let sent = false;
  try {
    for (;;) {
      const next = iterator.next();
      if (!sent) {
        await Promise.race([next, known]);
        if (start) {
          sent = true;
          yield start;
        }
      }
      const result = await next;
      if (result.done) return;
      yield result.value;
    }
  } finally {
    await iterator.return?.();
  }
}

export function hello(): Hello {
  return {
    hello: 'gantry',
    protocol: PROTOCOL_VERSION,
    minProtocol: MIN_PROTOCOL_VERSION,
    gantry: GANTRY_VERSION,
  };
}

/** Serves until the input ends; resolves once every request under way has finished. */
export async function serve(engine: HostEngine, options: ServeOptions): Promise<void> {
  const { output } = options;
  let outputBroken = false;
  output.on('error', () => {
    // The client is gone (EPIPE): stop everything as if its input ended.
    outputBroken = true;
    for (const controller of running.values()) controller.abort();
  });
  const send = (message: ServerMessage): boolean => {
    if (outputBroken) return true;
    return output.write(`${JSON.stringify(message)}\n`);
  };
  /** Waits while the client reads slower than a stream produces. */
  const drained = (): Promise<void> =>
    new Promise((resolve) => {
      if (outputBroken) resolve();
      else output.once('drain', () => resolve());
    });

  const running = new Map<number, AbortController>();
  const inputs = new Map<number, (data: Buffer | null) => void>();
  const signals = new Map<number, (signal: string) => void>();
  const resizes = new Map<number, (rows: number, cols: number) => void>();
  const credits = new Map<number, (bytes: number) => void>();
  const detaches = new Map<number, () => void>();
  const under: Promise<void>[] = [];

  const handle = async (id: number, method: string, params: Params): Promise<void> => {
    const controller = new AbortController();
    running.set(id, controller);
    try {
      const call = CALLS[method];
      const progress = PROGRESS[method];
      const stream = STREAMS[method];
      const channel = options.channels?.[method];
      const builtIn = CHANNELS[method];
      if (call) {
        send({ id, result: (await call(engine, params)) ?? null });
      } else if (progress) {
        const result = await progress(engine, params, (item) => send({ id, item }));
        send({ id, result: result ?? null });
      } else if (stream) {
        for await (const item of stream(engine, params, controller.signal)) {
          if (controller.signal.aborted) break;
          if (!send({ id, item })) await drained();
        }
        send({ id, end: true });
      } else if (builtIn || channel) {
        const run = builtIn ? (p: Params, io: ChannelIo) => builtIn(engine, p, io) : channel!;
        const pendingInput: (Buffer | null)[] = [];
        inputs.set(id, (data) => pendingInput.push(data));
        // A resize before the process ran: its latest size applies once it does.
        let pendingSize: [number, number] | undefined;
        resizes.set(id, (rows, cols) => (pendingSize = [rows, cols]));
        const result = await run(params, {
          started: (pid) => send({ id, item: { pid } }),
          output: (data, fd) => (send({ id, output: data.toString('base64'), fd }) ? undefined : drained()),
          onInput: (listener) => {
            // Input the client sent before the process ran goes first.
            for (const data of pendingInput.splice(0)) listener(data);
            inputs.set(id, listener);
          },
          onSignal: (listener) => signals.set(id, listener),
          onResize: (listener) => {
            resizes.set(id, listener);
            if (pendingSize) listener(...pendingSize);
          },
          onCredit: (listener) => credits.set(id, listener),
          credit: (bytes) => send({ id, credit: bytes }),
          onDetach: (listener) => detaches.set(id, listener),
          signal: controller.signal,
        });
        send({ id, result: result ?? null });
      } else {
        throw new InvalidArgumentError(`unknown request ${JSON.stringify(method)}`, {
          hint: 'the gantry on this host is older than the client; upgrade it',
        });
      }
    } catch (error) {
      send({ id, error: encodeError(error) });
    } finally {
      running.delete(id);
      inputs.delete(id);
      signals.delete(id);
      resizes.delete(id);
      credits.delete(id);
      detaches.delete(id);
    }
  };

  output.write(`${JSON.stringify(hello())}\n`);
  const lines = readline.createInterface({ input: options.input, crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.trim()) continue;
    let message: ClientMessage;
    try {
      message = JSON.parse(line) as ClientMessage;
    } catch {
      send({ id: 0, error: encodeError(new InvalidArgumentError('a request that is not JSON')) });
      continue;
    }
    if (typeof message.id !== 'number') continue;
    if ('method' in message) {
      const task = handle(message.id, message.method, (message.params ?? {}) as Params);
      under.push(task);
      void task.finally(() => under.splice(under.indexOf(task), 1));
    } else if ('cancel' in message) {
      running.get(message.id)?.abort();
    } else if ('input' in message) {
      inputs.get(message.id)?.(message.input === null ? null : Buffer.from(message.input, 'base64'));
    } else if ('signal' in message) {
      signals.get(message.id)?.(message.signal);
    } else if ('resize' in message) {
      const { rows, cols } = message.resize ?? {};
      if (Number.isInteger(rows) && Number.isInteger(cols)) resizes.get(message.id)?.(rows, cols);
    } else if ('credit' in message) {
      if (Number.isSafeInteger(message.credit)) credits.get(message.id)?.(message.credit);
    } else if ('detach' in message) {
      detaches.get(message.id)?.();
    }
  }
  // The session ended: streams stop, calls under way finish (their work is journaled regardless).
  for (const controller of running.values()) controller.abort();
  await Promise.allSettled([...under]);
}
