/**
 * Which namespaces a container's process is in, as the kernel names them (`pid:[4026531836]`):
 * a shell line that prints its own, and the comparison with this test process's, which are the
 * host's (a suite's gantry runs in a network namespace of its own; this process does not).
 */
import fs from 'node:fs';

export type NamespaceKind = 'pid' | 'ipc' | 'uts' | 'mnt' | 'net' | 'cgroup' | 'user';

/** This process's namespace of `kind`: the host's. */
export function hostNamespace(kind: NamespaceKind): string {
  return fs.readlinkSync(`/proc/self/ns/${kind}`);
}

/** A shell command printing the namespaces of the process that runs it, one line per kind, in order. */
export function namespaceProbe(kinds: readonly NamespaceKind[]): string {
  return `for n in ${kinds.join(' ')}; do readlink /proc/self/ns/$n; done`;
}

/** Of each kind, whether the probe's lines (from `lines[0]`, in the probe's order) name the host's. */
export function inHostNamespaces(
  lines: readonly string[],
  kinds: readonly NamespaceKind[],
): Partial<Record<NamespaceKind, boolean>> {
  return Object.fromEntries(kinds.map((kind, index) => [kind, lines[index] === hostNamespace(kind)]));
}
