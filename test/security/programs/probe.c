/*
 * A static probe run inside test containers: each argument names one attempt, and one line
 * "NAME RESULT ERRNO" is printed per attempt (RESULT is the call's return value, ERRNO 0 when
 * it succeeded). Syscalls are made by number through syscall(2), so the probe tries calls its
 * libc has no wrapper for (statmount, listmount, memfd_secret) and arguments a wrapper would not
 * pass (AF_VSOCK with the upper half of the register set).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Numbers of syscalls newer than this libc's headers: the same on x86_64 and arm64. */
#define NR_MEMFD_SECRET 447
#define NR_STATMOUNT 457
#define NR_LISTMOUNT 458
#define NR_CLONE3 435
#define NR_BEYOND_ANY_KERNEL 1000
#define AF_VSOCK_NUMBER 40

static void report(const char *name, long result) {
  printf("%s %ld %d\n", name, result, result < 0 ? errno : 0);
}

static long forks_until_refused(void) {
  long count = 0;
  for (;;) {
    pid_t pid = fork();
    if (pid == 0) {
      pause();
      _exit(0);
    }
    if (pid < 0) return -count - 1;
    count++;
  }
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  for (int i = 1; i < argc; i++) {
    const char *what = argv[i];
    errno = 0;
    if (!strcmp(what, "statmount")) report(what, syscall(NR_STATMOUNT, 0, 0, 0, 0));
    else if (!strcmp(what, "listmount")) report(what, syscall(NR_LISTMOUNT, 0, 0, 0, 0));
    else if (!strcmp(what, "memfd_secret")) report(what, syscall(NR_MEMFD_SECRET, 0));
    else if (!strcmp(what, "beyond")) report(what, syscall(NR_BEYOND_ANY_KERNEL, 0));
    else if (!strcmp(what, "clone3")) report(what, syscall(NR_CLONE3, NULL, 0));
    else if (!strcmp(what, "personality-query")) report(what, syscall(SYS_personality, 0xffffffffUL));
    else if (!strcmp(what, "personality-no-randomize"))
      report(what, syscall(SYS_personality, (unsigned long)ADDR_NO_RANDOMIZE));
    else if (!strcmp(what, "personality-exec"))
      report(what, syscall(SYS_personality, (unsigned long)READ_IMPLIES_EXEC));
    else if (!strcmp(what, "socket-inet")) report(what, syscall(SYS_socket, AF_INET, SOCK_STREAM, 0));
    else if (!strcmp(what, "socket-vsock"))
      report(what, syscall(SYS_socket, (unsigned long)AF_VSOCK_NUMBER, SOCK_STREAM, 0));
    else if (!strcmp(what, "socket-vsock-high"))
      report(what, syscall(SYS_socket, (1UL << 32) | AF_VSOCK_NUMBER, SOCK_STREAM, 0));
    else if (!strcmp(what, "unshare-user")) report(what, syscall(SYS_unshare, CLONE_NEWUSER));
    else if (!strcmp(what, "keyctl")) report(what, syscall(SYS_keyctl, 0, 0, 0, 0, 0));
    else if (!strcmp(what, "euid")) report(what, (long)geteuid());
    else if (!strcmp(what, "forks")) {
      long result = forks_until_refused();
      int saved = errno;
      printf("forks %ld %d\n", -result - 1, saved);
      /* The children go with the pid namespace when this, its init, returns. */
    } else {
      fprintf(stderr, "probe: unknown attempt %s\n", what);
      return 2;
    }
  }
  return 0;
}
