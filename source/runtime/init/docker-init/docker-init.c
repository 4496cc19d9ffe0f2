/*
 * gantry's `--init`: a minimal init to run as a container's PID 1 (the role tini plays for docker,
 * bind-mounted read-only at /sbin/docker-init as docker does). It starts the command given after
 * `--`, passes on every signal it can catch to it, reaps every process orphaned into the
 * container (a shell script's background jobs would otherwise stay zombies), and exits with the
 * command's status when the command ends (128+N when a signal ended it), which ends the
 * container. Built static (it must run in images without a libc) by scripts/build.mjs.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* Signals that stay with the init: the ones the kernel sends about its own children and its
 * terminal, and the two that cannot be caught anyway. */
static int kept(int sig) {
  return sig == SIGCHLD || sig == SIGKILL || sig == SIGSTOP || sig == SIGTTIN || sig == SIGTTOU ||
         sig == SIGTSTP;
}

int main(int argc, char **argv) {
  int first = 1;
  if (first < argc && !strcmp(argv[first], "--"))
    first++;
  if (first >= argc) {
    fprintf(stderr, "docker-init (gantry): usage: docker-init [--] PROGRAM [ARGS...]\n");
    return 2;
  }
  sigset_t all, previous;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, &previous);
  /* Not PID 1 (a shared pid namespace): still the reaper of what its command leaves behind. */
  if (getpid() != 1)
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  pid_t child = fork();
  if (child < 0) {
    fprintf(stderr, "docker-init (gantry): fork: %s\n", strerror(errno));
    return 1;
  }
  if (child == 0) {
    /* The command gets its own process group in the foreground of the terminal, if any, so a
     * Ctrl-C from the terminal reaches it once, through the kernel. */
    setpgid(0, 0);
    if (isatty(STDIN_FILENO)) {
      signal(SIGTTOU, SIG_IGN);
      tcsetpgrp(STDIN_FILENO, getpgrp());
      signal(SIGTTOU, SIG_DFL);
    }
    sigprocmask(SIG_SETMASK, &previous, NULL);
    execvp(argv[first], argv + first);
    int err = errno;
    fprintf(stderr, "exec %s: %s\n", argv[first], strerror(err));
    _exit(err == ENOENT ? 127 : 126);
  }
  for (;;) {
    siginfo_t info;
    int sig = sigwaitinfo(&all, &info);
    if (sig < 0)
      continue;
    if (sig != SIGCHLD) {
      if (!kept(sig))
        kill(child, sig);
      continue;
    }
    for (;;) {
      int status;
      pid_t pid = waitpid(-1, &status, WNOHANG);
      if (pid <= 0)
        break;
      if (pid == child) {
        if (WIFEXITED(status))
          return WEXITSTATUS(status);
        if (WIFSIGNALED(status))
          return 128 + WTERMSIG(status);
        return 1;
      }
    }
  }
}
