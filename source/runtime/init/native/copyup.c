/*
 * The OCI mount option `tmpcopyup` (podman sets it on every --tmpfs mount): a tmpfs that starts
 * with what the container's root has at its destination. As runc, the tmpfs is filled on a staging
 * point and then moved onto the destination; here the staging point is a detached mount
 * (fsopen/fsmount) that no path reaches, so nothing can swap a symlink into it while it is filled.
 * The source is read fd by fd from the destination resolved once inside the root: every entry is
 * opened with O_NOFOLLOW relative to its directory's fd, a symlink is copied as a symlink and never
 * followed, so no file of the host is read or written however the image's links point.
 */
#include "helper.h"
#include "mountapi.h"
#include "rootfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

/* A bind mount looping back into its own parent would make the walk endless; each level holds two
 * descriptors, so this also keeps the walk under the usual limit of 1024 open files. */
#define MAX_COPY_DEPTH 256

/* Where the walk is, for messages: the destination and the entry's path below it; the plan for
 * the test knob's "copyup-entry" point (between an entry's stat and its open). */
struct walk {
  char path[4096];
  struct plan *plan;
};

static void walk_push(struct walk *walk, size_t *saved, const char *name) {
  *saved = strlen(walk->path);
  snprintf(walk->path + *saved, sizeof walk->path - *saved, "/%s", name);
}

static void copy_failed(const char *what, const struct walk *walk) {
  int err = errno;
  die("tmpcopyup: %s `%s`: %s (%s)", what, walk->path, errno_name(err), strerror(err));
}

/* The extended attributes of `from` onto `to`, as far as the kernel lets: tmpfs takes security.*
 * and trusted.*, user.* only from Linux 6.6, and a security label may be fixed by the mount's
 * context=. Those it refuses are left behind; any other failure stops the setup. */
static void copy_xattrs(int from, int to, const struct walk *walk) {
  ssize_t size = flistxattr(from, NULL, 0);
  if (size <= 0)
    return;
  char *names = xmalloc((size_t)size);
  size = flistxattr(from, names, (size_t)size);
  size_t value_cap = 256;
  char *value = xmalloc(value_cap);
  for (ssize_t at = 0; at < size; at += (ssize_t)strlen(names + at) + 1) {
    const char *name = names + at;
    ssize_t n = fgetxattr(from, name, NULL, 0);
    if (n < 0)
      continue;
    if ((size_t)n > value_cap) {
      value_cap = (size_t)n;
      value = xrealloc(value, value_cap);
    }
    n = fgetxattr(from, name, value, value_cap);
    if (n < 0)
      continue;
    if (fsetxattr(to, name, value, (size_t)n, 0) < 0 && errno != EOPNOTSUPP && errno != EPERM && errno != EINVAL)
      copy_failed("copy the extended attributes of", walk);
  }
  free(value);
  free(names);
}

/* Owner, then mode (a chown clears set-id bits), then xattrs (a chown clears security.capability),
 * then times, on the new file's fd. An owner the container's user namespace does not map (EINVAL)
 * stays the namespace's root. */
static void copy_attributes(int from, int to, const struct stat *st, bool owner, bool mode,
                            const struct walk *walk) {
  if (owner && fchown(to, st->st_uid, st->st_gid) < 0 && errno != EINVAL)
    copy_failed("chown", walk);
  if (mode && fchmod(to, st->st_mode & 07777) < 0)
    copy_failed("chmod", walk);
  copy_xattrs(from, to, walk);
  struct timespec times[2] = {st->st_atim, st->st_mtim};
  if (futimens(to, times) < 0)
    copy_failed("set the times of", walk);
}

/* Bytes [start, end) of `from` to the same offsets of `to`. */
static void copy_range(int from, int to, off_t start, off_t end, const struct walk *walk) {
  if (lseek(to, start, SEEK_SET) < 0)
    copy_failed("seek in the copy of", walk);
  off_t at = start;
  while (at < end) {
    size_t want = (size_t)(end - at) < (1u << 30) ? (size_t)(end - at) : (1u << 30);
    ssize_t n = sendfile(to, from, &at, want);
    if (n > 0)
      continue;
    if (n == 0)
      return; /* the file shrank since it was looked at: the copy ends with the ftruncate */
    if (errno == EINTR)
      continue;
    if (errno != EINVAL && errno != ENOSYS)
      copy_failed("copy", walk);
    break;
  }
  char buffer[65536];
  while (at < end) {
    size_t want = (size_t)(end - at) < sizeof buffer ? (size_t)(end - at) : sizeof buffer;
    ssize_t n = pread(from, buffer, want, at);
    if (n == 0)
      return;
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 || write_all(to, buffer, (size_t)n) != n)
      copy_failed("copy", walk);
    at += n;
  }
}

/* The file's `size` bytes as it was stat'ed: the data only, its holes left holes (a 100 GiB sparse
 * file in an image takes no memory in the tmpfs), and nothing it grows by while it is copied. */
static void copy_contents(int from, int to, off_t size, const struct walk *walk) {
  off_t at = 0;
  while (at < size) {
    off_t data = lseek(from, at, SEEK_DATA);
    if (data < 0 && errno == ENXIO)
      break;
    off_t hole = size;
    if (data < 0) {
      if (errno != EINVAL)
        copy_failed("seek in", walk);
      data = at; /* a filesystem without SEEK_DATA: every byte is data */
    } else {
      hole = lseek(from, data, SEEK_HOLE);
      if (hole < 0 || hole > size)
        hole = size;
    }
    if (data >= size)
      break;
    copy_range(from, to, data, hole, walk);
    at = hole;
  }
  if (ftruncate(to, size) < 0)
    copy_failed("size the copy of", walk);
}

static void copy_regular(int src_dir, int dst_dir, const char *name, struct walk *walk) {
  test_pause(walk->plan, "copyup-entry", 0);
  /* O_NONBLOCK: an entry swapped for a FIFO since it was looked at must not hang the setup;
   * O_NOCTTY: nor may a terminal swapped in become the helper's. */
  int from = openat(src_dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  struct stat st;
  if (from < 0 || fstat(from, &st) < 0)
    copy_failed("open", walk);
  if (!S_ISREG(st.st_mode))
    die("tmpcopyup: `%s` changed while it was being copied", walk->path);
  int to = openat(dst_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (to < 0)
    copy_failed("create", walk);
  copy_contents(from, to, st.st_size, walk);
  copy_attributes(from, to, &st, true, true, walk);
  close(to);
  close(from);
}

static void copy_symlink(int src_dir, int dst_dir, const char *name, const struct stat *st, const struct walk *walk) {
  char target[4096];
  ssize_t n = readlinkat(src_dir, name, target, sizeof target - 1);
  if (n < 0)
    copy_failed("readlink", walk);
  target[n] = '\0';
  if (symlinkat(target, dst_dir, name) < 0)
    copy_failed("symlink", walk);
  /* The copy is in the detached tmpfs only this process reaches: the name is still the link. */
  if (fchownat(dst_dir, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0 && errno != EINVAL)
    copy_failed("chown", walk);
  struct timespec times[2] = {st->st_atim, st->st_mtim};
  if (utimensat(dst_dir, name, times, AT_SYMLINK_NOFOLLOW) < 0)
    copy_failed("set the times of", walk);
}

static void copy_node(int dst_dir, const char *name, const struct stat *st, const struct walk *walk) {
  mode_t previous = umask(0);
  int made = mknodat(dst_dir, name, st->st_mode, st->st_rdev);
  umask(previous);
  if (made < 0)
    copy_failed("mknod", walk);
  if (fchownat(dst_dir, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0 && errno != EINVAL)
    copy_failed("chown", walk);
  if (fchmodat(dst_dir, name, st->st_mode & 07777, 0) < 0)
    copy_failed("chmod", walk);
  struct timespec times[2] = {st->st_atim, st->st_mtim};
  if (utimensat(dst_dir, name, times, AT_SYMLINK_NOFOLLOW) < 0)
    copy_failed("set the times of", walk);
}

static void copy_directory(int src_dir, int dst_dir, struct walk *walk, int depth);

static void copy_entry(int src_dir, int dst_dir, const char *name, struct walk *walk, int depth) {
  struct stat st;
  if (fstatat(src_dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    copy_failed("stat", walk);
  switch (st.st_mode & S_IFMT) {
  case S_IFREG:
    copy_regular(src_dir, dst_dir, name, walk);
    break;
  case S_IFLNK:
    copy_symlink(src_dir, dst_dir, name, &st, walk);
    break;
  case S_IFDIR: {
    if (depth >= MAX_COPY_DEPTH)
      die("tmpcopyup: `%s` is more than %d directories deep", walk->path, MAX_COPY_DEPTH);
    int from = openat(src_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (from < 0)
      copy_failed("open", walk);
    if (mkdirat(dst_dir, name, 0700) < 0)
      copy_failed("mkdir", walk);
    int to = openat(dst_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (to < 0)
      copy_failed("open", walk);
    copy_directory(from, to, walk, depth + 1);
    /* Attributes last: a read-only directory is filled first, its times are those of the source. */
    struct stat now;
    if (fstat(from, &now) < 0)
      copy_failed("stat", walk);
    copy_attributes(from, to, &now, true, true, walk);
    close(to);
    close(from);
    break;
  }
  default:
    copy_node(dst_dir, name, &st, walk);
  }
}

static void copy_directory(int src_dir, int dst_dir, struct walk *walk, int depth) {
  int listing = dup(src_dir);
  DIR *dir = listing < 0 ? NULL : fdopendir(listing);
  if (!dir)
    copy_failed("list", walk);
  for (;;) {
    errno = 0;
    struct dirent *entry = readdir(dir);
    if (!entry) {
      if (errno)
        copy_failed("list", walk);
      break;
    }
    if (!strcmp(entry->d_name, ".") || !strcmp(entry->d_name, ".."))
      continue;
    size_t saved;
    walk_push(walk, &saved, entry->d_name);
    copy_entry(src_dir, dst_dir, entry->d_name, walk, depth);
    walk->path[saved] = '\0';
  }
  closedir(dir);
}

/* The mount's data ("size=64m,mode=1777,context=\"a:b:c:s0:c1,c2\"") as fsconfig calls: split at
 * the commas outside double quotes, a quoted value without its quotes (as mount(2)'s parser). */
static void configure_tmpfs(int fs, const struct mount_entry *m, bool *has_mode, bool *has_owner) {
  char *data = xstrdup(m->data);
  char *item = data;
  while (*item) {
    char *end = item;
    bool quoted = false;
    for (; *end && (quoted || *end != ','); end++)
      if (*end == '"')
        quoted = !quoted;
    bool last = !*end;
    *end = '\0';
    if (*item) {
      char *equals = strchr(item, '=');
      long rc;
      if (equals) {
        *equals = '\0';
        char *value = equals + 1;
        size_t len = strlen(value);
        if (len >= 2 && value[0] == '"' && value[len - 1] == '"') {
          value[len - 1] = '\0';
          value++;
        }
        if (!strcmp(item, "mode"))
          *has_mode = true;
        if (!strcmp(item, "uid") || !strcmp(item, "gid"))
          *has_owner = true;
        rc = syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, item, value, 0);
      } else {
        rc = syscall(SYS_fsconfig, fs, FSCONFIG_SET_FLAG, item, NULL, 0);
      }
      if (rc < 0) {
        int err = errno;
        char said[512];
        die("tmpfs option `%s` for `%s`: %s (%s) %s", item, m->destination, errno_name(err), strerror(err),
            fs_context_log(fs, said, sizeof said));
      }
    }
    if (last)
      break;
    item = end + 1;
  }
  free(data);
  /* Superblock flags of mount(2) that the new API takes as fsconfig flags. */
  static const struct {
    unsigned long flag;
    const char *name;
  } sb_flags[] = {{MS_SYNCHRONOUS, "sync"}, {MS_DIRSYNC, "dirsync"}, {MS_LAZYTIME, "lazytime"}, {MS_MANDLOCK, "mand"}};
  for (size_t i = 0; i < sizeof sb_flags / sizeof sb_flags[0]; i++)
    if ((m->flags & sb_flags[i].flag) && syscall(SYS_fsconfig, fs, FSCONFIG_SET_FLAG, sb_flags[i].name, NULL, 0) < 0)
      fail_errno("fsconfig", sb_flags[i].name);
}

static unsigned int mount_attributes(unsigned long flags) {
  unsigned int attr = 0;
  if (flags & MS_NOSUID)
    attr |= MOUNT_ATTR_NOSUID;
  if (flags & MS_NODEV)
    attr |= MOUNT_ATTR_NODEV;
  if (flags & MS_NOEXEC)
    attr |= MOUNT_ATTR_NOEXEC;
  if (flags & MS_NOSYMFOLLOW)
    attr |= MOUNT_ATTR_NOSYMFOLLOW;
  if (flags & MS_NOATIME)
    attr |= MOUNT_ATTR_NOATIME;
  else if (flags & MS_STRICTATIME)
    attr |= MOUNT_ATTR_STRICTATIME;
  return attr;
}

void mount_tmpfs_copy_up(int destination_fd, const struct mount_entry *m, struct plan *plan) {
  int source = openat(destination_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (source < 0) {
    int err = errno;
    die("tmpcopyup: the mount destination `%s` in the container: %s (%s)%s", m->destination, errno_name(err),
        strerror(err), err == ENOTDIR ? "; a tmpfs with tmpcopyup goes on a directory" : "");
  }
  int fs = (int)syscall(SYS_fsopen, m->type, FSOPEN_CLOEXEC);
  if (fs < 0) {
    int err = errno;
    die("tmpcopyup on `%s`: fsopen %s: %s (%s)%s", m->destination, m->type, errno_name(err), strerror(err),
        err == ENOSYS ? "; tmpcopyup needs Linux 5.2 or later" : "");
  }
  if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "source", m->source, 0) < 0)
    fail_errno("fsconfig source", m->source);
  bool has_mode = false, has_owner = false;
  configure_tmpfs(fs, m, &has_mode, &has_owner);
  if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
    int err = errno;
    char said[512];
    die("tmpcopyup: create the %s for `%s` (data %s): %s (%s) %s", m->type, m->destination, m->data, errno_name(err),
        strerror(err), fs_context_log(fs, said, sizeof said));
  }
  /* Writable while it is filled; read-only (the spec's "ro") only once it is full. */
  int staged = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, mount_attributes(m->flags));
  if (staged < 0)
    fail_errno("tmpcopyup: fsmount", m->destination);
  close(fs);
  int top = openat(staged, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (top < 0)
    fail_errno("tmpcopyup: open the new tmpfs", m->destination);
  struct walk walk = {.plan = plan};
  snprintf(walk.path, sizeof walk.path, "%s", m->destination);
  copy_directory(source, top, &walk, 0);
  /* The tmpfs takes the directory's owner and mode unless the options name their own. */
  struct stat st;
  if (fstat(source, &st) < 0)
    copy_failed("stat", &walk);
  copy_attributes(source, top, &st, !has_owner, !has_mode, &walk);
  close(top);
  close(source);
  if (m->flags & MS_RDONLY) {
    struct mount_attr_args attr = {.attr_set = MOUNT_ATTR_RDONLY};
    if (syscall(SYS_mount_setattr, staged, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0)
      fail_errno("tmpcopyup: make the tmpfs read-only", m->destination);
  }
  if (syscall(SYS_move_mount, staged, "", destination_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    fail_errno("tmpcopyup: move the filled tmpfs onto", m->destination);
  if (m->propagation) {
    struct mount_attr_args prop = {.propagation = m->propagation & (MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE)};
    if (syscall(SYS_mount_setattr, staged, "", AT_EMPTY_PATH | (m->propagation & MS_REC ? AT_RECURSIVE : 0),
                &prop, sizeof prop) < 0)
      fail_errno("tmpcopyup: set the propagation of", m->destination);
  }
  close(staged);
}
