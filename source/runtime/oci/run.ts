/** `gantry-oci run`: create and start; in the foreground, wait, delete, and return the container's status. */
import path from 'node:path';
import { GantryError } from '../errors.js';
import { readJsonIfExists } from '../fsutil.js';
import { decodeField } from '../init/helper.js';
import { emptyCgroup } from './cgroup.js';
import { create, type CreateOptions } from './create.js';
import { deleteContainer } from './delete.js';
import { start } from './start.js';
import type { OciStore } from './store.js';

export async function run(
  store: OciStore,
  id: string,
  options: CreateOptions & { detach?: boolean; keep?: boolean },
): Promise<number> {
  const { wait } = await create(store, id, { ...options, foreground: options.detach !== true });
  await start(store, id);
  if (!wait) return 0;
  const code = await wait;
  const exit = await readJsonIfExists<{ error?: string }>(path.join(store.dir(id), 'exit.json')).catch(
    () => undefined,
  );
  // --keep leaves the stopped container for `state` and `delete`, as runc's.
  if (options.keep) await emptyCgroup(store, await store.load(id), 10_000);
  else await deleteContainer(store, id, { force: true });
  if (exit?.error) throw new GantryError(decodeField(exit.error));
  return code;
}
