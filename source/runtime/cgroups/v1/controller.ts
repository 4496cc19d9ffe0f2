/**
 * What each v1 controller file implements. The manager finds the controller's hierarchy, and
 * hands it the container's directory there and the journal of the current create()/update().
 */
import type { CgroupFs } from '../fs.js';
import type { ChangeJournal } from '../journal.js';
import type { Resources } from '../types.js';

export interface V1ApplyContext {
  fs: CgroupFs;
  /** The container's directory in this controller's hierarchy. */
  dir: string;
  journal: ChangeJournal;
  phase: 'create' | 'update';
  /** Tells the user about a limit the host cannot enforce but that docker only warns about. */
  warn: (message: string) => void;
}

export interface V1ResourceController {
  /** The controller name as mounted ("memory", "net_cls"). */
  readonly name: string;
  /** Whether `resources` names a field this controller sets. */
  wants(resources: Resources): boolean;
  apply(context: V1ApplyContext, resources: Resources): Promise<void>;
}

export function has<T>(value: T | undefined): value is T {
  return value !== undefined;
}
