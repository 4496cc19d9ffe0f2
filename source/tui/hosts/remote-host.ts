/**
 * One remote host of the TUI: its connection (one ssh session, one `gantry system service` on the
 * far end, every call multiplexed over it), whether it is up, and reconnecting with back-off when
 * it drops. A call to a host that is down fails at once with the host's name and ssh's words, so
 * nothing waits on it: the other hosts' rows, keys and panes go on as before.
 */
import type { HostEngine } from '../../runtime/remote/host-engine.js';
import { HostUnreachableError } from '../../runtime/remote/errors.js';
import type { HostStatus } from './keys.js';

/** An open connection: its engine, and a promise settled when the connection ends. */
export interface HostConnection {
  engine: HostEngine;
  ended: Promise<void>;
}

export interface RemoteHostSpec {
  /** What the TUI calls it: a connection's name, or the ssh:// address given. */
  name: string;
  connect(): Promise<HostConnection>;
}

/** Seconds between attempts: doubling from 1 to at most 30 (a host that comes back is seen soon). */
export const BACKOFF_MS = [1000, 2000, 4000, 8000, 16_000, 30_000] as const;

export class RemoteHost {
  private current: HostConnection | undefined;
  private connecting: Promise<HostEngine | undefined> | undefined;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly listeners = new Set<(status: HostStatus) => void>();
  private readonly upWaiters = new Set<(up: boolean) => void>();
  status: HostStatus;

  constructor(private readonly spec: RemoteHostSpec) {
    this.status = { name: spec.name, state: 'connecting' };
  }

  get name(): string {
    return this.spec.name;
  }

  onStatus(listener: (status: HostStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private setStatus(status: HostStatus): void {
    this.status = status;
    for (const listener of this.listeners) listener(status);
    if (status.state === 'up') {
      for (const wake of this.upWaiters) wake(true);
      this.upWaiters.clear();
    }
  }

  /** Connects now unless connected or trying; later attempts follow the back-off. */
  start(): void {
    void this.attempt();
  }

  private attempt(): Promise<HostEngine | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    if (this.current) return Promise.resolve(this.current.engine);
    this.connecting ??= (async () => {
      clearTimeout(this.timer);
      if (this.status.state !== 'unreachable') this.setStatus({ name: this.name, state: 'connecting' });
      try {
        const connection = await this.spec.connect();
        if (this.closed) {
          connection.engine.close();
          return undefined;
        }
        this.current = connection;
        this.failures = 0;
        void connection.ended.then(() => this.dropped(connection));
        this.setStatus({ name: this.name, state: 'up' });
        return connection.engine;
      } catch (error) {
        this.retryLater((error as Error).message);
        return undefined;
      } finally {
        this.connecting = undefined;
      }
    })();
    return this.connecting;
  }

  private dropped(connection: HostConnection): void {
    if (this.current !== connection) return;
    this.current = undefined;
    if (this.closed) return;
    this.retryLater('the connection was lost');
  }

  private retryLater(reason: string): void {
    if (this.closed) return;
    const delay = BACKOFF_MS[Math.min(this.failures, BACKOFF_MS.length - 1)]!;
    this.failures += 1;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.attempt(), delay);
    this.timer.unref();
    this.setStatus({
      name: this.name,
      state: 'unreachable',
      error: reason,
      retryAt: Date.now() + delay,
      retryInMs: delay,
    });
  }

  /** The engine if the host is up; otherwise the reason, naming the host, at once. */
  engine(): HostEngine {
    if (this.current) return this.current.engine;
    const why = this.status.error ?? 'connecting';
    const retry = this.status.retryAt
      ? `; reconnecting in ${Math.max(1, Math.ceil((this.status.retryAt - Date.now()) / 1000))}s`
      : '';
    throw new HostUnreachableError(this.name, `${why}${retry}`);
  }

  /** Resolves when the host is up (again), or `signal` aborts. */
  whenUp(signal: AbortSignal): Promise<boolean> {
    if (this.current) return Promise.resolve(true);
    if (signal.aborted || this.closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (up: boolean) => {
        this.upWaiters.delete(wake);
        signal.removeEventListener('abort', abort);
        resolve(up);
      };
      const wake = (up: boolean) => done(up);
      const abort = () => done(false);
      this.upWaiters.add(wake);
      signal.addEventListener('abort', abort, { once: true });
    });
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.current?.engine.close();
    this.current = undefined;
    for (const wake of this.upWaiters) wake(false);
    this.upWaiters.clear();
  }
}
