/**
 * One ssh connection to a remote gantry: the user's `ssh` (spawned with execa) runs
 * `gantry system service --stdio` there, and every call, stream and exec of the client goes over
 * its stdin/stdout as JSON lines, told apart by request id. Nothing listens anywhere: the service
 * lives as long as this connection. When ssh ends, whatever is pending fails with ssh's own words.
 */
import readline from 'node:readline';
import type { ResultPromise } from 'execa';
import { MIN_PROTOCOL_VERSION, PROTOCOL_VERSION, GANTRY_VERSION, decodeError } from './protocol.js';
import type { ClientMessage, Hello, ServerMessage, WireError } from './protocol.js';
import { HostUnreachableError, ProtocolVersionError, RemoteGantryError } from './errors.js';
import { sshCommand, type SshTarget } from './ssh-url.js';
import type { GantryError } from '../errors.js';

/** What a request's replies go to. */
interface Pending {
  item?(value: unknown): void;
  output?(data: Buffer, fd: 1 | 2): void;
  credit?(bytes: number): void;
  result(value: unknown): void;
  end?(): void;
  error(error: Error): void;
}

export interface ConnectionOptions {
  /** The remote side's stderr after the hello (its warnings), line by line. */
  onStderr?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
  /**
   * Share one ssh connection per host through a master whose socket is in this private directory
   * (control-path.ts); without it this connection is ssh's own.
   */
  controlDirectory?: string;
}

/** A channel of one exec or relayed command: input in, output out, an exit code at the end. */
export interface Channel {
  onOutput(listener: (data: Buffer, fd: 1 | 2) => void): void;
  write(data: Buffer): void;
  endInput(): void;
  signal(name: string): void;
  resize(rows: number, cols: number): void;
  /** Tells the server this many more bytes of its output were read (flow.ts). */
  credit(bytes: number): void;
  /** Credit from the server for this channel's input. */
  onCredit(listener: (bytes: number) => void): void;
  cancel(): void;
  /** Ends an attached container's relay, leaving it running (the result follows). */
  detach(): void;
  /** The first item: the process runs (its pid), or the error it could not start with. */
  readonly started: Promise<{ pid: number }>;
  /** The call's result (an exit code). */
  readonly result: Promise<unknown>;
}

export class Connection {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private lost: Error | undefined;
  private readonly stderrLines: string[] = [];
  private hello: Hello | undefined;
  /** Resolves when ssh has exited. */
  readonly ended: Promise<void>;

  private constructor(
    readonly target: SshTarget,
    private readonly child: ResultPromise,
    private readonly options: ConnectionOptions,
  ) {
    this.ended = Promise.resolve(child).then(
      () => undefined,
      () => undefined,
    );
  }

  get remoteVersion(): Hello | undefined {
    return this.hello;
  }

  /** Opens the connection and waits for the service's hello (the versions it speaks). */
  static async open(target: SshTarget, options: ConnectionOptions = {}): Promise<Connection> {
    const { execa } = await import('execa');
    const { controlArgs } = await import('./control-path.js');
    const { file, args } = sshCommand(
      target,
      ['system', 'service', '--stdio'],
      options.env,
      options.controlDirectory ? controlArgs(options.controlDirectory) : [],
    );
    const child = execa(file, args, {
      stdin: 'pipe',
      stdout: 'pipe',
      stderr: 'pipe',
      buffer: false,
      reject: false,
      encoding: 'buffer',
      ...(options.env ? { env: options.env, extendEnv: false } : {}),
    });
    const connection = new Connection(target, child, options);
    return connection.start();
  }

  private start(): Promise<Connection> {
    const host = this.target.url;
    return new Promise<Connection>((resolve, reject) => {
      readline.createInterface({ input: this.child.stderr! }).on('line', (line) => {
        this.stderrLines.push(line);
        if (this.stderrLines.length > 20) this.stderrLines.shift();
        if (this.hello) this.options.onStderr?.(line);
      });
      // A write after ssh died must not kill this process (EPIPE): the exit reports it.
      this.child.stdin!.on('error', () => undefined);
      const lines = readline.createInterface({ input: this.child.stdout! });
      lines.on('line', (line) => {
        let message: ServerMessage;
        try {
          message = JSON.parse(line) as ServerMessage;
        } catch {
          if (!this.hello) {
            this.child.kill();
            reject(
              new RemoteGantryError(
                host,
                `answered with something else than the protocol: ${line.slice(0, 200)}`,
                {
                  hint: "the URL's path must name a gantry (ssh://host/path/to/gantry); a login script that prints must print to stderr",
                },
              ),
            );
          }
          return;
        }
        if (!this.hello) {
          if (!('hello' in message)) return;
          this.hello = message;
          const local = {
            protocol: PROTOCOL_VERSION,
            minProtocol: MIN_PROTOCOL_VERSION,
            gantry: GANTRY_VERSION,
          };
          if (message.protocol < MIN_PROTOCOL_VERSION || message.minProtocol > PROTOCOL_VERSION) {
            this.child.kill();
            reject(new ProtocolVersionError(host, message, local));
            return;
          }
          resolve(this);
          return;
        }
        this.dispatch(message);
      });
      void this.child.then((result) => {
        const reason = this.reason(result.exitCode, result.signal);
        if (!this.hello) {
          reject(this.startFailure(result.exitCode, reason));
          return;
        }
        this.lost = new HostUnreachableError(host, `the connection was lost (${reason})`);
        for (const [, pending] of this.pending) pending.error(this.lost);
        this.pending.clear();
      });
    });
  }

  private reason(exitCode: number | undefined, signal: string | undefined): string {
    const said = this.stderrLines
      .filter((line) => line.trim())
      .slice(-3)
      .join('; ');
    if (said) return said;
    return signal ? `ssh ended by ${signal}` : `ssh exited with status ${exitCode}`;
  }

  private startFailure(exitCode: number | undefined, reason: string): GantryError {
    const host = this.target.url;
    // ssh's own failures (resolve, connect, authenticate) exit 255; anything else is the command's.
    if (exitCode === 255 || exitCode === undefined) return new HostUnreachableError(host, reason);
    if (/is not a gantry command/.test(reason))
      return new RemoteGantryError(host, 'is too old: it has no `system service` to serve this gantry', {
        hint: `upgrade gantry on ${host}`,
      });
    if (exitCode === 127)
      return new RemoteGantryError(host, `was not found: ${reason}`, {
        hint: `install gantry there, or name it in the address: ssh://host/path/to/gantry (now ${JSON.stringify(this.target.gantry)})`,
      });
    return new RemoteGantryError(host, `did not start its service: ${reason}`);
  }

  private dispatch(message: ServerMessage): void {
    if (!('id' in message)) return;
    const pending = this.pending.get(message.id);
    if (!pending) return;
    if ('item' in message) pending.item?.(message.item);
    else if ('output' in message) pending.output?.(Buffer.from(message.output, 'base64'), message.fd);
    else if ('credit' in message) pending.credit?.(message.credit);
    else if ('end' in message) {
      this.pending.delete(message.id);
      pending.end?.();
    } else if ('result' in message) {
      this.pending.delete(message.id);
      pending.result(message.result);
    } else if ('error' in message) {
      this.pending.delete(message.id);
      pending.error(this.remoteError(message.error));
    }
  }

  private remoteError(wire: WireError): GantryError {
    return decodeError(wire, this.target.url);
  }

  private send(message: ClientMessage): void {
    if (this.lost) return;
    this.child.stdin!.write(`${JSON.stringify(message)}\n`);
  }

  private request(method: string, params: unknown, pending: Pending): number {
    const id = this.nextId++;
    if (this.lost) {
      pending.error(this.lost);
      return id;
    }
    this.pending.set(id, pending);
    this.send({ id, method, params });
    return id;
  }

  /** One call: its result, or the remote error as this side's error class. */
  call<T>(method: string, params?: unknown): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.request(method, params, { result: (value) => resolve(value as T), error: reject });
    });
  }

  /** A call whose progress comes as items before its result (a pull's transfer events). */
  progress<T, I>(method: string, params: unknown, onItem?: (item: I) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.request(method, params, {
        item: (value) => onItem?.(value as I),
        result: (value) => resolve(value as T),
        error: reject,
      });
    });
  }

  /** A stream of items until the server ends it, `signal` aborts, or the consumer stops. */
  async *stream<T>(method: string, params: unknown, signal?: AbortSignal): AsyncGenerator<T> {
    const queue: T[] = [];
    let done = false;
    let failure: Error | undefined;
    let wake: (() => void) | undefined;
    const notify = () => {
      wake?.();
      wake = undefined;
    };
    const id = this.request(method, params, {
      item: (value) => {
        queue.push(value as T);
        notify();
      },
      result: () => {
        done = true;
        notify();
      },
      end: () => {
        done = true;
        notify();
      },
      error: (error) => {
        failure = error;
        notify();
      },
    });
    const cancel = () => {
      if (!this.pending.has(id)) return;
      this.send({ id, cancel: true });
      done = true;
      notify();
    };
    signal?.addEventListener('abort', cancel, { once: true });
    try {
      for (;;) {
        if (queue.length > 0) {
          yield queue.shift()!;
          continue;
        }
        if (failure) throw failure;
        if (done || signal?.aborted) return;
        await new Promise<void>((resolve) => (wake = resolve));
      }
    } finally {
      signal?.removeEventListener('abort', cancel);
      // The consumer stopped early (break, an error): the server stops reading for it too.
      if (this.pending.has(id)) {
        this.pending.delete(id);
        this.send({ id, cancel: true });
      }
    }
  }

  /** An exec (or a relayed command): bytes both ways, signals, and its result at the end. */
  channel(method: string, params: unknown): Channel {
    const listeners: ((data: Buffer, fd: 1 | 2) => void)[] = [];
    const creditListeners: ((bytes: number) => void)[] = [];
    const early: [Buffer, 1 | 2][] = [];
    let id = 0;
    let markStarted: (value: { pid: number }) => void = () => undefined;
    let failStart: (error: Error) => void = () => undefined;
    const started = new Promise<{ pid: number }>((resolve, reject) => {
      markStarted = resolve;
      failStart = reject;
    });
    const result = new Promise<unknown>((resolve, reject) => {
      id = this.request(method, params, {
        item: (value) => markStarted(value as { pid: number }),
        output: (data, fd) => {
          if (listeners.length === 0) early.push([data, fd]);
          for (const listener of listeners) listener(data, fd);
        },
        credit: (bytes) => {
          for (const listener of creditListeners) listener(bytes);
        },
        result: (value) => {
          markStarted({ pid: 0 });
          resolve(value);
        },
        error: (error) => {
          failStart(error);
          reject(error);
        },
      });
    });
    // Whoever awaits `started` sees a failure there; `result` then is not awaited by anyone.
    result.catch(() => undefined);
    return {
      onOutput: (listener) => {
        listeners.push(listener);
        for (const [data, fd] of early.splice(0)) listener(data, fd);
      },
      write: (data) => this.send({ id, input: data.toString('base64') }),
      endInput: () => this.send({ id, input: null }),
      signal: (name) => this.send({ id, signal: name }),
      resize: (rows, cols) => this.send({ id, resize: { rows, cols } }),
      credit: (bytes) => this.send({ id, credit: bytes }),
      onCredit: (listener) => creditListeners.push(listener),
      cancel: () => this.send({ id, cancel: true }),
      detach: () => this.send({ id, detach: true }),
      started,
      result,
    };
  }

  /** Ends the connection: stdin closes, the service sees its end and exits; ssh follows. */
  close(): void {
    this.child.stdin?.end();
  }

  /** Ends ssh at once (a host that hangs). */
  kill(): void {
    this.child.kill();
  }
}
