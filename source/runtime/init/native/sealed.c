/*
 * A sealed copy of this binary (runc's answer to CVE-2019-5736). A process of ours that enters a
 * container runs from a memfd that can never be written, grown, shrunk or unsealed, so
 * /proc/PID/exe (or a `#!/proc/self/exe` entrypoint) hands the container that copy, never the
 * host's file. Processes started this way get an empty environment: nothing of the caller's
 * environment is ever in memory the container could read.
 */
#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif

#define REQUIRED_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

bool self_is_sealed(void) {
  int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  int seals = fcntl(fd, F_GET_SEALS);
  close(fd);
  return seals >= 0 && (seals & REQUIRED_SEALS) == REQUIRED_SEALS;
}

/* Inside a user namespace the copy's owner (the host's root) is unmapped, so its 0511 mode lets
 * nobody open /proc/self/exe for reading: the init-child proves it runs from a sealed copy with
 * the fd it was executed from, which must be the very file /proc/self/exe names. */
bool fd_is_sealed_self(int fd) {
  struct stat by_fd, by_link;
  int seals = fcntl(fd, F_GET_SEALS);
  if (seals < 0 || (seals & REQUIRED_SEALS) != REQUIRED_SEALS)
    return false;
  if (fstat(fd, &by_fd) < 0 || stat("/proc/self/exe", &by_link) < 0)
    return false;
  return by_fd.st_dev == by_link.st_dev && by_fd.st_ino == by_link.st_ino;
}

static int memfd(const char *name) {
  /* MFD_EXEC: with vm.memfd_noexec=1 (Linux 6.3+) a memfd is otherwise made non-executable. */
  int fd = (int)syscall(SYS_memfd_create, name, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (fd < 0 && errno == EINVAL)
    fd = (int)syscall(SYS_memfd_create, name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
  return fd;
}

int sealed_copy_of_self(void) {
  int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (self < 0)
    fail_errno("open", "/proc/self/exe");
  struct stat st;
  if (fstat(self, &st) < 0)
    fail_errno("fstat", "/proc/self/exe");
  int fd = memfd("gantry-init");
  if (fd < 0)
    fail_errno("memfd_create", "gantry-init");
  off_t offset = 0;
  while (offset < st.st_size) {
    ssize_t n = sendfile(fd, self, &offset, (size_t)(st.st_size - offset));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      fail_errno("copy /proc/self/exe into a memfd", NULL);
  }
  close(self);
  /* Nobody needs to read it (the kernel maps it for exec), and a copy the container may reach
   * through /proc is better not writable by mode either. */
  if (fchmod(fd, 0511) < 0)
    fail_errno("fchmod", "memfd gantry-init");
  fcntl(fd, F_ADD_SEALS, F_SEAL_EXEC); /* Linux 6.3+: nobody may take its execute bits away */
  if (fcntl(fd, F_ADD_SEALS, REQUIRED_SEALS) < 0)
    fail_errno("seal", "memfd gantry-init");
  return fd;
}

void exec_sealed(int exe, char *const argv[]) {
  char *const empty_env[] = {NULL};
  syscall(SYS_execveat, exe, "", argv, empty_env, AT_EMPTY_PATH);
  fail_errno("execveat the sealed copy of gantry-init", NULL);
}

int plan_memfd(const char *text, size_t len) {
  int fd = memfd("gantry-plan");
  if (fd < 0)
    fail_errno("memfd_create", "gantry-plan");
  if (write_all(fd, text, len) < 0 || lseek(fd, 0, SEEK_SET) < 0)
    fail_errno("write", "memfd gantry-plan");
  return fd;
}

/* The test knob: the engine puts a `testpause` line in the plan when GANTRY_TEST_HELPER_PAUSE is
 * set; nothing here reads the environment. */
void test_pause_open(struct plan *plan) {
  plan->pause_ready_fd = plan->pause_go_fd = -1;
  if (!plan->pause_point)
    return;
  /* O_RDWR: opening a fifo this way never blocks, whether or not the test is listening yet. */
  plan->pause_ready_fd = open(plan->pause_ready, O_RDWR | O_CLOEXEC);
  plan->pause_go_fd = open(plan->pause_go, O_RDWR | O_CLOEXEC);
  if (plan->pause_ready_fd < 0 || plan->pause_go_fd < 0)
    fail_errno("open the test pause fifos", plan->pause_ready);
}

void test_pause(struct plan *plan, const char *point, pid_t host_pid) {
  if (!plan->pause_point || strcmp(plan->pause_point, point) || plan->pause_ready_fd < 0)
    return;
  report(plan->pause_ready_fd, "%s %d %d\n", point, (int)getpid(), (int)host_pid);
  char byte;
  while (read(plan->pause_go_fd, &byte, 1) < 0 && errno == EINTR) {
  }
  close(plan->pause_ready_fd);
  close(plan->pause_go_fd);
  plan->pause_ready_fd = plan->pause_go_fd = -1;
}
