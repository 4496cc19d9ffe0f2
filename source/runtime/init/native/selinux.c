/*
 * SELinux labels for the container's process, as runc applies them through go-selinux: the label
 * written to the process's own attr/exec, so the kernel gives it from the execve on, and to
 * attr/keycreate before the session keyring is made or joined, so the keyring carries it too.
 * Both files are opened before any namespace of the container is joined, while /proc is the
 * host's, and must be on procfs; the kernel takes a write only from the task the file belongs to.
 * So what a container mounts over its /proc (CVE-2019-16884) can make a write fail, never land
 * elsewhere and leave the process unlabelled. The process is not dumpable from the helper's start
 * to its execve, so nothing in the container can reach these descriptors through /proc/PID/fd.
 */
#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

static int exec_fd = -1;
static int keycreate_fd = -1;

static int open_attr(const struct plan *plan, const char *name) {
  char path[64];
  snprintf(path, sizeof path, "/proc/thread-self/attr/%s", name);
  int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    die("SELinux label `%s`: open %s: %s (%s); does this kernel run SELinux?", plan->selinux_label, path,
        errno_name(err), strerror(err));
  }
  struct statfs fs;
  if (fstatfs(fd, &fs) < 0 || fs.f_type != PROC_SUPER_MAGIC)
    die("SELinux label `%s`: %s is not on procfs", plan->selinux_label, path);
  return fd;
}

void selinux_open(const struct plan *plan) {
  if (!plan->selinux_label || exec_fd >= 0)
    return;
  exec_fd = open_attr(plan, "exec");
  keycreate_fd = open_attr(plan, "keycreate");
}

static void write_label(const struct plan *plan, int fd, const char *what) {
  size_t len = strlen(plan->selinux_label);
  if (write(fd, plan->selinux_label, len) != (ssize_t)len) {
    int err = errno;
    die("apply SELinux label `%s` (%s): %s (%s)%s", plan->selinux_label, what, errno_name(err), strerror(err),
        err == EINVAL ? "; it must be a context the loaded policy defines (USER:ROLE:TYPE[:LEVEL])" : "");
  }
}

void selinux_keyring(const struct plan *plan) {
  if (!plan->selinux_label || !plan->session_keyring)
    return;
  if (keycreate_fd < 0)
    die("internal: the SELinux keycreate attribute was not opened before the container's namespaces");
  write_label(plan, keycreate_fd, "the session keyring");
}

void selinux_apply(const struct plan *plan) {
  if (!plan->selinux_label)
    return;
  if (exec_fd < 0)
    die("internal: the SELinux exec attribute was not opened before the container's namespaces");
  write_label(plan, exec_fd, "the process");
  close(exec_fd);
  close(keycreate_fd);
  exec_fd = keycreate_fd = -1;
}
