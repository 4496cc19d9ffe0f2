/**
 * Finishes or undoes what a killed gantry process left half-done, from the journal
 * (../journal.ts): every command that opens the engine, and the TUI, runs this first, so a
 * killed `rm -f` is finished, a killed create frees its name and directory, a killed commit
 * thaws the container it froze, a killed build removes its step containers, and a killed image
 * operation leaves no orphaned layer, blob, work directory or download, a killed `kube play` leaves no part
 * of a pod, at once rather than at some later
 * command that happens to look.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { NotFoundError } from '../errors.js';
import { exists, sweepDeadWriters } from '../fsutil.js';
import type { AbandonedEntry } from '../journal.js';
import { trace } from '../trace.js';
import type { Engine } from './engine.js';
import { beingCreated, namesOf, rebuildRecord } from './recovery.js';
import type { ContainerRecord } from './record.js';
import type { NameOwner } from './store.js';

/**
 * Runs the recovery of every abandoned entry; one that fails stays for the next process. Gives the
 * names of the entries it tried (journal.anyUnderWay: an entry whose owner died after this pass
 * looked at it is still to recover, one whose recovery failed here is not).
 */
export async function finishInterruptedOperations(engine: Engine): Promise<ReadonlySet<string>> {
  const tried = new Set<string>();
  for await (const entry of engine.journal.abandoned()) {
    tried.add(entry.name);
    try {
      await recover(engine, entry);
      entry.done();
      trace(`recovered: ${entry.operation} ${entry.subject.slice(0, 12)}`);
    } catch (error) {
      entry.release();
      engine.warn(
        `could not finish the ${entry.operation} that process ${entry.pid} left unfinished: ${(error as Error).message}`,
      );
    }
  }
  // Removals cut short after the directory was renamed away (or before the journal existed).
  await engine.containers
    .sweepRemovedDirectories()
    .catch((error: unknown) =>
      engine.warn(`could not sweep removed containers: ${(error as Error).message}`),
    );
  // Records of the shared stores whose writer was killed between its write and its rename.
  for (const store of ['images', 'build-cache', 'networks', 'userns']) {
    const directory = path.join(engine.layout.root, store);
    await sweepDeadWriters(directory).catch((error: unknown) =>
      engine.warn(`could not sweep ${directory}: ${(error as Error).message}`),
    );
  }
  return tried;
}

async function recover(engine: Engine, entry: AbandonedEntry): Promise<void> {
  switch (entry.operation) {
    case 'create':
      return undoCreate(engine, entry.subject);
    case 'remove':
      return finishRemove(engine, entry.subject);
    case 'pause':
      return engine.undoTemporaryPause(entry.subject);
    case 'commit':
      await engine.undoTemporaryPause(entry.subject);
      await engine.images.gc();
      return;
    case 'build': {
      const { sweepOrphanedStepContainers } = await import('../images/build/run-step.js');
      await sweepOrphanedStepContainers(engine);
      await engine.images.gc();
      return;
    }
    case 'image-rm':
    case 'import':
      await engine.images.gc();
      return;
    case 'pull': {
      await engine.images.gc();
      // Its downloads (partial or whole, and their locks) are wanted by no process now.
      const [{ sweepPullCache }, { pullCacheDirectory }] = await Promise.all([
        import('../images/registry/blob-lock.js'),
        import('../images/registry/transfer.js'),
      ]);
      await sweepPullCache(pullCacheDirectory(engine.layout));
      return;
    }
    case 'volume': {
      const { removeAbandonedVolume } = await import('../volumes/attach.js');
      return removeAbandonedVolume(engine, entry.subject);
    }
    case 'play': {
      const { undoPlay } = await import('../kube/play.js');
      return undoPlay(engine, entry.subject);
    }
  }
}

/** A create that died: its directory and name go, unless it got as far as saving the record. */
async function undoCreate(engine: Engine, id: string): Promise<void> {
  if (await exists(engine.containers.file(id, 'state.json'))) return;
  for (const name of await namesOf(engine, id)) await engine.containers.releaseName(name, id);
  await engine.containers.removeDirectory(id);
}

/** A removal that died: what is left of the container is ended and removed. */
async function finishRemove(engine: Engine, id: string): Promise<void> {
  if (await exists(engine.containers.dir(id))) {
    try {
      await engine.remove(id, { force: true });
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
  }
  for (const name of await namesOf(engine, id)) await engine.containers.releaseName(name, id);
  await engine.containers.sweepRemovedDirectories(id);
}

/**
 * load() of a directory without state.json: a create under way is "being created", one that died
 * is undone (not found), and anything else is a container whose record was lost: rebuilt.
 */
export async function missingRecord(engine: Engine, id: string): Promise<ContainerRecord> {
  if (engine.journal.isUnderWay('create', id)) throw beingCreated(id);
  for await (const entry of engine.journal.abandoned({ operation: 'create', subject: id })) {
    try {
      await undoCreate(engine, id);
      entry.done();
    } catch (error) {
      entry.release();
      throw error;
    }
  }
  if (!(await exists(engine.containers.dir(id)))) throw new NotFoundError(`no such container: ${id}`);
  const saved = await fsp.access(engine.containers.file(id, 'state.json')).then(
    () => true,
    () => false,
  );
  // Finished meanwhile (its create saved the record between our look and now).
  if (saved) return engine.containers.load(id);
  const record = await rebuildRecord(engine, id);
  engine.warn(
    `container ${record.Name} (${id.slice(0, 12)}) had lost its record (state.json); it was rebuilt from its config.json and what runs`,
  );
  return record;
}

/** Who holds a container name (see ContainerStore.reserveName). */
export async function nameOwner(engine: Engine, ownerId: string): Promise<NameOwner> {
  const recorded = () => exists(engine.containers.file(ownerId, 'state.json'));
  if (await recorded()) return 'in-use';
  if (engine.journal.isUnderWay('create', ownerId)) return 'creating';
  for await (const entry of engine.journal.abandoned({ operation: 'create', subject: ownerId })) {
    try {
      await undoCreate(engine, ownerId);
      entry.done();
    } catch (error) {
      entry.release();
      throw error;
    }
  }
  // A directory without a record and without a create is a container whose record was lost:
  // it keeps its name.
  if ((await recorded()) || (await exists(engine.containers.dir(ownerId)))) return 'in-use';
  return 'stale';
}
