/**
 * `rename`: a container's name moves to a new one, as docker's does: the new name is reserved
 * first (refused when taken), then the record changes, then the old name is freed, so a name is
 * never held by two containers nor lost when the process dies half-way.
 */
import { InvalidArgumentError } from '../errors.js';
import type { EngineCore } from './core.js';
import { validateName } from './names.js';
import type { Reconciler } from './reconcile.js';
import type { ContainerRecord } from './record.js';

export async function renameContainer(
  core: EngineCore,
  reconciler: Reconciler,
  reference: string,
  newName: string,
): Promise<ContainerRecord> {
  const name = validateName(newName);
  const id = await core.containers.resolveId(reference);
  return reconciler.withLock(id, async () => {
    // The stored record (not one laid over with a restart policy's runs): only its name changes.
    const record = await core.containers.load(id);
    const oldName = record.Name;
    if (oldName === name) {
      throw new InvalidArgumentError(
        `renaming a container with the same name as its current name: ${JSON.stringify(name)}`,
      );
    }
    await core.containers.reserveName(name, id);
    record.Name = name;
    try {
      await core.containers.save(record);
    } catch (error) {
      await core.containers.releaseName(name, id);
      throw error;
    }
    await core.containers.releaseName(oldName, id);
    return record;
  });
}
