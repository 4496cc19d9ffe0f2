/**
 * The mounts of a container being created, completed as docker's daemon completes them: the
 * mounts of `--volumes-from` containers where the user gave none, an anonymous volume for each
 * image VOLUME still uncovered, every volume made (or found), a missing `-v` host directory made,
 * and the image's content copied into each volume that is new and empty. Runs under the volumes
 * lock (shared), which the caller keeps until the container's record is saved: a `volume rm`
 * either sees the new user or finishes before the volume is named.
 *
 * Removal of a container's anonymous volumes (`rm -v`, `--rm`) is here too.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { NotFoundError } from '../errors.js';
import { exists, FileLock } from '../fsutil.js';
import type { Journal, JournalEntry } from '../journal.js';
import type { StateLayout } from '../paths.js';
import type { ContainerRecord, MountPoint } from '../containers/record.js';
import type { ContainerStore } from '../containers/store.js';
import { trace } from '../trace.js';
import { ANONYMOUS_LABEL } from './names.js';
import { anonymousVolume, parseVolumesFrom } from './mount-spec.js';
import { prefillVolume } from './prefill.js';
import { VolumeStore } from './store.js';
import { storedVolumeUsers } from './usage.js';

export interface MountContext {
  layout: StateLayout;
  containers: ContainerStore;
}

export interface PrepareOptions {
  /** --volumes-from values. */
  volumesFrom?: readonly string[];
  /** The image's VOLUME paths (config.Volumes keys); none for a build step. */
  imageVolumes?: readonly string[];
  /**
   * Each anonymous volume gets a journal entry before it is made, pushed onto `held`; the caller
   * ends them once the record is saved (or the volumes are removed again). Should the process die
   * in between, the next one removes the volume unless a saved container mounts it.
   */
  journal?: { journal: Journal; held: JournalEntry[] };
}

function normalize(destination: string): string {
  const normal = path.posix.normalize(destination);
  return normal.length > 1 ? normal.replace(/\/$/, '') : normal;
}

/**
 * Completes record.Mounts and makes the volumes. Returns the volumes lock (shared), to release
 * once the record is saved; on failure it is released here and anonymous volumes made for this
 * container are removed again.
 */
export async function prepareMounts(
  context: MountContext,
  record: ContainerRecord,
  options: PrepareOptions = {},
): Promise<FileLock> {
  const store = new VolumeStore(context.layout);
  const taken = new Set(record.Mounts.map((mount) => mount.Destination));
  for (const value of options.volumesFrom ?? []) {
    const { container, mode } = parseVolumesFrom(value);
    const id = await context.containers.resolveId(container);
    const source = await context.containers.load(id);
    for (const mount of source.Mounts) {
      if (taken.has(mount.Destination)) continue;
      taken.add(mount.Destination);
      const copy: MountPoint = { ...mount, ReadOnly: mode === 'ro' ? true : mount.ReadOnly };
      // The volume is the other container's content: it is never filled again from this image.
      copy.NoCopy = true;
      if (mode !== '') copy.Mode = mode;
      record.Mounts.push(copy);
    }
  }
  if ((options.volumesFrom ?? []).length > 0)
    record.HostConfig.VolumesFrom = [...(options.volumesFrom ?? [])];
  for (const imagePath of options.imageVolumes ?? []) {
    const destination = normalize(imagePath);
    if (!path.posix.isAbsolute(destination) || destination === '/' || taken.has(destination)) continue;
    taken.add(destination);
    record.Mounts.push(anonymousVolume(destination));
  }
  const labelsByDestination = new Map<string, Record<string, string>>();
  for (const spec of record.HostConfig.Mounts ?? []) {
    const labels = (spec.VolumeOptions as { Labels?: Record<string, string> } | undefined)?.Labels;
    if (labels && typeof spec.Target === 'string') labelsByDestination.set(normalize(spec.Target), labels);
  }
  const lock = await store.lock({ shared: true });
  const made: string[] = [];
  try {
    for (const mount of record.Mounts) {
      if (mount.Type === 'bind' || mount.Type === undefined) {
        // docker makes a missing -v host directory (--mount refused it already, at parse).
        if (!(await exists(mount.Source))) await fsp.mkdir(mount.Source, { recursive: true });
        continue;
      }
      if (mount.Type !== 'volume' || !mount.Name) continue;
      const labels = mount.Anonymous
        ? { [ANONYMOUS_LABEL]: '' }
        : (labelsByDestination.get(mount.Destination) ?? {});
      if (mount.Anonymous && options.journal)
        options.journal.held.push(options.journal.journal.begin('volume', mount.Name));
      const { created } = await store.create({ name: mount.Name, labels });
      if (created && mount.Anonymous) made.push(mount.Name);
      mount.Source = store.dataPath(mount.Name);
      if (mount.NoCopy) continue;
      const fill = await FileLock.acquire(path.join(context.layout.locks, `volume-${mount.Name}.lock`));
      try {
        if (await prefillVolume(record.LayerDirs, mount.Destination, mount.Source))
          trace(`create: volume ${mount.Name} filled from the image's ${mount.Destination}`);
      } finally {
        fill.release();
      }
    }
    return lock;
  } catch (error) {
    for (const name of made) await store.remove(name).catch(() => undefined);
    lock.release();
    throw error;
  }
}

/**
 * Removes the anonymous volumes of a container that is gone (its record already removed), unless
 * another container still mounts one (shared with --volumes-from): docker's `rm -v` and `--rm`.
 */
export async function removeAnonymousVolumes(
  context: MountContext,
  record: ContainerRecord,
): Promise<string[]> {
  const names = record.Mounts.filter((mount) => mount.Type === 'volume' && mount.Anonymous && mount.Name).map(
    (mount) => mount.Name!,
  );
  if (names.length === 0) return [];
  const store = new VolumeStore(context.layout);
  return store.withLock(async () => {
    const users = await storedVolumeUsers(context.containers);
    const removed: string[] = [];
    for (const name of names) {
      if ((users.get(name) ?? []).some((user) => user.id !== record.Id)) continue;
      try {
        await store.remove(name);
        removed.push(name);
      } catch (error) {
        if (!(error instanceof NotFoundError)) throw error;
      }
    }
    return removed;
  });
}

/**
 * An anonymous volume whose create died before the container's record was saved (its journal
 * entry was left): removed unless a saved container mounts it after all.
 */
export async function removeAbandonedVolume(context: MountContext, name: string): Promise<void> {
  const store = new VolumeStore(context.layout);
  await store.withLock(async () => {
    const volume = await store.find(name);
    if (!volume || !(ANONYMOUS_LABEL in volume.Labels)) return;
    if (((await storedVolumeUsers(context.containers)).get(name) ?? []).length > 0) return;
    await store.remove(name);
    trace(`recovery: anonymous volume ${name} of a create that died removed`);
  });
}
