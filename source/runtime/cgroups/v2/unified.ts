/**
 * The OCI spec's linux.resources.unified: cgroup v2 files by name with raw values ("memory.high":
 * "64M"), written as runc writes them, after the named limits. Checked up front: a name must be
 * one file of a controller ("CONTROLLER.PARAMETER", no path), and the files that move processes
 * or reshape the tree are not limits and are refused.
 */
import path from 'node:path';
import { InvalidArgumentError } from '../../errors.js';
import type { V2ApplyContext } from './controller.js';

const NAME = /^([a-z_]+)\.[a-z0-9_.]+$/;
/** cgroup.* files that are not limits: writing them moves processes or changes the tree. */
const NOT_LIMITS = new Set([
  'cgroup.procs',
  'cgroup.threads',
  'cgroup.subtree_control',
  'cgroup.type',
  'cgroup.kill',
  'cgroup.freeze',
]);

export function checkUnified(unified: Record<string, string> | undefined): void {
  for (const [name, value] of Object.entries(unified ?? {})) {
    if (!NAME.test(name) || name.includes('/')) {
      throw new InvalidArgumentError(
        `linux.resources.unified: "${name}" is not the name of a cgroup v2 file`,
        { hint: 'use CONTROLLER.PARAMETER names such as "memory.high" or "pids.max" (no paths)' },
      );
    }
    if (NOT_LIMITS.has(name)) {
      throw new InvalidArgumentError(`linux.resources.unified: "${name}" is not a limit and cannot be set`, {
        hint: "processes, freezing and the cgroup's controllers are managed by the runtime",
      });
    }
    if (typeof value !== 'string' || value.includes('\n')) {
      throw new InvalidArgumentError(
        `linux.resources.unified: the value of "${name}" must be one line of text`,
      );
    }
  }
}

/** The controllers the unified files belong to (they must be enabled for the container). */
export function unifiedControllers(unified: Record<string, string> | undefined): string[] {
  return Object.keys(unified ?? {})
    .map((name) => NAME.exec(name)?.[1])
    .filter((controller): controller is string => controller !== undefined && controller !== 'cgroup');
}

export async function unifiedFiles(
  context: V2ApplyContext,
  unified: Record<string, string> | undefined,
): Promise<void> {
  for (const [name, value] of Object.entries(unified ?? {})) {
    const file = path.join(context.dir, name);
    if (!(await context.fs.exists(file))) {
      const prefix = `${NAME.exec(name)?.[1] ?? ''}.`;
      const known = (await context.fs.readdir(context.dir)).filter((entry) => entry.startsWith(prefix));
      throw new InvalidArgumentError(`linux.resources.unified: this kernel has no cgroup file "${name}"`, {
        hint: known.length > 0 ? `files it has: ${known.sort().join(', ')}` : `no ${prefix}* files here`,
      });
    }
    await context.journal.write(file, value, { what: `${name} "${value}"` });
  }
}
