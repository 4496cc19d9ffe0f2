/*
 * `gantry exec`: run one process in a running container, the way conmon and containerd's shim do.
 *
 * Two processes. The relay (this process, from a sealed copy of the helper, with no environment)
 * never joins the container: it keeps the caller's stdio and the engine's channel and copies
 * bytes between the caller and the process. The process is forked into the container's pid
 * namespace, non-dumpable from its first instruction; it joins the cgroup and the other
 * namespaces (mount last), starts a session of its own, and gets as stdio only pipes to the relay
 * or a pty opened inside the container. No host fd, host terminal or host environment reaches it.
 * The relay's exit status is the process's (128+N for a signal), so the engine passes it through.
 */
#include "helper.h"
#include "pollset.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

/* The ends of the process's stdio: `child` ends become its 0-2, `relay` ends stay with us. */
struct exec_stdio {
  int child[3];
  int stdin_write, stdout_read, stderr_read; /* -1 with a terminal or detached */
};

static struct termios saved_termios;
static bool termios_saved;

static void restore_terminal(void) {
  if (termios_saved)
    tcsetattr(0, TCSADRAIN, &saved_termios);
  termios_saved = false;
}

static void raw_terminal(void) {
  if (!isatty(0) || tcgetattr(0, &saved_termios) < 0)
    return;
  termios_saved = true;
  struct termios raw = saved_termios;
  cfmakeraw(&raw);
  raw.c_oflag = saved_termios.c_oflag; /* keep output processing as docker does */
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

/* ------------------------------------------------------------------ the process, in the container */

static void write_proc_self(const char *file, const char *value) {
  char path[64];
  snprintf(path, sizeof path, "/proc/self/%s", file);
  if (!write_proc_file(path, value))
    fail_errno("write", path);
}

static void use_null_stdio(void) {
  int null = open_in_current_root("/dev/null", O_RDWR | O_NOFOLLOW);
  struct stat st;
  if (null < 0 || fstat(null, &st) < 0)
    fail_errno("open the container's null device", "/dev/null");
  if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
    die("/dev/null in the container is not the null device (char 1:3); a detached exec needs it");
  for (int fd = 0; fd < 3; fd++)
    if (dup2(null, fd) < 0)
      fail_errno("dup2", "/dev/null");
  close(null);
}

static void exec_child(struct plan *plan, int sync, const int *ns_fds, const struct exec_stdio *io)
    __attribute__((noreturn));
static void exec_child(struct plan *plan, int sync, const int *ns_fds, const struct exec_stdio *io) {
  /* The caller's fds 0-2 go first: nothing of the caller's is held a moment longer than needed. */
  for (int fd = 0; fd < 3; fd++)
    if (dup2(io->child[fd], fd) < 0)
      _exit(125);
  set_error_channel(sync, "error");
  close(SYNC_FD);
  signal(SIGPIPE, SIG_DFL);
  /* Still in the host's mount namespace: /proc is the host's, so this is our own pid there. */
  char self[32] = "";
  if (readlink("/proc/self", self, sizeof self - 1) < 0)
    fail_errno("readlink", "/proc/self");
  pid_t host_pid = (pid_t)atoi(self);
  if (plan->have_oom_score) {
    char value[32];
    snprintf(value, sizeof value, "%d", plan->oom_score_adj);
    write_proc_self("oom_score_adj", value);
  }
  for (size_t i = 0; i < plan->cgroup_procs.len; i++)
    if (!write_file(plan->cgroup_procs.items[i], "0"))
      fail_errno("join cgroup", plan->cgroup_procs.items[i]);
  apparmor_open(plan); /* still the host's /proc */
  selinux_open(plan);
  /* In runc's order (nsjoin.c); the pid namespace was joined by the relay: we were born in it. */
  int fds[10];
  for (size_t i = 0; i < plan->namespace_count; i++)
    fds[i] = plan->namespaces[i].type == CLONE_NEWPID ? -1 : ns_fds[i];
  size_t failed = 0;
  if (join_namespaces_ordered(plan, fds, &failed) < 0)
    fail_errno("setns", plan->namespaces[failed].path);
  /* After the user namespace: the init made the keyring there, and names are looked up in it. */
  selinux_keyring(plan);
  join_session_keyring(plan, false, false);
  test_pause(plan, "joined", host_pid);
  if (plan->terminal) {
    hand_over_pty(plan, sync);
  } else {
    if (plan->detach_exec && !plan->passthrough)
      use_null_stdio();
    if (setsid() < 0)
      fail_errno("setsid", NULL);
  }
  char *path = prepare_process(plan, sync);
  test_pause(plan, "prepared", host_pid);
  if (plan->no_new_privileges)
    apply_seccomp(plan);
  exec_process(plan, path, sync);
}

/* ------------------------------------------------------------------ the relay, outside */

struct relay {
  pid_t child;
  int status;
  bool child_done;
  bool terminal;
  int input_from, input_to; /* caller's stdin -> the process (pipe or pty master); -1 when closed */
  char input[16384];
  size_t input_len;
  int out_from, err_from; /* the process's stdout/stderr (or the pty master) -> our 1 and 2 */
  int signal_fd;
  /* The engine's channel, with a terminal: "size ROWS COLS" lines when the caller's terminal is
   * not ours to read (a remote client's, relayed through pipes). -1 once the engine closed it. */
  int control_fd;
  char control[64];
  size_t control_len;
};

static void close_input(struct relay *r) {
  if (r->input_from >= 0)
    r->input_from = -1;
  if (!r->terminal && r->input_to >= 0)
    close(r->input_to);
  r->input_to = -1;
  r->input_len = 0;
}

/* Copies what is readable from `*from` to `to`; at EOF or an error the source is closed. */
static void copy_out(struct relay *r, int *from, int to) {
  char buf[16384];
  ssize_t n = read(*from, buf, sizeof buf);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  if (n <= 0) { /* EOF, or EIO from a pty whose last slave is gone */
    if (r->terminal && *from == r->out_from)
      r->input_to = -1;
    close(*from);
    *from = -1;
    return;
  }
  if (write_all(to, buf, (size_t)n) < 0) {
    /* Our reader went away (`exec ... | head`): stop reading, so the process's next write fails
     * with SIGPIPE as if it wrote there itself (with a pty: its terminal hangs up). */
    if (r->terminal && *from == r->out_from)
      r->input_to = -1;
    close(*from);
    *from = -1;
  }
}

static void read_signals(struct relay *r) {
  struct signalfd_siginfo info;
  while (read(r->signal_fd, &info, sizeof info) == sizeof info) {
    if (info.ssi_signo == SIGCHLD)
      continue;
    if (info.ssi_signo == SIGWINCH) {
      if (r->terminal && r->out_from >= 0)
        copy_window_size(r->out_from);
    } else if (info.ssi_pid == (uint32_t)getppid() && !r->child_done) {
      /* Only what the engine passes on: a Ctrl-C reaches it and us alike, and it forwards every
       * signal meant for the session once. */
      kill(r->child, (int)info.ssi_signo);
    }
  }
  if (!r->child_done && waitpid(r->child, &r->status, WNOHANG) == r->child)
    r->child_done = true;
}

/* Applies the sizes the engine sends; the kernel then signals the pty's foreground group. */
static void read_control(struct relay *r) {
  ssize_t n = read(r->control_fd, r->control + r->control_len, sizeof r->control - r->control_len - 1);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  if (n <= 0) {
    r->control_fd = -1; /* still the error channel: left open, only no longer read */
    return;
  }
  r->control_len += (size_t)n;
  r->control[r->control_len] = '\0';
  char *line = r->control;
  char *end;
  while ((end = strchr(line, '\n')) != NULL) {
    *end = '\0';
    unsigned rows, cols;
    if (sscanf(line, "size %u %u", &rows, &cols) == 2 && rows > 0 && cols > 0 && rows <= 0xffff &&
        cols <= 0xffff && r->out_from >= 0) {
      struct winsize size = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
      ioctl(r->out_from, TIOCSWINSZ, &size);
    }
    line = end + 1;
  }
  size_t rest = r->control_len - (size_t)(line - r->control);
  /* A line longer than any size line is dropped rather than kept growing. */
  if (rest == sizeof r->control - 1)
    rest = 0;
  memmove(r->control, line, rest);
  r->control_len = rest;
}

static int relay(struct relay *r) {
  if (r->terminal) {
    raw_terminal();
    copy_window_size(r->out_from);
  }
  if (r->input_to >= 0)
    set_nonblock(r->input_to, true);
  if (r->out_from >= 0)
    set_nonblock(r->out_from, true);
  if (r->err_from >= 0)
    set_nonblock(r->err_from, true);
  if (r->control_fd >= 0)
    set_nonblock(r->control_fd, true);
  for (;;) {
    bool outputs_open = r->out_from >= 0 || r->err_from >= 0;
    if (r->child_done && !outputs_open)
      break;
    struct pollfd fds[6];
    int kinds[6];
    struct poll_set set = {fds, kinds, 0};
    poll_set_add(&set, r->signal_fd, POLLIN, 0);
    if (r->out_from >= 0)
      poll_set_add(&set, r->out_from, POLLIN, 1);
    if (r->err_from >= 0)
      poll_set_add(&set, r->err_from, POLLIN, 2);
    if (r->input_from >= 0 && r->input_len == 0 && !r->child_done)
      poll_set_add(&set, r->input_from, POLLIN, 3);
    if (r->input_to >= 0 && r->input_len > 0)
      poll_set_add(&set, r->input_to, POLLOUT, 4);
    if (r->control_fd >= 0 && r->out_from >= 0)
      poll_set_add(&set, r->control_fd, POLLIN, 5);
    /* Once the process is gone: what it wrote to a pipe is there now; a pty hands its last bytes
     * over through the kernel's flip buffer, so give those a moment. Background processes that
     * keep the output open do not hold the relay. */
    int timeout = !r->child_done ? -1 : r->terminal ? 200 : 0;
    int ready = poll(fds, set.count, timeout);
    if (ready < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    if (ready == 0 && r->child_done)
      break;
    for (nfds_t i = 0; i < set.count; i++) {
      if (!fds[i].revents)
        continue;
      switch (kinds[i]) {
      case 0:
        read_signals(r);
        break;
      case 1:
        copy_out(r, &r->out_from, 1);
        break;
      case 2:
        copy_out(r, &r->err_from, 2);
        break;
      case 3: {
        ssize_t n = read(r->input_from, r->input, sizeof r->input);
        if (n > 0) {
          r->input_len = (size_t)n;
        } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
          /* The caller's input ended. Without a terminal the process sees EOF; with one the
           * terminal itself is gone, so hang up the process's terminal as a closing xterm does. */
          if (r->terminal && r->out_from >= 0) {
            close(r->out_from);
            r->out_from = -1;
          }
          close_input(r);
        }
        break;
      }
      case 4: {
        if (r->input_to < 0)
          break;
        ssize_t n = write(r->input_to, r->input, r->input_len);
        if (n > 0) {
          memmove(r->input, r->input + n, r->input_len - (size_t)n);
          r->input_len -= (size_t)n;
        } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
          close_input(r);
        }
        break;
      }
      case 5:
        read_control(r);
        break;
      }
    }
  }
  restore_terminal();
  if (!r->child_done)
    while (waitpid(r->child, &r->status, 0) < 0 && errno == EINTR) {
    }
  return status_code(r->status);
}

static void make_pipe(int fds[2]) {
  if (pipe2(fds, O_CLOEXEC) < 0)
    fail_errno("pipe", NULL);
}

int run_exec(struct plan *plan) {
  set_error_channel(SYNC_FD, "error");
  signal(SIGPIPE, SIG_IGN);
  if (!plan->args.len)
    die("no command to run");
  test_pause_open(plan);
  cap_last_cap(); /* read now, from the host's /proc */
  /* Every namespace is opened before any is joined: the paths are the host's /proc. */
  int ns_fds[10];
  for (size_t i = 0; i < plan->namespace_count; i++) {
    ns_fds[i] = open(plan->namespaces[i].path, O_RDONLY | O_CLOEXEC);
    if (ns_fds[i] < 0)
      fail_errno("open namespace", plan->namespaces[i].path);
  }
  /* Joining a pid namespace only places our children in it; the relay itself stays outside. */
  for (size_t i = 0; i < plan->namespace_count; i++)
    if (plan->namespaces[i].type == CLONE_NEWPID && setns(ns_fds[i], CLONE_NEWPID) < 0)
      fail_errno("setns", plan->namespaces[i].path);

  if (plan->terminal && !(plan->rows && plan->cols)) {
    /* The caller's terminal size, read here (the child's stdio are placeholders), for the pty. */
    struct winsize size;
    if ((ioctl(0, TIOCGWINSZ, &size) == 0 || ioctl(1, TIOCGWINSZ, &size) == 0) && size.ws_row && size.ws_col) {
      plan->rows = size.ws_row;
      plan->cols = size.ws_col;
    }
  }
  struct exec_stdio io = {.stdin_write = -1, .stdout_read = -1, .stderr_read = -1};
  int in[2] = {-1, -1}, out[2], err[2];
  /* gantry-oci exec --detach without a terminal: the process keeps the fds its caller gave us
   * (conmon's pipes), as runc does; the caller chose them, and no relay outlives this command. */
  bool passthrough = plan->passthrough && plan->detach_exec && !plan->terminal;
  if (passthrough) {
    io.child[0] = 0;
    io.child[1] = 1;
    io.child[2] = 2;
  } else if (plan->terminal || plan->detach_exec) {
    /* Placeholders until the pty or /dev/null of the container takes over. */
    make_pipe(in);
    io.child[0] = in[0];
    io.child[1] = io.child[2] = in[1];
  } else {
    make_pipe(in);
    make_pipe(out);
    make_pipe(err);
    io = (struct exec_stdio){{in[0], out[1], err[1]}, in[1], out[0], err[0]};
    if (!plan->open_stdin) { /* as docker without -i: the process reads EOF */
      close(io.stdin_write);
      io.stdin_write = -1;
    }
  }
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    fail_errno("socketpair", NULL);
  pid_t child = fork();
  if (child < 0)
    fail_errno("fork", NULL);
  if (child == 0) {
    close(sv[0]);
    int relay_ends[] = {io.stdin_write, io.stdout_read, io.stderr_read};
    for (size_t i = 0; i < 3; i++)
      if (relay_ends[i] >= 0)
        close(relay_ends[i]);
    exec_child(plan, sv[1], ns_fds, &io);
  }
  close(sv[1]);
  for (size_t i = 0; i < plan->namespace_count; i++)
    close(ns_fds[i]);
  if (!passthrough) {
    close(in[0]);
    if (io.child[1] != in[1])
      close(io.child[1]);
    if (io.child[2] != in[1])
      close(io.child[2]);
    if (plan->terminal || plan->detach_exec)
      close(in[1]);
  }
  report(SYNC_FD, "pid %d %d\n", child, getpid());

  /* Until the exec succeeds (the socket closes) the process may hand over its pty or report a
   * setup error. */
  int master = -1;
  char line[8192];
  for (;;) {
    int n = read_line(sv[0], line, sizeof line);
    if (n < 0)
      break;
    if (!strcmp(line, "pty")) {
      master = recv_fd(sv[0]);
      if (master < 0 || !is_pty_master(master)) {
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        die("the process in the container did not hand over a pseudo-terminal");
      }
      continue;
    }
    int status;
    waitpid(child, &status, 0);
    report(SYNC_FD, "%s\n", line);
    return !strncmp(line, "execerr ", 8) ? (atoi(line + 8) == ENOENT ? 127 : 126) : 125;
  }
  close(sv[0]);
  if (master >= 0 && plan->console_socket) {
    /* The caller's console socket takes the terminal (runc's --console-socket); no relay here. */
    if (send_console(plan->console_socket, master) < 0) {
      char message[1024];
      snprintf(message, sizeof message, "send the console to `%s`: %s", plan->console_socket, errno_name(errno));
      kill(child, SIGKILL);
      waitpid(child, NULL, 0);
      die(message);
    }
    close(master);
    master = -1;
    report(SYNC_FD, "started\n");
    if (plan->detach_exec)
      return 0;
    int status;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    return status_code(status);
  }
  report(SYNC_FD, "started\n");
  if (plan->detach_exec)
    return 0;

  sigset_t mask;
  sigemptyset(&mask);
  int handled[] = {SIGCHLD, SIGWINCH, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
  for (size_t i = 0; i < sizeof handled / sizeof handled[0]; i++)
    sigaddset(&mask, handled[i]);
  sigprocmask(SIG_BLOCK, &mask, NULL);
  struct relay r = {.child = child,
                    .terminal = plan->terminal,
                    .input_from = plan->open_stdin ? 0 : -1,
                    .control_fd = plan->terminal ? SYNC_FD : -1};
  r.signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  if (r.signal_fd < 0)
    fail_errno("signalfd", NULL);
  if (plan->terminal) {
    r.out_from = master;
    r.err_from = -1;
    r.input_to = master;
  } else {
    r.out_from = io.stdout_read;
    r.err_from = io.stderr_read;
    r.input_to = io.stdin_write;
  }
  if (r.input_to < 0)
    r.input_from = -1;
  /* The process may have ended before the signal mask was in place. */
  if (waitpid(child, &r.status, WNOHANG) == child)
    r.child_done = true;
  return relay(&r);
}
