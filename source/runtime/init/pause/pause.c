/*
 * gantry-pause: the process of a pod's infra container. It holds the pod's namespaces (network,
 * ipc, and pid with shareProcessNamespace) while the other containers come and go, reaps the
 * orphans that reparent to it as pid 1 of a shared pid namespace, and exits 0 on SIGTERM or
 * SIGINT. Nothing else: no files, no sockets, a few pages of memory.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "-v") == 0) {
    puts("gantry-pause");
    return 0;
  }
  sigset_t wanted;
  sigemptyset(&wanted);
  sigaddset(&wanted, SIGTERM);
  sigaddset(&wanted, SIGINT);
  sigaddset(&wanted, SIGCHLD);
  /* Blocked and taken with sigwait, so no signal is lost between two waits. */
  if (sigprocmask(SIG_BLOCK, &wanted, NULL) != 0) {
    perror("gantry-pause: sigprocmask");
    return 1;
  }
  for (;;) {
    int signal = 0;
    if (sigwait(&wanted, &signal) != 0)
      continue;
    if (signal == SIGCHLD) {
      while (waitpid(-1, NULL, WNOHANG) > 0) {
      }
      continue;
    }
    return 0;
  }
}
