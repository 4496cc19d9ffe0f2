/* The container's filesystem: overlay root, mounts, devices, pivot_root, masked/readonly paths.
 * Every path inside the rootfs is resolved once, with openat2(RESOLVE_IN_ROOT |
 * RESOLVE_NO_MAGICLINKS), and acted on through the fd: a symlink in the image, or one another
 * container swaps into a shared volume during setup, can never point a mount, a chmod or a mask
 * at the host's files (CVE-2021-30465, CVE-2025-31133). */
#include "helper.h"
#include "mountapi.h"
#include "rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/xattr.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static int open_in_root(int rootfd, const char *path, int flags) {
  struct open_how how = {.flags = (uint64_t)(flags | O_CLOEXEC), .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  while (*path == '/')
    path++;
  if (!*path)
    path = ".";
  int fd;
  do
    fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof how);
  while (fd < 0 && (errno == EAGAIN || errno == EINTR));
  return fd;
}

/* As the kernel's own limit on symlinks followed in one lookup. */
#define MAX_DANGLING_LINKS 40

/* Returns an O_PATH fd of `path` inside the root, creating missing directories (mode 0755) and,
 * when `file` is set, an empty regular file as the last component. A dangling symlink on the way
 * (an image's /data -> /srv/data) is followed as the kernel would inside the root: its target is
 * made, resolved against the root (RESOLVE_IN_ROOT clamps "..", and an absolute target starts at
 * the root), never against the host. */
static int ensure_in_root_depth(int rootfd, const char *path, bool file, int depth) {
  int fd = open_in_root(rootfd, path, O_PATH);
  if (fd >= 0 || errno != ENOENT)
    return fd;
  if (depth > MAX_DANGLING_LINKS) {
    errno = ELOOP;
    return -1;
  }
  char *copy = xstrdup(path);
  char *slash = strrchr(copy, '/');
  const char *name = copy;
  int parent;
  if (slash) {
    *slash = '\0';
    name = slash + 1;
    parent = ensure_in_root_depth(rootfd, copy, false, depth);
  } else {
    parent = dup(rootfd);
  }
  if (parent < 0) {
    free(copy);
    return -1;
  }
  int dirfd = openat(parent, ".", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  close(parent);
  if (dirfd < 0) {
    free(copy);
    return -1;
  }
  int rc;
  if (file) {
    rc = openat(dirfd, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (rc >= 0)
      close(rc);
  } else {
    rc = mkdirat(dirfd, name, 0755);
  }
  if (rc < 0 && errno == EEXIST) {
    char target[4096];
    ssize_t n = readlinkat(dirfd, name, target, sizeof target - 1);
    if (n > 0) {
      target[n] = '\0';
      /* Relative targets are relative to the link's directory (`copy`, the root without a slash). */
      size_t cap = strlen(copy) + (size_t)n + 3;
      char *next = xmalloc(cap);
      if (target[0] == '/' || !slash)
        snprintf(next, cap, "%s", target);
      else
        snprintf(next, cap, "%s/%s", copy, target);
      close(dirfd);
      free(copy);
      int resolved = ensure_in_root_depth(rootfd, next, file, depth + 1);
      free(next);
      return resolved;
    }
  }
  close(dirfd);
  free(copy);
  if (rc < 0 && errno != EEXIST)
    return -1;
  return open_in_root(rootfd, path, O_PATH);
}

static int ensure_in_root(int rootfd, const char *path, bool file) {
  return ensure_in_root_depth(rootfd, path, file, 0);
}

static void fd_path(int fd, char *out, size_t cap) {
  snprintf(out, cap, "/proc/self/fd/%d", fd);
}

static const char *flag_names(unsigned long flags, char *out, size_t cap) {
  static const struct {
    unsigned long flag;
    const char *name;
  } names[] = {{MS_RDONLY, "ro"},       {MS_NOSUID, "nosuid"},     {MS_NODEV, "nodev"},   {MS_NOEXEC, "noexec"},
               {MS_REMOUNT, "remount"}, {MS_BIND, "bind"},         {MS_REC, "rec"},       {MS_PRIVATE, "private"},
               {MS_SLAVE, "slave"},     {MS_SHARED, "shared"},     {MS_RELATIME, "relatime"},
               {MS_STRICTATIME, "strictatime"}, {MS_NOATIME, "noatime"}};
  out[0] = '\0';
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (flags & names[i].flag) {
      if (out[0])
        strncat(out, ",", cap - strlen(out) - 1);
      strncat(out, names[i].name, cap - strlen(out) - 1);
    }
  return out[0] ? out : "none";
}

static void mount_failed(const char *source, const char *destination, const char *type, unsigned long flags,
                         const char *data) {
  int err = errno;
  char names[256];
  die("mount `%s` to `%s` (type %s, flags %s%s%s): %s (%s)", source ? source : "none", destination,
      type ? type : "none", flag_names(flags, names, sizeof names), data && *data ? ", data " : "",
      data && *data ? data : "", errno_name(err), strerror(err));
}

/* A destination that lands on procfs or sysfs must say so: one that only got there through a
 * symlink (a shared volume's entry swapped for `-> /proc/sys/kernel`) would let our own mount
 * hide or replace a kernel file the container must not reach. */
static void check_destination(int fd, const char *destination) {
  struct statfs fs;
  if (fstatfs(fd, &fs) < 0)
    fail_errno("statfs mount destination", destination);
  const char *expected = fs.f_type == PROC_SUPER_MAGIC ? "/proc/" : fs.f_type == SYSFS_MAGIC ? "/sys/" : NULL;
  if (expected && strncmp(destination, expected, strlen(expected)))
    die("mount destination `%s` resolves into %.*s through a symlink; refusing to mount there", destination,
        (int)strlen(expected) - 1, expected);
}

/* mount_setattr(2)'s argument; the libc headers of older hosts do not declare it. */
struct recursive_attr {
  uint64_t attr_set, attr_clr, propagation, userns_fd;
};
#define AT_RECURSIVE_ 0x8000
#define SYS_mount_setattr_ 442

/* Mount flags reach only the top mount of a non-recursive remount; runc's recursive options (rro,
 * rrw, rnosuid, ...) ask for every mount below the destination too, which mount_setattr's
 * AT_RECURSIVE does (as runc's setRecAttr), after the mount and its own flags are in place. */
static void recursive_attributes(int rootfd, const struct mount_entry *m) {
  if (!m->recursive)
    return;
  int fd = open_in_root(rootfd, m->destination, O_PATH);
  struct recursive_attr attr = {.attr_set = m->recursive_set, .attr_clr = m->recursive_clear};
  if (fd < 0 || syscall(SYS_mount_setattr_, fd, "", AT_EMPTY_PATH | AT_RECURSIVE_, &attr, sizeof attr) < 0) {
    int err = errno;
    die("recursive mount options (rro, rnosuid, ...) on `%s`: mount_setattr set %#llx clear %#llx: %s (%s)%s",
        m->destination, (unsigned long long)m->recursive_set, (unsigned long long)m->recursive_clear,
        errno_name(err), strerror(err),
        err == ENOSYS ? "; the kernel needs 5.12 or later"
        : err == EINVAL ? "; an atime option (ratime, rnostrictatime, ...) must be replaced by another, not cleared"
                        : "");
  }
  close(fd);
}

static void do_mount(int rootfd, const struct mount_entry *m, struct plan *plan) {
  const char *mount_label = plan->mount_label;
  bool bind = !strcmp(m->type, "bind") || (m->flags & MS_BIND);
  bool remount = !strcmp(m->type, "remount");
  bool file = false;
  int source = -1;
  if (bind) {
    /* The source is the host path the user named; it is opened once and bound from the fd. */
    source = open(m->source, O_PATH | O_CLOEXEC);
    struct stat st;
    if (source < 0 || fstat(source, &st) < 0) {
      int err = errno;
      die("bind mount source `%s` for `%s`: %s (%s)", m->source, m->destination, errno_name(err), strerror(err));
    }
    file = !S_ISDIR(st.st_mode);
  }
  int fd = remount ? open_in_root(rootfd, m->destination, O_PATH) : ensure_in_root(rootfd, m->destination, file);
  if (fd < 0) {
    int err = errno;
    die("mount destination `%s` in the container: %s (%s)", m->destination, errno_name(err), strerror(err));
  }
  check_destination(fd, m->destination);
  if (m->tmpcopyup) {
    mount_tmpfs_copy_up(fd, m, plan);
    close(fd);
    recursive_attributes(rootfd, m);
    return;
  }
  char target[64];
  fd_path(fd, target, sizeof target);
  unsigned long data_flags = m->flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
  if (bind) {
    if (bind_on_fd(source, NULL, fd, m->flags | MS_BIND, m->propagation)) {
      close(source);
      close(fd);
      recursive_attributes(rootfd, m);
      return;
    }
    if (errno != ENOSYS)
      mount_failed(m->source, m->destination, "bind", m->flags, NULL);
    /* Linux before 5.12: bind, then find the new mount again by its path. */
    char source_path[64];
    fd_path(source, source_path, sizeof source_path);
    if (mount(source_path, target, NULL, MS_BIND | (m->flags & MS_REC), NULL) < 0)
      mount_failed(m->source, m->destination, "bind", m->flags, NULL);
    close(source);
  }
  if (remount) {
    if (mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | m->flags, NULL) < 0)
      mount_failed(NULL, m->destination, "remount", m->flags, NULL);
  } else if (bind) {
    if (data_flags) {
      /* The bind mount's new fd: reopen, the old O_PATH fd points at the covered directory. */
      close(fd);
      fd = open_in_root(rootfd, m->destination, O_PATH);
      fd_path(fd, target, sizeof target);
      if (mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | (m->flags & MS_REC) | data_flags, NULL) < 0)
        mount_failed(m->source, m->destination, "bind remount", m->flags, NULL);
    }
  } else {
    if (mount(m->source, target, m->type, m->flags, *m->data ? m->data : NULL) < 0)
      mount_failed(m->source, m->destination, m->type, m->flags, m->data);
    if (mount_label && !strcmp(m->type, "mqueue")) {
      /* As runc: mqueue's superblock is the ipc namespace's, made with it, so a context= option
       * is refused ("same superblock, different security settings"); its root is labelled. */
      close(fd);
      fd = open_in_root(rootfd, m->destination, O_PATH);
      fd_path(fd, target, sizeof target);
      if (fd < 0 || setxattr(target, "security.selinux", mount_label, strlen(mount_label), 0) < 0) {
        int err = errno;
        die("label `%s` with the SELinux mount label `%s`: %s (%s)", m->destination, mount_label, errno_name(err),
            strerror(err));
      }
    }
  }
  if (m->propagation) {
    close(fd);
    fd = open_in_root(rootfd, m->destination, O_PATH);
    fd_path(fd, target, sizeof target);
    if (mount(NULL, target, NULL, m->propagation, NULL) < 0)
      mount_failed(NULL, m->destination, "propagation", m->propagation, NULL);
  }
  close(fd);
  recursive_attributes(rootfd, m);
}

/* The directory an entry of the container goes into, and the entry's name in it. */
struct parent_dir {
  int fd;
  const char *name;
  char *copy; /* owns name */
};

/*
 * Opens the parent directory of `path` inside the root (made if missing, never leaving the root)
 * for the *at() calls that create the entry; `what` names it in the error ("device directory").
 */
static struct parent_dir open_parent_in_root(int rootfd, const char *path, const char *what) {
  struct parent_dir dir = {.copy = xstrdup(path)};
  char *slash = strrchr(dir.copy, '/');
  dir.name = slash ? slash + 1 : dir.copy;
  if (slash)
    *slash = '\0';
  int parent = slash ? ensure_in_root(rootfd, dir.copy, false) : dup(rootfd);
  dir.fd = parent < 0 ? -1 : openat(parent, ".", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (parent >= 0)
    close(parent);
  if (dir.fd < 0)
    fail_errno(what, path);
  return dir;
}

static void close_parent(struct parent_dir *dir) {
  close(dir->fd);
  free(dir->copy);
}

static void make_device(int rootfd, const struct device_entry *d) {
  struct parent_dir dir = open_parent_in_root(rootfd, d->path, "device directory");
  mode_t type = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO : S_IFCHR;
  unlinkat(dir.fd, dir.name, 0);
  /* With no umask the node is made with the plan's exact mode: there is no chmod afterwards
   * that a symlink swapped in meanwhile could redirect to a host file. */
  mode_t previous = umask(0);
  int made = mknodat(dir.fd, dir.name, type | (d->mode & 07777), makedev(d->major, d->minor));
  umask(previous);
  if (made < 0)
    fail_errno("mknod", d->path);
  /* Ownership goes through an fd of the node itself, checked to be the node just made. */
  int node = openat(dir.fd, dir.name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  if (node < 0 || fstat(node, &st) < 0)
    fail_errno("open the new device node", d->path);
  if ((st.st_mode & S_IFMT) != type || (type != S_IFIFO && st.st_rdev != makedev(d->major, d->minor)))
    die("device node `%s` was replaced while the container was being set up", d->path);
  if ((st.st_uid != d->uid || st.st_gid != d->gid) && fchownat(node, "", d->uid, d->gid, AT_EMPTY_PATH) < 0)
    fail_errno("chown", d->path);
  close(node);
  close_parent(&dir);
}

/* A user namespace may not mknod: the host's node is bound onto an empty file of the
 * container's /dev (runc's bindMountDeviceNode). The source is opened once, without following a
 * symlink, and must be the node the plan names. */
static void bind_device(int rootfd, const struct device_entry *d) {
  mode_t type = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO : S_IFCHR;
  int source = open(d->bind_source, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  if (source < 0 || fstat(source, &st) < 0)
    fail_errno("open the host's device node", d->bind_source);
  if ((st.st_mode & S_IFMT) != type || (type != S_IFIFO && st.st_rdev != makedev(d->major, d->minor)))
    die("the host's `%s` is not device %c %u:%u; a user namespace can only bind the host's node", d->bind_source,
        d->type, d->major, d->minor);
  struct parent_dir dir = open_parent_in_root(rootfd, d->path, "device directory");
  unlinkat(dir.fd, dir.name, 0);
  int file = openat(dir.fd, dir.name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (file < 0)
    fail_errno("create the device's mount point", d->path);
  close(file);
  int target = openat(dir.fd, dir.name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (target < 0)
    fail_errno("open the device's mount point", d->path);
  if (!bind_on_fd(source, NULL, target, MS_BIND, 0)) {
    char source_path[64], target_path[64];
    fd_path(source, source_path, sizeof source_path);
    fd_path(target, target_path, sizeof target_path);
    if (errno != ENOSYS || mount(source_path, target_path, NULL, MS_BIND, NULL) < 0)
      mount_failed(d->bind_source, d->path, "bind", MS_BIND, NULL);
  }
  close(target);
  close(source);
  close_parent(&dir);
}

static void make_symlink(int rootfd, const struct symlink_entry *s) {
  struct parent_dir dir = open_parent_in_root(rootfd, s->path, "symlink directory");
  if (symlinkat(s->target, dir.fd, dir.name) < 0 && errno != EEXIST)
    fail_errno("symlink", s->path);
  close_parent(&dir);
}

/* pivot_root refuses (EINVAL) a new root whose parent mount is shared, as it is when the spec asks
 * for rootfsPropagation "shared": as runc, the mount that holds the root is made private (in the
 * container's own mount namespace), found by walking up until MS_PRIVATE finds a mount point. */
static void make_root_parent_private(const char *rootfs) {
  char path[4096];
  if (!realpath(rootfs, path))
    fail_errno("realpath", rootfs);
  for (;;) {
    if (mount(NULL, path, NULL, MS_PRIVATE, NULL) == 0)
      return;
    if (errno != EINVAL || !strcmp(path, "/"))
      mount_failed(NULL, path, "private", MS_PRIVATE, NULL);
    char *slash = strrchr(path, '/');
    if (slash == path)
      slash[1] = '\0';
    else
      *slash = '\0';
  }
}

void setup_rootfs(struct plan *plan) {
  if (mount(NULL, "/", NULL, MS_REC | (plan->root_propagation ? plan->root_propagation : MS_SLAVE), NULL) < 0)
    mount_failed(NULL, "/", "propagation", plan->root_propagation, NULL);
  make_root_parent_private(plan->rootfs);
  if (plan->root_mount_fd >= 0) {
    /* Built by the monitor (idmap.c): attached here, in the container's own mount namespace. */
    if (syscall(SYS_move_mount, plan->root_mount_fd, "", AT_FDCWD, plan->rootfs, MOVE_MOUNT_F_EMPTY_PATH) < 0)
      mount_failed("overlay (the monitor's)", plan->rootfs, "move_mount", 0, NULL);
    close(plan->root_mount_fd);
  } else if (plan->root_overlay_data) {
    if (chdir(plan->root_overlay_cwd) < 0)
      fail_errno("chdir", plan->root_overlay_cwd);
    if (mount("overlay", plan->rootfs, "overlay", 0, plan->root_overlay_data) < 0)
      mount_failed("overlay", plan->rootfs, "overlay", 0, plan->root_overlay_data);
    if (chdir("/") < 0)
      fail_errno("chdir", "/");
  } else {
    /* pivot_root needs the new root to be a mount point. */
    if (mount(plan->rootfs, plan->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
      mount_failed(plan->rootfs, plan->rootfs, "bind", MS_BIND | MS_REC, NULL);
  }
  int rootfd = open(plan->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    fail_errno("open rootfs", plan->rootfs);
  for (size_t i = 0; i < plan->mount_count; i++)
    do_mount(rootfd, &plan->mounts[i], plan);
  for (size_t i = 0; i < plan->mkdirs.len; i++) {
    int fd = ensure_in_root(rootfd, plan->mkdirs.items[i], false);
    if (fd < 0)
      fail_errno("mkdir in the container", plan->mkdirs.items[i]);
    close(fd);
  }
  for (size_t i = 0; i < plan->device_count; i++) {
    if (plan->devices[i].bind_source)
      bind_device(rootfd, &plan->devices[i]);
    else
      make_device(rootfd, &plan->devices[i]);
  }
  for (size_t i = 0; i < plan->symlink_count; i++)
    make_symlink(rootfd, &plan->symlinks[i]);
  close(rootfd);
}

/* The null device masks are bound from: the container's own /dev/null if it really is one, else
 * the host's. Opened once, without following a symlink, and checked to be char 1:3 (runc's
 * answer to CVE-2025-31133, where /dev/null in a shared /dev became a symlink to a kernel file). */
static int open_null_device(int rootfd) {
  int fd = open_in_root(rootfd, "/dev/null", O_PATH | O_NOFOLLOW);
  for (int attempt = 0; attempt < 2; attempt++) {
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3))
      return fd;
    if (fd >= 0)
      close(fd);
    fd = attempt == 0 ? open("/dev/null", O_PATH | O_NOFOLLOW | O_CLOEXEC) : -1;
  }
  die("no null device (char 1:3) to mask paths with: neither the container's /dev/null nor the host's is one");
}

/* Masked paths, before pivot_root while the host's /proc serves the fd paths: each target is
 * resolved inside the root once, and the mask goes on that fd. */
static void mask_paths(const struct plan *plan) {
  if (!plan->masked.len)
    return;
  int rootfd = open(plan->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    fail_errno("open rootfs", plan->rootfs);
  int null = open_null_device(rootfd);
  char null_path[64];
  fd_path(null, null_path, sizeof null_path);
  for (size_t i = 0; i < plan->masked.len; i++) {
    const char *path = plan->masked.items[i];
    int fd = open_in_root(rootfd, path, O_PATH);
    if (fd < 0) {
      if (errno == ENOENT)
        continue;
      fail_errno("open masked path", path);
    }
    struct stat st;
    if (fstat(fd, &st) < 0)
      fail_errno("stat masked path", path);
    char target[64];
    fd_path(fd, target, sizeof target);
    if (S_ISDIR(st.st_mode)) {
      /* As runc's maskDir: labelled with the mount label, so a confined process may look at it. */
      char data[4200] = "";
      if (plan->mount_label && snprintf(data, sizeof data, "context=\"%s\"", plan->mount_label) >= (int)sizeof data)
        die("the SELinux mount label `%s` is too long", plan->mount_label);
      if (mount("tmpfs", target, "tmpfs", MS_RDONLY, data[0] ? data : NULL) < 0)
        mount_failed("tmpfs", path, "tmpfs", MS_RDONLY, data[0] ? data : NULL);
    } else if (!bind_on_fd(null, NULL, fd, MS_BIND, 0)) {
      if (errno != ENOSYS || mount(null_path, target, NULL, MS_BIND, NULL) < 0)
        mount_failed("/dev/null", path, "bind", MS_BIND, NULL);
    }
    close(fd);
  }
  close(null);
  close(rootfd);
}

void pivot_into_rootfs(const struct plan *plan) {
  mask_paths(plan);
  int oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  int newroot = open(plan->rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (oldroot < 0 || newroot < 0)
    fail_errno("open for pivot_root", plan->rootfs);
  if (fchdir(newroot) < 0)
    fail_errno("fchdir", plan->rootfs);
  if (syscall(SYS_pivot_root, ".", ".") < 0)
    fail_errno("pivot_root", plan->rootfs);
  /* The old root is now stacked under "."; detach it so no host path stays reachable. */
  if (fchdir(oldroot) < 0)
    fail_errno("fchdir", "old root");
  if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
    fail_errno("make old root rslave", ".");
  if (umount2(".", MNT_DETACH) < 0)
    fail_errno("umount2 old root", ".");
  if (chdir("/") < 0)
    fail_errno("chdir", "/");
  /* The spec's rootfsPropagation, for the new root itself: only now, so that a "shared" never
   * reaches the host's mounts through the old root (runc does the same). */
  if (plan->root_propagation && mount(NULL, "/", NULL, plan->root_propagation, NULL) < 0)
    mount_failed(NULL, "/", "propagation", plan->root_propagation, NULL);
  close(oldroot);
  close(newroot);
}

void finish_rootfs(const struct plan *plan) {
  /* A working directory the image lacks is made now, before the root may turn read-only (runc
   * does the same); prepare_process only enters it. */
  struct stat cwd_stat;
  if (plan->cwd && stat(plan->cwd, &cwd_stat) < 0 && errno == ENOENT && make_directories(plan->cwd) < 0) {
    int err = errno;
    die("create the working directory `%s`: %s (%s)", plan->cwd, errno_name(err), strerror(err));
  }
  for (size_t i = 0; i < plan->sysctl_keys.len; i++) {
    char path[512];
    snprintf(path, sizeof path, "/proc/sys/%s", plan->sysctl_keys.items[i]);
    for (char *p = path + 10; *p; p++)
      if (*p == '.')
        *p = '/';
    if (!write_proc_file(path, plan->sysctl_values.items[i]))
      fail_errno("write sysctl", path);
  }
  int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    fail_errno("open", "/");
  const unsigned long ro_flags = MS_BIND | MS_REC | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
  for (size_t i = 0; i < plan->readonly.len; i++) {
    const char *path = plan->readonly.items[i];
    int fd = open_in_root(rootfd, path, O_PATH);
    if (fd < 0) {
      if (errno == ENOENT)
        continue;
      fail_errno("open read-only path", path);
    }
    /* A read-only clone of the path's own mount tree goes over it: made read-only before it is
     * attached, on the fd resolved once. */
    if (!bind_on_fd(fd, NULL, fd, ro_flags, 0)) {
      if (errno != ENOSYS)
        mount_failed(path, path, "bind", ro_flags, NULL);
      char target[64];
      fd_path(fd, target, sizeof target);
      if (mount(target, target, NULL, MS_BIND | MS_REC, NULL) < 0)
        mount_failed(path, path, "bind", MS_BIND | MS_REC, NULL);
      close(fd);
      fd = open_in_root(rootfd, path, O_PATH);
      fd_path(fd, target, sizeof target);
      if (fd < 0 || mount(NULL, target, NULL, MS_REMOUNT | ro_flags, NULL) < 0)
        mount_failed(path, path, "bind remount", MS_RDONLY, NULL);
    }
    close(fd);
  }
  close(rootfd);
  if (plan->root_readonly && mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0)
    mount_failed(NULL, "/", "remount", MS_RDONLY, NULL);
}

void bring_up_loopback(void) {
  int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0)
    fail_errno("socket for loopback", NULL);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0)
    fail_errno("SIOCGIFFLAGS", "lo");
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0)
    fail_errno("SIOCSIFFLAGS", "lo");
  close(sock);
}
