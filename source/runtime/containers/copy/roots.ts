/**
 * The root a `cp` reads or writes, as a directory descriptor, with the container's mounts in it.
 *
 * Running (or paused): its own root through /proc/PID/root, checked to still be its init (a pid
 * reused meanwhile fails the identity check), so its volumes and binds are where its processes
 * see them and a read-only mount refuses writes as it does for them.
 *
 * Stopped: its overlay is mounted in a mount namespace of a short-lived process of our own
 * (`unshare -m`), never on the host, and reached through that process's /proc/PID/root; its
 * volumes and binds are bound there onto destinations resolved inside the root (made if missing,
 * as a start would). The process ends when its stdin closes, so a gantry killed mid-copy leaves no
 * mount: the namespace goes with it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { ConflictError, GantryError } from '../../errors.js';
import type { FileLock } from '../../fsutil.js';
import { DirectoryHandle, openInRoot, openRoot } from '../../in-root.js';
import { O_PATH } from '../../sys/libc.js';
import type { EngineCore } from '../core.js';
import { overlayData } from '../launch.js';
import { isAlive } from '../process-identity.js';
import type { ContainerRecord, MountPoint } from '../record.js';

const { O_RDONLY, O_DIRECTORY } = fs.constants;

export interface ContainerRoot {
  root: DirectoryHandle;
  running: boolean;
  /** Destinations of read-only mounts (for a stopped container, whose binds here are all rw). */
  readOnlyMounts: string[];
  close(): Promise<void>;
}

function isRunning(record: ContainerRecord): boolean {
  return (
    (record.State.Status === 'running' || record.State.Status === 'paused') &&
    record.InitProcess !== undefined
  );
}

/** Mounts the overlay and binds in a private namespace; this script is all the child runs. */
const STOPPED_ROOT_SCRIPT = [
  'cd "$1" || exit 1',
  'mount -t overlay overlay -o "$2" "$3" || exit 1',
  'echo ready',
  // One bind per three lines (source, target, unused), answered ok or fail; EOF ends it all.
  'while IFS= read -r src && IFS= read -r dst && IFS= read -r _; do',
  '  if mount --no-canonicalize --bind "$src" "$dst" 2>/dev/null; then echo ok; else echo fail; fi',
  'done',
].join('\n');

/** Makes the directories of `destination` inside the root (following links inside it only). */
function ensureDirectoryInRoot(rootFd: number, destination: string): number {
  const parts = destination.split('/').filter(Boolean);
  let current = '';
  for (const part of parts) {
    const next = `${current}/${part}`;
    try {
      fs.closeSync(openInRoot(rootFd, next, O_PATH | O_DIRECTORY));
    } catch {
      const parentFd = openInRoot(rootFd, current || '/', O_RDONLY | O_DIRECTORY);
      try {
        fs.mkdirSync(`/proc/self/fd/${parentFd}/${part}`, { mode: 0o755 });
      } finally {
        fs.closeSync(parentFd);
      }
    }
    current = next;
  }
  return openInRoot(rootFd, destination, O_PATH | O_DIRECTORY);
}

async function openStoppedRoot(
  core: EngineCore,
  record: ContainerRecord,
  lock: FileLock,
  withMounts: boolean,
): Promise<ContainerRoot> {
  const { data, cwd } = overlayData(core, record);
  const merged = path.join(core.containers.dir(record.Id), 'merged');
  const child: ChildProcess = spawn(
    'unshare',
    ['--mount', '--propagation', 'private', '--', 'sh', '-c', STOPPED_ROOT_SCRIPT, 'sh', cwd, data, merged],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const close = async (): Promise<void> => {
    child.stdin!.end();
    if (child.exitCode === null && child.signalCode === null)
      await once(child, 'exit').catch(() => undefined);
    lock.release();
  };
  try {
    const first = await lines.next();
    if (first.done || first.value !== 'ready') {
      throw new GantryError(
        `cannot mount the root of container ${record.Name} to copy: ${stderr.trim() || 'the mount helper ended'}`,
      );
    }
    const rootFd = openRoot(`/proc/${child.pid}/root${merged}`);
    try {
      const sorted = (withMounts ? [...record.Mounts] : [])
        .filter(
          (mount: MountPoint) =>
            mount.Type !== 'tmpfs' && fs.statSync(mount.Source, { throwIfNoEntry: false })?.isDirectory(),
        )
        .sort((a, b) => a.Destination.split('/').length - b.Destination.split('/').length);
      for (const mount of sorted) {
        const target = ensureDirectoryInRoot(rootFd, mount.Destination);
        try {
          child.stdin!.write(`${mount.Source}\n/proc/${process.pid}/fd/${target}\n-\n`);
          const answer = await lines.next();
          if (answer.done || answer.value !== 'ok') {
            throw new GantryError(
              `cannot mount ${mount.Source} on ${mount.Destination} of container ${record.Name} to copy`,
            );
          }
        } finally {
          fs.closeSync(target);
        }
      }
      const root = DirectoryHandle.fromDescriptor(
        openInRoot(rootFd, '/', O_RDONLY | O_DIRECTORY),
        `container ${record.Name}`,
      );
      return {
        root,
        running: false,
        readOnlyMounts: record.Mounts.filter((mount) => mount.ReadOnly).map((mount) => mount.Destination),
        close: async () => {
          root.close();
          await close();
        },
      };
    } finally {
      fs.closeSync(rootFd);
    }
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * Opens the container's root for a copy; close() it when done. `withMounts: false` (export):
 * a stopped container's volumes and binds are left out; a running one's are still there (its
 * own root), so the caller skips its mount points.
 */
export async function openContainerRoot(
  core: EngineCore,
  record: ContainerRecord,
  options: { withMounts?: boolean } = {},
): Promise<ContainerRoot> {
  if (isRunning(record)) {
    const rootFd = openRoot(`/proc/${record.InitProcess!.pid}/root`);
    try {
      // The pid could have been reused between the record and the open: the identity says.
      if (!isAlive(record.InitProcess)) {
        throw new ConflictError(`container ${record.Name} stopped while the copy began; try again`);
      }
      const root = DirectoryHandle.fromDescriptor(
        openInRoot(rootFd, '/', O_RDONLY | O_DIRECTORY),
        `container ${record.Name}`,
      );
      return { root, running: true, readOnlyMounts: [], close: async () => root.close() };
    } finally {
      fs.closeSync(rootFd);
    }
  }
  // A stopped container must not start while its root is mounted elsewhere.
  const lock = await core.containers.lock(record.Id, { wait: true, timeoutMs: 60_000 });
  if (!lock)
    throw new ConflictError(`container ${record.Name} is busy: another gantry process holds its lock`);
  let current: ContainerRecord;
  try {
    current = await core.containers.load(record.Id);
  } catch (error) {
    lock.release();
    throw error;
  }
  if (isRunning(current)) {
    // Started meanwhile: its own root is the one to use.
    lock.release();
    return openContainerRoot(core, current, options);
  }
  return openStoppedRoot(core, current, lock, options.withMounts !== false);
}
