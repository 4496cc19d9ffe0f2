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
