/**
 * Where this process sees the cgroup hierarchies, for the harness's leak checks (without vitest,
 * so the global setup can use it too): each v1 hierarchy's mount point and the cgroup2 tree's,
 * wherever mountinfo says they are. On a pure v2 host the tree is /sys/fs/cgroup itself, so a
 * parent is /sys/fs/cgroup/<parent>, not a directory one level further down.
 */
import fs from 'node:fs';
import path from 'node:path';
import { detectCgroupLayout } from '../../source/runtime/cgroups/detect.js';

export function cgroupMountPoints(): string[] {
  try {
    const layout = detectCgroupLayout();
    return [
      ...layout.hierarchies.map((hierarchy) => hierarchy.mountPoint),
      ...(layout.unified ? [layout.unified.mountPoint] : []),
    ];
  } catch {
    return [];
  }
}

/** The directories `relative` (a cgroup parent, or parent/id) has in any hierarchy. */
export function cgroupDirectories(relative: string): string[] {
  return cgroupMountPoints()
    .map((mountPoint) => path.join(mountPoint, relative))
    .filter((dir) => fs.existsSync(dir));
}

/** Every directory at or below `dir`, deepest first. */
export function cgroupTree(dir: string): string[] {
  const below = fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .flatMap((entry) => cgroupTree(path.join(dir, entry.name)));
  return [...below, dir];
}

/** SIGKILLs every process in the tree at `dir`. */
export function killCgroupProcesses(dir: string): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) killCgroupProcesses(path.join(dir, entry.name));
  }
  try {
    for (const pid of fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
  } catch {
    // not a cgroup directory
  }
}

/** Removes the tree at `dir`, deepest first, waiting a little for cgroups still emptying. */
export function removeCgroupTree(dir: string): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) removeCgroupTree(path.join(dir, entry.name));
  }
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      fs.rmdirSync(dir);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  }
}
