/*
 * The root of a container with a user namespace, built by the monitor on the host's side: each
 * image layer is an idmapped clone (open_tree + mount_setattr MOUNT_ATTR_IDMAP with the
 * container's user namespace), so a file the layer has as uid 0 is the container's root; the
 * overlay over them is made with fsopen/fsmount as the host's root (overlayfs needs the trusted.*
 * xattrs of the layers, which a mount made inside the user namespace cannot read) and handed to
 * the container's init as a detached mount, which attaches it in its own mount namespace. Where
 * the layers are chowned copies instead (the engine's fallback), the same overlay is made without
 * the idmapping.
 */
#include "helper.h"
#include "mountapi.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int idmapped_clone(const char *layer, int userns) {
  int tree = (int)syscall(SYS_open_tree, AT_FDCWD, layer, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (tree < 0)
    fail_errno("open_tree", layer);
  struct mount_attr_args attr = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns};
  if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0) {
    int err = errno;
    die("mount_setattr MOUNT_ATTR_IDMAP `%s`: %s (%s); the filesystem of the layers does not take idmapped mounts",
        layer, errno_name(err), strerror(err));
  }
  return tree;
}

static void set_option(int fs, const char *key, const char *value) {
  if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, key, value, 0) < 0) {
    int err = errno;
    char said[512];
    die("overlay option %s=%s: %s (%s) %s", key, value, errno_name(err), strerror(err), fs_context_log(fs, said, sizeof said));
  }
}

int mapped_root_overlay(const struct plan *plan, pid_t child) {
  int userns = -1;
  if (plan->root_idmap) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/user", (int)child);
    userns = open(path, O_RDONLY | O_CLOEXEC);
    if (userns < 0)
      fail_errno("open the container's user namespace", path);
  }
  size_t cap = 64, len = 0;
  char *lower = xmalloc(cap);
  lower[0] = '\0';
  int trees[MAX_ITEMS];
  char *items[MAX_ITEMS];
  size_t count = plan->root_lowers.len;
  if (count > MAX_ITEMS)
    die("too many layers (%zu) for one overlay", count);
  for (size_t i = 0; i < count; i++) {
    const char *layer = plan->root_lowers.items[i];
    char item[4200];
    if (plan->root_idmap) {
      trees[i] = idmapped_clone(layer, userns);
      snprintf(item, sizeof item, "/proc/self/fd/%d", trees[i]);
    } else {
      trees[i] = -1;
      snprintf(item, sizeof item, "%s", layer);
    }
    items[i] = xstrdup(item);
    size_t need = len + strlen(item) + 2;
    if (need > cap) {
      cap = need * 2;
      lower = xrealloc(lower, cap);
    }
    len += (size_t)snprintf(lower + len, cap - len, "%s%s", i ? ":" : "", item);
  }
  int fs = (int)syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC);
  if (fs < 0)
    fail_errno("fsopen", "overlay");
  /* fsconfig takes strings of at most 256 bytes: one layer at a time ("lowerdir+", Linux 6.8),
   * the joined list only where the kernel does not know "lowerdir+". */
  bool appended = count > 0 && syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "lowerdir+", items[0], 0) == 0;
  if (appended) {
    for (size_t i = 1; i < count; i++)
      set_option(fs, "lowerdir+", items[i]);
  } else {
    set_option(fs, "lowerdir", lower);
  }
  for (size_t i = 0; i < count; i++)
    free(items[i]);
  set_option(fs, "upperdir", plan->root_upper);
  set_option(fs, "workdir", plan->root_work);
  /* As the engine's own overlay: no index, so a layer shared by containers never carries one. */
  syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "index", "off", 0);
  if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
    int err = errno;
    char said[512];
    die("create the overlay of the container's root (lowerdir %s): %s (%s) %s", lower, errno_name(err),
        strerror(err), fs_context_log(fs, said, sizeof said));
  }
  int mount_fd = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, 0);
  if (mount_fd < 0)
    fail_errno("fsmount", "overlay");
  close(fs);
  /* The overlay holds its layers now; the clones' fds are no longer needed. */
  for (size_t i = 0; i < count; i++)
    if (trees[i] >= 0)
      close(trees[i]);
  if (userns >= 0)
    close(userns);
  free(lower);
  return mount_fd;
}

/*
 * `gantry-init idmap-probe DIR`: whether the filesystem of DIR takes idmapped mounts, tried as
 * the monitor would (an idmapped clone with a user namespace of a child's own). Exit 0 if it
 * does, 1 with the kernel's reason if it does not: the engine then uses chowned copies.
 */
int run_idmap_probe(const char *dir) {
  int ready[2];
  if (pipe2(ready, O_CLOEXEC) < 0)
    fail_errno("pipe2", "idmap probe");
  /* Born in a user namespace of its own (no wait for an unshare); lives until our end closes. */
  pid_t child = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
  if (child < 0)
    fail_errno("clone(CLONE_NEWUSER)", "idmap probe");
  if (child == 0) {
    close(ready[1]);
    char byte;
    while (read(ready[0], &byte, 1) < 0 && errno == EINTR)
      ;
    _exit(0);
  }
  close(ready[0]);
  char path[64];
  int result = 1;
  snprintf(path, sizeof path, "/proc/%d/uid_map", (int)child);
  bool mapped = write_file(path, "0 65534 1\n");
  snprintf(path, sizeof path, "/proc/%d/gid_map", (int)child);
  mapped = mapped && write_file(path, "0 65534 1\n");
  snprintf(path, sizeof path, "/proc/%d/ns/user", (int)child);
  int userns = mapped ? open(path, O_RDONLY | O_CLOEXEC) : -1;
  if (userns < 0) {
    fprintf(stderr, "idmap probe: the probe's user namespace could not be set up\n");
  } else {
    int tree = (int)syscall(SYS_open_tree, AT_FDCWD, dir, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    if (tree < 0) {
      fprintf(stderr, "idmap probe: open_tree `%s`: %s\n", dir, strerror(errno));
    } else {
      struct mount_attr_args attr = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns};
      if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0) {
        int err = errno;
        fprintf(stderr, "idmap probe: mount_setattr MOUNT_ATTR_IDMAP `%s`: %s (%s)\n", dir, errno_name(err),
                strerror(err));
      } else {
        result = 0;
      }
      close(tree);
    }
    close(userns);
  }
  close(ready[1]);
  int status;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR)
    ;
  return result;
}
