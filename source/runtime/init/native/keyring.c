/*
 * The container's session keyring (runc's _ses.ID). The kernel does not namespace keyrings: a
 * process that kept the session keyring of whoever ran us could use that user's keys. The init
 * leaves it for one of its own; a process `exec` starts joins that same keyring by name, as runc's
 * setns init does, so it neither keeps the caller's nor gets a second one.
 */
#include "helper.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* keyctl(2) operations (linux/keyctl.h), called through syscall(2): libc has no wrapper. */
#define KEYCTL_JOIN_SESSION_KEYRING 1
#define KEYCTL_SETPERM 5
#define KEYCTL_DESCRIBE 6

/*
 * Joins the keyring the plan names (made if none of that name is searchable yet). With
 * `set_permissions` (the init, which makes it): searchable by its owner uid, or in a user namespace
 * by others (the container's later uids are not its creator), so a process that changes uid, and
 * an exec'd process (which joins it by name, needing search permission), can still find it. A
 * kernel without keyrings (ENOSYS) is let be, as runc lets it.
 */
void join_session_keyring(const struct plan *plan, bool user_ns, bool set_permissions) {
  if (!plan->session_keyring)
    return;
  long key = syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, plan->session_keyring, 0, 0, 0);
  if (key < 0 && errno == ENOSYS)
    return;
  if (key < 0)
    fail_errno("join a session keyring", plan->session_keyring);
  if (!set_permissions)
    return;
  char description[512];
  long length = syscall(SYS_keyctl, KEYCTL_DESCRIBE, key, description, sizeof description - 1, 0);
  if (length < 0)
    fail_errno("describe the session keyring", plan->session_keyring);
  description[(size_t)length < sizeof description ? (size_t)length : sizeof description - 1] = '\0';
  /* "type;uid;gid;perm;description": the permission is the fourth field, in hex. */
  char *field = description;
  for (int i = 0; i < 3 && field; i++)
    field = strchr(field, ';') ? strchr(field, ';') + 1 : NULL;
  if (!field)
    die("the session keyring `%s` has a description of an unknown form", plan->session_keyring);
  unsigned long perm = strtoul(field, NULL, 16) | (user_ns ? 0x8UL : 0x80000UL);
  if (syscall(SYS_keyctl, KEYCTL_SETPERM, key, perm, 0, 0) < 0)
    fail_errno("set the session keyring's permissions", plan->session_keyring);
}
