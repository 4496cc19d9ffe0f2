/* The container's filesystem: overlay root, mounts, devices, pivot_root, masked/readonly paths.
 * Every path inside the rootfs is resolved with openat2(RESOLVE_IN_ROOT), so a symlink in an
 * image can never point a mount at the host's files. */
#include "helper.h"
#include "rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
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

/* Returns an O_PATH fd of `path` inside the root, creating missing directories (mode 0755) and,
 * when `file` is set, an empty regular file as the last component. */
static int ensure_in_root(int rootfd, const char *path, bool file) {
  int fd = open_in_root(rootfd, path, O_PATH);
  if (fd >= 0 || errno != ENOENT)
    return fd;
  char *copy = xstrdup(path);
  char *slash = strrchr(copy, '/');
  const char *name = copy;
  int parent;
  if (slash) {
    *slash = '\0';
    name = slash + 1;
    parent = ensure_in_root(rootfd, copy, false);
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
  close(dirfd);
  free(copy);
  if (rc < 0 && errno != EEXIST)
    return -1;
  return open_in_root(rootfd, path, O_PATH);
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

static void do_mount(int rootfd, const struct mount_entry *m) {
  bool bind = !strcmp(m->type, "bind") || (m->flags & MS_BIND);
  bool remount = !strcmp(m->type, "remount");
  bool file = false;
  if (bind) {
    struct stat st;
    if (stat(m->source, &st) < 0) {
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
  char target[64];
  fd_path(fd, target, sizeof target);
  unsigned long data_flags = m->flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
  if (remount) {
    if (mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | m->flags, NULL) < 0)
      mount_failed(NULL, m->destination, "remount", m->flags, NULL);
  } else if (bind) {
    if (mount(m->source, target, NULL, MS_BIND | (m->flags & MS_REC), NULL) < 0)
      mount_failed(m->source, m->destination, "bind", m->flags, NULL);
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
  }
  if (m->propagation) {
    close(fd);
    fd = open_in_root(rootfd, m->destination, O_PATH);
    fd_path(fd, target, sizeof target);
    if (mount(NULL, target, NULL, m->propagation, NULL) < 0)
      mount_failed(NULL, m->destination, "propagation", m->propagation, NULL);
  }
  close(fd);
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
  if (mknodat(dir.fd, dir.name, type | (d->mode & 07777), makedev(d->major, d->minor)) < 0)
    fail_errno("mknod", d->path);
  if (fchownat(dir.fd, dir.name, d->uid, d->gid, AT_SYMLINK_NOFOLLOW) < 0)
    fail_errno("chown", d->path);
  /* mknod honours the umask; the plan's mode is exact. */
  if (fchmodat(dir.fd, dir.name, d->mode & 07777, 0) < 0)
    fail_errno("chmod", d->path);
  close_parent(&dir);
}

static void make_symlink(int rootfd, const struct symlink_entry *s) {
  struct parent_dir dir = open_parent_in_root(rootfd, s->path, "symlink directory");
  if (symlinkat(s->target, dir.fd, dir.name) < 0 && errno != EEXIST)
    fail_errno("symlink", s->path);
  close_parent(&dir);
}

void setup_rootfs(struct plan *plan) {
  if (mount(NULL, "/", NULL, MS_REC | (plan->root_propagation ? plan->root_propagation : MS_SLAVE), NULL) < 0)
    mount_failed(NULL, "/", "propagation", plan->root_propagation, NULL);
  if (plan->root_overlay_data) {
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
    do_mount(rootfd, &plan->mounts[i]);
  for (size_t i = 0; i < plan->mkdirs.len; i++) {
    int fd = ensure_in_root(rootfd, plan->mkdirs.items[i], false);
    if (fd < 0)
      fail_errno("mkdir in the container", plan->mkdirs.items[i]);
    close(fd);
  }
  for (size_t i = 0; i < plan->device_count; i++)
    make_device(rootfd, &plan->devices[i]);
  for (size_t i = 0; i < plan->symlink_count; i++)
    make_symlink(rootfd, &plan->symlinks[i]);
  close(rootfd);
}

void pivot_into_rootfs(const struct plan *plan) {
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
    if (!write_file(path, plan->sysctl_values.items[i]))
      fail_errno("write sysctl", path);
  }
  for (size_t i = 0; i < plan->masked.len; i++) {
    const char *path = plan->masked.items[i];
    struct stat st;
    if (stat(path, &st) < 0) {
      if (errno == ENOENT)
        continue;
      fail_errno("stat masked path", path);
    }
    if (S_ISDIR(st.st_mode)) {
      if (mount("tmpfs", path, "tmpfs", MS_RDONLY, NULL) < 0)
        mount_failed("tmpfs", path, "tmpfs", MS_RDONLY, NULL);
    } else if (mount("/dev/null", path, NULL, MS_BIND, NULL) < 0) {
      mount_failed("/dev/null", path, "bind", MS_BIND, NULL);
    }
  }
  for (size_t i = 0; i < plan->readonly.len; i++) {
    const char *path = plan->readonly.items[i];
    if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0) {
      if (errno == ENOENT)
        continue;
      mount_failed(path, path, "bind", MS_BIND | MS_REC, NULL);
    }
    if (mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
      mount_failed(path, path, "bind remount", MS_RDONLY, NULL);
  }
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
