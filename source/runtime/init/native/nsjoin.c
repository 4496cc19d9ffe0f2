/* Joining namespaces given by descriptor in the order runc's nsexec uses, shared by a container's
 * first process (init.c) and exec (exec.c). A user namespace decides what else may be joined:
 * setns(2) asks for CAP_SYS_ADMIN over the target's owner. One the host made (an `unshare --net`
 * holder, another runtime's namespace) is only ours to join before we enter a container's user
 * namespace; one that user namespace owns only after. So: everything we can join as we are,
 * then the user namespace, then the rest. The mount namespace comes last of each pass: once in
 * it, paths no longer mean what the caller meant. */
#include "helper.h"

#include <errno.h>
#include <sched.h>
#include <sys/prctl.h>
#include <unistd.h>

static int join_one(const struct plan *plan, int *fds, size_t i, size_t *failed) {
  if (setns(fds[i], plan->namespaces[i].type) < 0) {
    *failed = i;
    return -1;
  }
  close(fds[i]);
  fds[i] = -1;
  /* A credential change may reset the dumpable flag to fs.suid_dumpable. */
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  return 0;
}

/* One pass over the namespaces other than the user namespace, mount last; with `tolerate`, a
 * refusal (EPERM) leaves the namespace for the pass after the user namespace. */
static int join_pass(const struct plan *plan, int *fds, bool tolerate, size_t *failed) {
  for (int mount_pass = 0; mount_pass < 2; mount_pass++)
    for (size_t i = 0; i < plan->namespace_count; i++) {
      int type = plan->namespaces[i].type;
      if (fds[i] < 0 || type == CLONE_NEWUSER || (type == CLONE_NEWNS) != (mount_pass == 1))
        continue;
      if (join_one(plan, fds, i, failed) < 0 && !(tolerate && errno == EPERM))
        return -1;
    }
  return 0;
}

int join_namespaces_ordered(const struct plan *plan, int *fds, size_t *failed) {
  if (join_pass(plan, fds, true, failed) < 0)
    return -1;
  for (size_t i = 0; i < plan->namespace_count; i++)
    if (fds[i] >= 0 && plan->namespaces[i].type == CLONE_NEWUSER && join_one(plan, fds, i, failed) < 0)
      return -1;
  return join_pass(plan, fds, false, failed);
}
