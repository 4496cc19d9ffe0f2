/** What each v2 controller file implements (see v1/controller.ts for the v1 counterpart). */
import type { CgroupFs } from '../fs.js';
import type { ChangeJournal } from '../journal.js';
import type { Resources } from '../types.js';

export interface V2ApplyContext {
  fs: CgroupFs;
  /** The container's directory in the unified hierarchy. */
  dir: string;
  journal: ChangeJournal;
  phase: 'create' | 'update';
  warn: (message: string) => void;
}

export interface V2ResourceController {
  /** The kernel's controller name, as in cgroup.controllers. */
  readonly name: string;
  wants(resources: Resources): boolean;
  apply(context: V2ApplyContext, resources: Resources): Promise<void>;
}

export function has<T>(value: T | undefined): value is T {
  return value !== undefined;
}
