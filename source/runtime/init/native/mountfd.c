/*
 * Bind mounts made on descriptors with the new mount API (Linux 5.12+): the clone of the source
 * gets its read-only/nosuid/... attributes while it is still detached, and is then attached to a
 * target that was resolved once, as an fd. Nothing is resolved by path a second time, so a
 * container that swaps a directory for a symlink between two steps (CVE-2021-30465) cannot move
 * the read-only flag away from the mount it was meant for. Returns false with errno ENOSYS where
 * the kernel lacks the calls; the caller then falls back to mount(2).
 */
#include "helper.h"
#include "mountapi.h"
#include "rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

static uint64_t attributes(unsigned long flags, uint64_t *clear) {
  uint64_t set = 0;
  if (flags & MS_RDONLY)
    set |= MOUNT_ATTR_RDONLY;
  if (flags & MS_NOSUID)
    set |= MOUNT_ATTR_NOSUID;
  if (flags & MS_NODEV)
    set |= MOUNT_ATTR_NODEV;
  if (flags & MS_NOEXEC)
    set |= MOUNT_ATTR_NOEXEC;
  *clear = 0;
  if (flags & (MS_NOATIME | MS_STRICTATIME | MS_RELATIME)) {
    *clear = MOUNT_ATTR__ATIME;
    set |= flags & MS_NOATIME ? MOUNT_ATTR_NOATIME : flags & MS_STRICTATIME ? MOUNT_ATTR_STRICTATIME : MOUNT_ATTR_RELATIME;
  }
  return set;
}

bool bind_on_fd(int source_fd, const char *source_path, int target_fd, unsigned long flags, unsigned long propagation) {
  bool recursive = flags & MS_REC;
  unsigned int tree_flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0);
  int tree = source_fd >= 0 ? (int)syscall(SYS_open_tree, source_fd, "", tree_flags | AT_EMPTY_PATH)
                            : (int)syscall(SYS_open_tree, AT_FDCWD, source_path, tree_flags);
  if (tree < 0)
    return false;
  uint64_t clear;
  struct mount_attr_args attr = {0};
  attr.attr_set = attributes(flags, &clear);
  attr.attr_clr = clear;
  unsigned int at = AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0);
  /* Always called, even with nothing to set: a kernel without mount_setattr says so (ENOSYS)
   * before anything is attached, and the caller can still fall back. */
  if (syscall(SYS_mount_setattr, tree, "", at, &attr, sizeof attr) < 0)
    goto fail;
  if (syscall(SYS_move_mount, tree, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    goto fail;
  if (propagation) {
    /* The tree fd now names the attached mount: set its propagation without a lookup. */
    struct mount_attr_args prop = {.propagation = propagation & (MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE)};
    if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | (propagation & MS_REC ? AT_RECURSIVE : 0), &prop,
                sizeof prop) < 0)
      goto fail;
  }
  close(tree);
  return true;
fail:;
  int err = errno;
  close(tree);
  errno = err;
  return false;
}
