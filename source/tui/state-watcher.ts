/**
 * Watches the state root for changes made by any process (this TUI, another TUI, the CLI, a
 * container's monitor): a container directory appearing or going, a container's state.json or
 * exit.json being written, image records changing. Reports container ids and image changes,
 * debounced, so a burst of writes becomes one refresh. Log writes are ignored (the Logs pane
 * follows its own file).
 */
import fs from 'node:fs';
import path from 'node:path';

export interface StateWatcherCallbacks {
  /** A container's record may have changed (or the container is gone). */
  container(id: string): void;
  /** Image records changed. */
  images(): void;
  /** A long operation was recorded or finished (the journal): one may have been left half-done. */
  journal?(): void;
  /** A watch could not be set up; the TUI still works from engine events. */
  error(error: Error): void;
}

const CONTAINER_ID = /^[0-9a-f]{64}$/;
const RECORD_FILES = /^(state\.json|exit\.json)/;

export class StateWatcher {
  private readonly watchers = new Map<string, fs.FSWatcher>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private closed = false;

  constructor(
    private readonly root: string,
    private readonly callbacks: StateWatcherCallbacks,
    private readonly debounceMs = 30,
  ) {}

  start(): void {
    for (const directory of ['containers', 'images', 'journal'])
      fs.mkdirSync(path.join(this.root, directory), { recursive: true });
    this.watch('containers', path.join(this.root, 'containers'), (_event, name) => {
      if (!name || !CONTAINER_ID.test(name)) return;
      this.later(name, () => this.callbacks.container(name));
      this.syncContainerWatches();
    });
    this.watch('images', path.join(this.root, 'images'), () =>
      this.later('images', () => this.callbacks.images(), 100),
    );
    this.watch('journal', path.join(this.root, 'journal'), () =>
      this.later('journal', () => this.callbacks.journal?.(), 100),
    );
    this.syncContainerWatches();
  }

  private watch(
    key: string,
    directory: string,
    listener: (event: string, name: string | null) => void,
  ): void {
    if (this.closed || this.watchers.has(key)) return;
    try {
      const watcher = fs.watch(directory, { persistent: false }, (event, name) =>
        listener(event, name === null ? null : String(name)),
      );
      watcher.on('error', () => this.unwatch(key));
      this.watchers.set(key, watcher);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.callbacks.error(error as Error);
    }
  }

  private unwatch(key: string): void {
    this.watchers.get(key)?.close();
    this.watchers.delete(key);
  }

  /** One watch per container directory, for its record files. */
  private syncContainerWatches(): void {
    let ids: string[];
    try {
      ids = fs.readdirSync(path.join(this.root, 'containers')).filter((name) => CONTAINER_ID.test(name));
    } catch {
      return;
    }
    const present = new Set(ids);
    for (const key of [...this.watchers.keys()]) {
      if (CONTAINER_ID.test(key) && !present.has(key)) this.unwatch(key);
    }
    for (const id of ids) {
      this.watch(id, path.join(this.root, 'containers', id), (_event, name) => {
        if (name && RECORD_FILES.test(name)) this.later(id, () => this.callbacks.container(id));
      });
    }
  }

  private later(key: string, action: () => void, delay = this.debounceMs): void {
    if (this.closed) return;
    clearTimeout(this.timers.get(key));
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        if (!this.closed) action();
      }, delay),
    );
  }

  /** Number of directories watched (for the benchmark and tests). */
  get watchCount(): number {
    return this.watchers.size;
  }

  close(): void {
    this.closed = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    for (const key of [...this.watchers.keys()]) this.unwatch(key);
  }
}
