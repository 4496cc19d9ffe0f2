/**
 * Removing a container's cgroup for good: its own directory, then every parent directory Gantry
 * made for it once that parent is empty, so `--cgroup-parent x` leaves no `x` behind after the
 * last container under it goes.
 */
import type { CgroupManager } from './types.js';

/**
 * destroy(), then removeParentIfEmpty(). Safe against other Gantry processes working under the
 * same parent: a parent that gained a child meanwhile refuses rmdir (EBUSY, left alone), and a
 * create whose parent vanished between its mkdirs starts over (ensureCgroupDirectory).
 */
export async function removeContainerCgroup(cgroup: CgroupManager): Promise<void> {
  await cgroup.destroy();
  // The container's own cgroup is what must go; a parent that cannot be removed now is removed
  // with the next container that ends under it.
  await cgroup.removeParentIfEmpty().catch(() => undefined);
}
