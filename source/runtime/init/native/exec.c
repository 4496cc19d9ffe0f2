/* `gantry exec`: join a running container's cgroup and namespaces, run one process in it, and
 * relay its terminal to ours. The helper stays in the foreground; its exit status is the
 * process's (128+N for a signal), so the engine can pass it straight through. */
#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static struct termios saved_termios;
static bool termios_saved;

static void restore_terminal(void) {
  if (termios_saved)
    tcsetattr(0, TCSADRAIN, &saved_termios);
}

static void raw_terminal(void) {
  if (!isatty(0) || tcgetattr(0, &saved_termios) < 0)
    return;
  termios_saved = true;
  struct termios raw = saved_termios;
  cfmakeraw(&raw);
  raw.c_oflag |= OPOST; /* keep output processing as docker does: the remote side sends \n */
  raw.c_oflag = saved_termios.c_oflag;
  tcsetattr(0, TCSADRAIN, &raw);
}

static void copy_window_size(int master) {
  struct winsize size;
  if (ioctl(0, TIOCGWINSZ, &size) == 0 || ioctl(1, TIOCGWINSZ, &size) == 0)
    ioctl(master, TIOCSWINSZ, &size);
}

static int status_code(int status) {
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  if (WIFSIGNALED(status))
    return 128 + WTERMSIG(status);
  return 125;
}

/* Relays stdin -> master and master -> stdout until the child exits and its output is drained. */
int relay_terminal(int master, pid_t child) {
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  sigaddset(&mask, SIGWINCH);
  sigprocmask(SIG_BLOCK, &mask, NULL);
  int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  raw_terminal();
  copy_window_size(master);
  bool stdin_open = true, child_done = false;
  int status = 0;
  char buf[16384];
  for (;;) {
    struct pollfd fds[3] = {{.fd = sfd, .events = POLLIN}, {.fd = master, .events = POLLIN},
                            {.fd = stdin_open ? 0 : -1, .events = POLLIN}};
    if (poll(fds, 3, child_done ? 200 : -1) < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    if (fds[0].revents) {
      struct signalfd_siginfo info;
      while (read(sfd, &info, sizeof info) == sizeof info)
        if (info.ssi_signo == SIGWINCH)
          copy_window_size(master);
      if (!child_done && waitpid(child, &status, WNOHANG) == child)
        child_done = true;
    }
    if (fds[1].revents) {
      ssize_t n = read(master, buf, sizeof buf);
      if (n <= 0)
        break; /* EIO: every slave fd is closed */
      write_all(1, buf, (size_t)n);
    } else if (child_done && !fds[0].revents) {
      break; /* exited and nothing left to read */
    }
    if (stdin_open && fds[2].revents) {
      ssize_t n = read(0, buf, sizeof buf);
      if (n <= 0)
        stdin_open = false;
      else
        write_all(master, buf, (size_t)n);
    }
  }
  restore_terminal();
  if (!child_done)
    waitpid(child, &status, 0);
  return status_code(status);
}

int run_exec(struct plan *plan) {
  set_error_channel(SYNC_FD, "error");
  signal(SIGPIPE, SIG_IGN);
  if (!plan->args.len)
    die("no command to run");
  char pid_text[32];
  snprintf(pid_text, sizeof pid_text, "%d", getpid());
  for (size_t i = 0; i < plan->cgroup_procs.len; i++)
    if (!write_file(plan->cgroup_procs.items[i], pid_text))
      fail_errno("join cgroup", plan->cgroup_procs.items[i]);
  /* Open every namespace first: once we are in the container's mount namespace the paths
   * under the host's /proc no longer resolve. */
  int ns_fds[10];
  for (size_t i = 0; i < plan->namespace_count; i++) {
    ns_fds[i] = open(plan->namespaces[i].path, O_RDONLY | O_CLOEXEC);
    if (ns_fds[i] < 0)
      fail_errno("open namespace", plan->namespaces[i].path);
  }
  for (int pass = 0; pass < 3; pass++)
    for (size_t i = 0; i < plan->namespace_count; i++) {
      int type = plan->namespaces[i].type;
      int order = type == CLONE_NEWUSER ? 0 : type == CLONE_NEWNS ? 2 : 1;
      if (order == pass && setns(ns_fds[i], type) < 0)
        fail_errno("setns", plan->namespaces[i].path);
    }
  cap_last_cap();

  int master = -1, slave = -1;
  if (plan->terminal) {
    master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0)
      fail_errno("open", "/dev/ptmx");
    char name[128];
    if (unlockpt(master) < 0 || ptsname_r(master, name, sizeof name))
      fail_errno("unlockpt", "/dev/ptmx");
    slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave < 0)
      fail_errno("open", name);
    /* Sized before the process starts: it may ask for its size at once (stty size, a shell). */
    copy_window_size(master);
  }
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    fail_errno("socketpair", NULL);
  pid_t child = fork();
  if (child < 0)
    fail_errno("fork", NULL);
  if (child == 0) {
    close(sv[0]);
    close(SYNC_FD);
    set_error_channel(sv[1], "error");
    signal(SIGPIPE, SIG_DFL);
    if (plan->terminal) {
      setsid();
      if (ioctl(slave, TIOCSCTTY, 0) < 0)
        fail_errno("TIOCSCTTY", NULL);
      dup2(slave, 0);
      dup2(slave, 1);
      dup2(slave, 2);
    } else if (plan->detach_exec) {
      setsid();
      int null = open("/dev/null", O_RDWR);
      dup2(null, 0);
      dup2(null, 1);
      dup2(null, 2);
    }
    if (plan->have_oom_score) {
      char value[32];
      snprintf(value, sizeof value, "%d", plan->oom_score_adj);
      write_file("/proc/self/oom_score_adj", value);
    }
    char *path = prepare_process(plan, sv[1]);
    if (plan->no_new_privileges)
      apply_seccomp(plan);
    exec_process(plan, path, sv[1]);
  }
  close(sv[1]);
  if (slave >= 0)
    close(slave);
  report(SYNC_FD, "pid %d %d\n", child, getpid());
  /* Until the exec succeeds (the socket closes) the child may report a setup error. */
  char line[8192];
  int n = read_line(sv[0], line, sizeof line);
  close(sv[0]);
  if (n > 0) {
    int status;
    waitpid(child, &status, 0);
    report(SYNC_FD, "%s\n", line);
    return !strncmp(line, "execerr ", 8) ? (atoi(line + 8) == ENOENT ? 127 : 126) : 125;
  }
  report(SYNC_FD, "started\n");
  if (plan->detach_exec)
    return 0;
  signal(SIGINT, SIG_IGN);
  signal(SIGQUIT, SIG_IGN);
  if (master >= 0)
    return relay_terminal(master, child);
  int status;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  return status_code(status);
}
