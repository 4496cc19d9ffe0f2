/*
 * AppArmor for the container's process, as runc's libcontainer/apparmor does it: "exec PROFILE"
 * written to the process's own attr/apparmor/exec (attr/exec on kernels before 5.1), so the
 * profile confines it from its execve on. The file is opened before any namespace of the
 * container is joined, while /proc is the host's (a restart, which the monitor starts inside the
 * container's mount namespace, is the exception), and must be on procfs; the kernel takes the
 * write only from the task the file belongs to. So what a container mounts over its /proc
 * (CVE-2019-16884) can make the write fail, never land elsewhere and leave the process unconfined.
 */
#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

static int exec_attr_fd = -1;

void apparmor_open(const struct plan *plan) {
  if (!plan->apparmor_profile || exec_attr_fd >= 0)
    return;
  const char *paths[] = {"/proc/thread-self/attr/apparmor/exec", "/proc/thread-self/attr/exec"};
  int err = 0;
  for (size_t i = 0; i < sizeof paths / sizeof paths[0] && exec_attr_fd < 0; i++) {
    exec_attr_fd = open(paths[i], O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
    if (exec_attr_fd < 0 && !err)
      err = errno;
  }
  struct statfs fs;
  if (exec_attr_fd >= 0 && (fstatfs(exec_attr_fd, &fs) < 0 || fs.f_type != PROC_SUPER_MAGIC))
    die("AppArmor profile `%s`: /proc/thread-self/attr is not on procfs", plan->apparmor_profile);
  if (exec_attr_fd < 0)
    die("AppArmor profile `%s`: open /proc/thread-self/attr/apparmor/exec: %s (%s); does this kernel "
        "run AppArmor?",
        plan->apparmor_profile, errno_name(err), strerror(err));
}

void apparmor_apply(const struct plan *plan) {
  if (!plan->apparmor_profile)
    return;
  if (exec_attr_fd < 0)
    die("internal: the AppArmor attribute was not opened before the container's namespaces");
  char value[4096];
  int len = snprintf(value, sizeof value, "exec %s", plan->apparmor_profile);
  if (len < 0 || (size_t)len >= sizeof value)
    die("AppArmor profile `%s`: the name is too long", plan->apparmor_profile);
  if (write(exec_attr_fd, value, (size_t)len) != len) {
    int err = errno;
    die("apply AppArmor profile `%s`: %s (%s)%s", plan->apparmor_profile, errno_name(err), strerror(err),
        err == ENOENT ? "; load it first (apparmor_parser -r FILE)" : "");
  }
  close(exec_attr_fd);
  exec_attr_fd = -1;
}
