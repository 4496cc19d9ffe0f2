/* Container creation. The helper process becomes the monitor; a clone()d child becomes the
 * container's init: it joins the cgroup, builds the root filesystem, waits at the exec fifo
 * and execs the user's process. */
#include "helper.h"
#include "rootfs.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <setjmp.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

struct child_io {
  int stdin_read, stdout_write, stderr_write;
};

static bool has_namespace(const struct plan *plan, int type, bool *joined) {
  for (size_t i = 0; i < plan->namespace_count; i++)
    if (plan->namespaces[i].type == type) {
      if (joined)
        *joined = plan->namespaces[i].path != NULL;
      return true;
    }
  return false;
}

static void expect_go(int sync) {
  char line[64];
  if (read_line(sync, line, sizeof line) < 0 || strcmp(line, "go"))
    _exit(125); /* the monitor gave up; it reports why */
}

static void join_namespaces(const struct plan *plan, bool user_pass) {
  for (size_t i = 0; i < plan->namespace_count; i++) {
    const struct namespace_entry *ns = &plan->namespaces[i];
    if (!ns->path || ns->held || ns->type == CLONE_NEWPID || (ns->type == CLONE_NEWUSER) != user_pass)
      continue;
    int fd = open(ns->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      fail_errno("open namespace", ns->path);
    if (setns(fd, ns->type) < 0)
      fail_errno("setns", ns->path);
    close(fd);
  }
}

/* As PID 1 of its namespace the process would ignore signals it has no handler for: until the
 * exec (which resets handlers), the usual terminating signals end it, so `kill` of a created
 * container works as with runc. */
static void end_on_signal(int signal_number) { _exit(128 + signal_number); }

static void end_on_signals(void) {
  int ending[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM};
  for (size_t i = 0; i < sizeof ending / sizeof ending[0]; i++)
    signal(ending[i], end_on_signal);
}

/* Puts `fd` at `target`, without close-on-exec. */
static void move_fd(int fd, int target) {
  if (fd == target) {
    set_cloexec(fd, false);
    return;
  }
  if (dup2(fd, target) < 0)
    fail_errno("dup2", NULL);
  close(fd);
}

static void container_setup(struct plan *plan, int sync) __attribute__((noreturn));

/* Whether the OOM killer has killed a process of the container's memory cgroup (v1's
 * memory.oom_control, v2's memory.events count it), so that a setup ended by SIGKILL says why. */
static bool oom_killed(const struct plan *plan) {
  for (size_t i = 0; i < plan->cgroup_procs.len; i++) {
    const char *procs = plan->cgroup_procs.items[i];
    const char *slash = strrchr(procs, '/');
    if (!slash)
      continue;
    static const char *const counters[] = {"memory.oom_control", "memory.events"};
    for (size_t c = 0; c < 2; c++) {
      char path[4200], text[1024];
      snprintf(path, sizeof path, "%.*s/%s", (int)(slash - procs), procs, counters[c]);
      int fd = open(path, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        continue;
      ssize_t n = read_full(fd, text, sizeof text - 1);
      close(fd);
      text[n > 0 ? n : 0] = '\0';
      const char *count = strstr(text, "oom_kill ");
      if (count && atol(count + strlen("oom_kill ")) > 0)
        return true;
    }
  }
  return false;
}

/*
 * The container's init, first part: wait for the monitor (uid maps, cgroup), become root of the
 * user namespace, and take the container's stdio. Then, unless the monitor already runs from a
 * sealed copy, re-execute from one (`exe`): the rest of setup, and the user's process, must never
 * see the host's gantry-init behind /proc/self/exe.
 */
static void container_main(struct plan *plan, int sync, struct child_io *io, int exe, int plan_fd)
    __attribute__((noreturn));
static void container_main(struct plan *plan, int sync, struct child_io *io, int exe, int plan_fd) {
  set_error_channel(sync, "error");
  end_on_signals();
  if (plan->root_upper && (plan->root_mount_fd = recv_fd(sync)) < 0)
    _exit(125); /* the monitor could not build the root; it reports why */
  expect_go(sync);

  bool user_joined = false;
  bool user_ns = has_namespace(plan, CLONE_NEWUSER, &user_joined);
  join_namespaces(plan, true);
  if (user_ns) {
    /* Become the namespace's root so the rest of setup (and the re-exec) keeps its capabilities. */
    if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
      fail_errno("become root in the user namespace", NULL);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); /* a credential change may reset it */
  }
  if (!plan->terminal && !plan->passthrough) {
    if (dup2(io->stdin_read, 0) < 0 || dup2(io->stdout_write, 1) < 0 || dup2(io->stderr_write, 2) < 0)
      fail_errno("dup2 stdio", NULL);
  }
  if (exe < 0) {
    close(SYNC_FD);
    container_setup(plan, sync);
  }
  if (plan_fd == SYNC_FD || exe <= EXE_FD)
    die("internal: the sealed re-exec's descriptors collide");
  move_fd(sync, SYNC_FD); /* replaces the engine's channel, which the container must not keep */
  move_fd(plan_fd, PLAN_FD);
  move_fd(exe, EXE_FD);
  if (plan->root_mount_fd >= 0)
    move_fd(plan->root_mount_fd, ROOTFS_FD);
  char *argv[] = {"gantry-init", "init-child", NULL};
  exec_sealed(EXE_FD, argv);
}

int run_init_child(struct plan *plan) {
  plan->root_mount_fd = plan->root_upper ? ROOTFS_FD : -1;
  if (!plan->root_upper)
    close(ROOTFS_FD); /* nothing of ours there; nothing else may pass on */
  set_error_channel(SYNC_FD, "error");
  end_on_signals();
  container_setup(plan, SYNC_FD);
}

/* The container's init, second part: the other namespaces, the root filesystem, the fifo, and
 * the exec of the user's process. */
static void container_setup(struct plan *plan, int sync) {
  test_pause_open(plan);
  apparmor_open(plan); /* before any namespace is joined: /proc is the host's */
  selinux_open(plan);
  char self[32] = ""; /* our pid in the host's /proc, for the test knob */
  if (readlink("/proc/self", self, sizeof self - 1) < 0)
    self[0] = '\0';
  /* Opened before a mount namespace given by path is joined: its relative path names the state
   * directory only in ours. */
  int fifo = -1;
  if (plan->fifo_path) {
    fifo = open(plan->fifo_path, O_PATH | O_CLOEXEC);
    if (fifo < 0)
      fail_errno("open exec fifo", plan->fifo_path);
  }
  join_namespaces(plan, false);
  selinux_keyring(plan);
  join_session_keyring(plan, has_namespace(plan, CLONE_NEWUSER, NULL), true);
  bool cgroup_joined = false;
  if (has_namespace(plan, CLONE_NEWCGROUP, &cgroup_joined) && !cgroup_joined && unshare(CLONE_NEWCGROUP) < 0)
    fail_errno("unshare cgroup namespace", NULL);
  /* A session of its own: the container never shares one (or a controlling terminal) with
   * whoever started the engine, even when its stdio is passed through (gantry-oci). */
  if (!plan->terminal && setsid() < 0)
    fail_errno("setsid", NULL);

  cap_last_cap();
  if (plan->rootfs)
    setup_rootfs(plan);
  if (plan->hook_sync) {
    report(sync, "hooks\n");
    expect_go(sync);
  }
  for (size_t i = 0; i < plan->hook_count; i++)
    if (!strcmp(plan->hooks[i].stage, "createContainer"))
      run_hook(&plan->hooks[i], plan->state_json);
  if (plan->rootfs) {
    pivot_into_rootfs(plan);
    finish_rootfs(plan);
  }
  if (plan->hostname && sethostname(plan->hostname, strlen(plan->hostname)) < 0)
    fail_errno("sethostname", plan->hostname);
  if (plan->domainname && setdomainname(plan->domainname, strlen(plan->domainname)) < 0)
    fail_errno("setdomainname", plan->domainname);
  if (plan->loopback)
    bring_up_loopback();
  if (plan->terminal)
    hand_over_pty(plan, sync);
  if (plan->have_oom_score && !has_namespace(plan, CLONE_NEWUSER, NULL)) {
    char value[32];
    snprintf(value, sizeof value, "%d", plan->oom_score_adj);
    if (!write_proc_file("/proc/self/oom_score_adj", value))
      fail_errno("write", "/proc/self/oom_score_adj");
  }
  char *path = prepare_process(plan, sync);
  test_pause(plan, plan->restarted ? "restarted" : "init", (pid_t)atoi(self));
  report(sync, "created\n");
  if (fifo >= 0) {
    char proc_path[64];
    snprintf(proc_path, sizeof proc_path, "/proc/self/fd/%d", fifo);
    /* Blocks until `start` opens the fifo for reading. */
    int wfd = open(proc_path, O_WRONLY | O_CLOEXEC);
    if (wfd < 0)
      fail_errno("open exec fifo for writing", plan->fifo_path);
    if (write_all(wfd, "0", 1) < 0)
      fail_errno("write exec fifo", plan->fifo_path);
    close(wfd);
    close(fifo);
  }
  for (size_t i = 0; i < plan->hook_count; i++)
    if (!strcmp(plan->hooks[i].stage, "startContainer"))
      run_hook(&plan->hooks[i], plan->state_json);
  if (plan->no_new_privileges)
    apply_seccomp(plan);
  exec_process(plan, path, sync);
}

static void write_id_maps(pid_t pid, const struct plan *plan) {
  char path[64], content[2048];
  if (plan->setgroups_deny) {
    snprintf(path, sizeof path, "/proc/%d/setgroups", pid);
    if (!write_file(path, "deny"))
      fail_errno("write", path);
  }
  for (int kind = 0; kind < 2; kind++) {
    const struct id_map *maps = kind ? plan->gid_maps : plan->uid_maps;
    size_t count = kind ? plan->gid_map_count : plan->uid_map_count;
    if (!count)
      continue;
    size_t len = 0;
    content[0] = '\0';
    for (size_t i = 0; i < count; i++)
      len += (size_t)snprintf(content + len, sizeof content - len, "%lu %lu %lu\n", maps[i].container,
                              maps[i].host, maps[i].size);
    snprintf(path, sizeof path, "/proc/%d/%s", pid, kind ? "gid_map" : "uid_map");
    if (!write_file(path, content))
      fail_errno("write", path);
  }
}

/* Binds every published port in the host's network namespace (the monitor never leaves it)
 * and keeps the sockets, close-on-exec so the container's process never sees them. */
static void hold_ports(const struct plan *plan) {
  for (size_t i = 0; i < plan->held_port_count; i++) {
    const struct held_port *h = &plan->held_ports[i];
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)h->port)};
    if (inet_pton(AF_INET, h->address, &addr.sin_addr) != 1)
      die("publish port: `%s` is not an IPv4 address", h->address);
    int fd = socket(AF_INET, (h->udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
    int one = 1;
    /* TCP: a listening socket holds the port against every other bind (TIME_WAIT of an earlier
     * container's connections does not stand in the way). */
    if (fd < 0 || (!h->udp && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0) ||
        bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || (!h->udp && listen(fd, 1) < 0)) {
      int err = errno;
      die("publish port %s:%u/%s: %s (%s): another process of the host holds it", h->address, h->port,
          h->udp ? "udp" : "tcp", errno_name(err), strerror(err));
    }
  }
}

/* What one spawn holds until the container process reports "created": released on the way out,
 * or by respawn_container when a restart's setup fails half-way (die() jumps back to it). */
struct spawn {
  int out_pipe[2], err_pipe[2], in_pipe[2];
  int sync[2];
  int exe, plan_fd, master;
  pid_t child;
};

static struct spawn spawning;
static bool monitor_sealed; /* the monitor itself runs from a sealed copy: children need no exec */

static void close_quietly(int *fd) {
  if (*fd >= 0)
    close(*fd);
  *fd = -1;
}

static void release_spawn(struct spawn *s, bool kill_child) {
  int *fds[] = {&s->out_pipe[0], &s->out_pipe[1], &s->err_pipe[0], &s->err_pipe[1], &s->in_pipe[0],
                &s->in_pipe[1],  &s->sync[0],     &s->sync[1],     &s->exe,         &s->plan_fd,
                &s->master};
  for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
    close_quietly(fds[i]);
  if (kill_child && s->child > 0) {
    kill(s->child, SIGKILL);
    waitpid(s->child, NULL, 0);
  }
  s->child = 0;
}

static void kill_and_fail(pid_t child, const char *message) __attribute__((noreturn));
static void kill_and_fail(pid_t child, const char *message) {
  kill(child, SIGKILL);
  waitpid(child, NULL, 0);
  spawning.child = 0;
  die("%s", message);
}

/* Out of the way of the fds the child arranges before its exec (0-4). */
static int high_fd(int fd) {
  int high = fcntl(fd, F_DUPFD_CLOEXEC, 10);
  if (high < 0)
    fail_errno("fcntl F_DUPFD_CLOEXEC", NULL);
  close(fd);
  return high;
}

static const char *namespace_name(int type) {
  switch (type) {
  case CLONE_NEWNET:
    return "net";
  case CLONE_NEWIPC:
    return "ipc";
  case CLONE_NEWUTS:
    return "uts";
  case CLONE_NEWNS:
    return "mnt";
  case CLONE_NEWCGROUP:
    return "cgroup";
  case CLONE_NEWUSER:
    return "user";
  case CLONE_NEWPID:
    return "pid";
  default:
    return "time";
  }
}

/* The plan a container's re-executed init-child reads: the first one, plus what was done for it
 * already (the namespaces the monitor entered for a restart's clone, or that the intermediate
 * process joined: `joined`, by entry) and, on a restart, that there is no exec fifo. */
static char *child_plan_text(const struct plan *plan, bool restart, const bool *joined, size_t *len) {
  size_t cap = plan->raw_len + 256, at = plan->raw_len - 4; /* without the "end\n" */
  char *text = xmalloc(cap);
  memcpy(text, plan->raw, at);
  for (size_t i = 0; i < plan->namespace_count; i++)
    if (plan->namespaces[i].held_fd >= 0 || joined[i])
      at += (size_t)snprintf(text + at, cap - at, "held %s\n", namespace_name(plan->namespaces[i].type));
  at += (size_t)snprintf(text + at, cap - at, "%send\n", restart ? "restarted\n" : "");
  *len = at;
  return text;
}

/* Enters (or leaves, with `back`) the namespaces the monitor holds for restarts, around the
 * clone: the new process starts in them, so it never opens a path that could name another
 * process's namespace by now (a recycled pid). */
static void enter_held_namespaces(const struct plan *plan, bool back) {
  for (size_t i = 0; i < plan->namespace_count; i++) {
    const struct namespace_entry *ns = &plan->namespaces[i];
    /* The user namespace is joined by the new process's parent (see spawn_via_middle): the
     * monitor, once in it, could never come back. */
    if (ns->held_fd < 0 || ns->type == CLONE_NEWUSER)
      continue;
    int fd = back ? ns->own_fd : ns->held_fd;
    if (setns(fd, ns->type) < 0)
      fail_errno(back ? "setns back into the monitor's namespace" : "setns into the held namespace",
                 namespace_name(ns->type));
  }
}

static int held_userns_fd(const struct plan *plan) {
  for (size_t i = 0; i < plan->namespace_count; i++)
    if (plan->namespaces[i].type == CLONE_NEWUSER && plan->namespaces[i].held_fd >= 0)
      return plan->namespaces[i].held_fd;
  return -1;
}

/*
 * Which namespaces an intermediate process joins for the first start (`joined`, by entry), as
 * runc's nsexec: when the container has a user namespace and joins others by path, the order
 * matters both ways. A namespace the host made must be joined before a new user namespace exists
 * (from inside it we hold no power over the host's); a user namespace given by path must be
 * joined before any new namespace is made, or those would belong to the host's and the
 * container's root could not mount, set its hostname or configure its network in them. The
 * monitor can do neither itself (it never leaves the host's user namespace), so a child joins
 * them (nsjoin.c's order) and then clones the container's process with the new namespaces. The
 * mount namespace is left to the process itself, which opens the exec fifo first.
 */
static bool middle_joins(const struct plan *plan, bool *joined) {
  bool user = false, any = false, user_by_path = false;
  for (size_t i = 0; i < plan->namespace_count; i++) {
    const struct namespace_entry *ns = &plan->namespaces[i];
    joined[i] = ns->path && !ns->held && ns->type != CLONE_NEWNS;
    if (ns->type == CLONE_NEWUSER) {
      user = true;
      user_by_path = ns->path != NULL;
    } else if (joined[i]) {
      any = true;
    }
  }
  if (user && (user_by_path || any))
    return true;
  for (size_t i = 0; i < plan->namespace_count; i++)
    joined[i] = false;
  return false;
}

/*
 * Forks the intermediate process, which joins the `joined` namespaces, or the held user namespace
 * `userns` of a restart (it could not come back from it, so the monitor never enters one), makes
 * the new namespaces (`flags`) there and clones the container's process as the monitor's own
 * child (CLONE_PARENT; a new pid namespace can only be made by a clone, and a user namespace by
 * clone makes it the owner of every other new one). Returns that process's pid in the parent, 0
 * in the container's process; -1 with errno and *failed (the entry, or -1) when it could not.
 */
static pid_t spawn_via_middle(struct plan *plan, int userns, const bool *joined, unsigned long flags,
                              long *failed) {
  *failed = -1;
  int report_pid[2];
  if (pipe2(report_pid, O_CLOEXEC) < 0)
    fail_errno("pipe2", "the intermediate process");
  pid_t middle = fork();
  if (middle < 0)
    fail_errno("fork", "the intermediate process");
  if (middle == 0) {
    close(report_pid[0]);
    bool middle_pause = plan->pause_point && !strcmp(plan->pause_point, "middle");
    if (middle_pause)
      test_pause_open(plan); /* the test's fifos, while we are still the host's root */
    pid_t child = -1;
    long where = -1;
    int err = 0;
    int fds[10];
    /* Every path opened before any namespace is joined: they are the host's /proc. */
    for (size_t i = 0; i < plan->namespace_count; i++) {
      fds[i] = joined[i] ? open(plan->namespaces[i].path, O_RDONLY | O_CLOEXEC) : -1;
      if (joined[i] && fds[i] < 0 && !err) {
        err = errno;
        where = (long)i;
      }
    }
    size_t bad = 0;
    bool entered = false;
    if (!err && userns >= 0) {
      entered = setns(userns, CLONE_NEWUSER) == 0;
    } else if (!err) {
      entered = join_namespaces_ordered(plan, fds, &bad) == 0;
      if (!entered)
        where = (long)bad;
    }
    if (!err && !entered)
      err = errno;
    /* Unshared here rather than cloned: everything but a new pid (and user) namespace, which only
     * a clone can make for the child. With a new user namespace, the clone makes it first and
     * every other new one as its. */
    unsigned long unshared = userns >= 0 ? flags & ~(unsigned long)(CLONE_NEWPID | CLONE_NEWUSER | SIGCHLD) : 0;
    /* Tests: stopped in the container's user namespace, to be attacked from it. */
    if (entered && middle_pause)
      test_pause(plan, "middle", getpid());
    if (entered && (!unshared || unshare((int)unshared) == 0)) {
      for (size_t i = 0; i < plan->namespace_count; i++)
        if (joined[i])
          plan->namespaces[i].held = true; /* the child inherits this copy of the plan */
      unsigned long cloned = userns >= 0 ? flags & (unsigned long)CLONE_NEWPID : flags & ~(unsigned long)SIGCHLD;
      child = (pid_t)syscall(SYS_clone, CLONE_PARENT | cloned | SIGCHLD, 0, 0, 0, 0);
      if (child == 0) {
        close(report_pid[1]);
        return 0;
      }
    }
    if (!err)
      err = errno;
    long told[3] = {child, err, where};
    ssize_t written = write(report_pid[1], told, sizeof told);
    _exit(written == (ssize_t)sizeof told ? 0 : 1);
  }
  close(report_pid[1]);
  long told[3] = {-1, EIO, -1};
  ssize_t got;
  while ((got = read(report_pid[0], told, sizeof told)) < 0 && errno == EINTR)
    ;
  close(report_pid[0]);
  while (waitpid(middle, NULL, 0) < 0 && errno == EINTR)
    ;
  if (got != (ssize_t)sizeof told || told[0] < 0) {
    errno = got == (ssize_t)sizeof told ? (int)told[1] : EIO;
    *failed = got == (ssize_t)sizeof told ? told[2] : -1;
    return -1;
  }
  return (pid_t)told[0];
}

/*
 * Clones the container's process and sees it through setup, up to "created" (it then waits at
 * the exec fifo, or, on a restart, goes on to exec at once). Fills `io` for the monitor. The
 * first start reports failures to the engine and exits; a restart (`restart`) returns instead:
 * 0 created, an errno > 0 when the process could not be found or executed (it exits; the monitor
 * reaps it), and on a failed setup it calls die(), which respawn_container catches.
 */
static int spawn_container(struct plan *plan, struct monitor_io *io, bool restart, char *error, size_t error_cap) {
  struct spawn *s = &spawning;
  *s = (struct spawn){{-1, -1}, {-1, -1}, {-1, -1}, {-1, -1}, -1, -1, -1, 0};
  bool joined[10] = {false};
  bool use_middle = !restart && middle_joins(plan, joined);
  if (!monitor_sealed) {
    s->exe = high_fd(sealed_copy_of_self());
    if (restart || use_middle) {
      size_t len;
      char *text = child_plan_text(plan, restart, joined, &len);
      s->plan_fd = high_fd(plan_memfd(text, len));
      free(text);
    } else {
      s->plan_fd = high_fd(plan_memfd(plan->raw, plan->raw_len));
    }
  }
  struct child_io child_io = {-1, -1, -1};
  if (!plan->terminal && !plan->passthrough) {
    if (pipe2(s->out_pipe, O_CLOEXEC) < 0 || pipe2(s->err_pipe, O_CLOEXEC) < 0 || pipe2(s->in_pipe, O_CLOEXEC) < 0)
      fail_errno("pipe", NULL);
    /* Without -i: not the host's /dev/null (no host file reaches the container) but a pipe
     * nobody writes to, which reads EOF just the same. */
    if (!plan->open_stdin)
      close_quietly(&s->in_pipe[1]);
    child_io = (struct child_io){s->in_pipe[0], s->out_pipe[1], s->err_pipe[1]};
  }

  unsigned long flags = SIGCHLD;
  for (size_t i = 0; i < plan->namespace_count; i++) {
    const struct namespace_entry *ns = &plan->namespaces[i];
    if (ns->type == CLONE_NEWCGROUP || ns->held_fd >= 0)
      continue; /* cgroup: unshared by the child once inside its cgroup; held: entered below */
    if (!ns->path) {
      flags |= (unsigned long)ns->type;
    } else if (ns->type == CLONE_NEWPID && !restart && !use_middle) {
      /* The monitor's children stay in it: restarts are born there too. (With the intermediate
       * process, that process joins it: its clone's pid must be one of the monitor's namespace.) */
      int fd = open(ns->path, O_RDONLY | O_CLOEXEC);
      if (fd < 0 || setns(fd, CLONE_NEWPID) < 0)
        fail_errno("join pid namespace", ns->path);
      close(fd);
    }
  }

  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s->sync) < 0)
    fail_errno("socketpair", NULL);
  enter_held_namespaces(plan, false);
  int userns = restart ? held_userns_fd(plan) : -1;
  long failed = -1;
  pid_t child = userns >= 0 || use_middle ? spawn_via_middle(plan, userns, joined, flags, &failed)
                                          : (pid_t)syscall(SYS_clone, flags, 0, 0, 0, 0);
  if (child == 0) {
    close(s->sync[0]);
    container_main(plan, s->sync[1], &child_io, s->exe, s->plan_fd);
  }
  int clone_errno = errno;
  enter_held_namespaces(plan, true);
  if (child < 0) {
    errno = clone_errno;
    if (failed >= 0)
      fail_errno(plan->namespaces[failed].path ? "setns" : "open namespace", plan->namespaces[failed].path);
    fail_errno(use_middle || userns >= 0 ? "clone in the container's user namespace" : "clone", NULL);
  }
  if (use_middle)
    for (size_t i = 0; i < plan->namespace_count; i++)
      if (plan->namespaces[i].type == CLONE_NEWPID && plan->namespaces[i].path) {
        /* As without the intermediate process: restarts are born in it too. */
        int fd = open(plan->namespaces[i].path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || setns(fd, CLONE_NEWPID) < 0)
          kill_and_fail(child, "join pid namespace for restarts failed");
        close(fd);
      }
  s->child = child;
  close_quietly(&s->sync[1]);
  close_quietly(&s->exe);
  close_quietly(&s->plan_fd);
  close_quietly(&s->out_pipe[1]);
  close_quietly(&s->err_pipe[1]);
  close_quietly(&s->in_pipe[0]);
  int sync = s->sync[0];

  if ((plan->uid_map_count || plan->gid_map_count) && userns < 0)
    write_id_maps(child, plan);
  if (plan->have_oom_score && has_namespace(plan, CLONE_NEWUSER, NULL)) {
    /* The init's /proc files belong to the host's root while it is not dumpable: the monitor
     * sets the score (inherited across the exec), as runc's parent does. */
    char path[64], value[32];
    snprintf(path, sizeof path, "/proc/%d/oom_score_adj", child);
    snprintf(value, sizeof value, "%d", plan->oom_score_adj);
    if (!write_proc_file(path, value))
      kill_and_fail(child, "write the container's oom_score_adj failed");
  }
  if (plan->root_upper) {
    /* Before "go": the init takes the root first, then waits for the word. */
    int root = mapped_root_overlay(plan, child);
    if (send_fd(sync, root) < 0)
      kill_and_fail(child, "handing the root to the container's init failed");
    close(root);
  }
  for (size_t i = 0; i < plan->cgroup_procs.len; i++) {
    char pid_text[32];
    snprintf(pid_text, sizeof pid_text, "%d", child);
    if (!write_file(plan->cgroup_procs.items[i], pid_text)) {
      char message[1024];
      int err = errno;
      snprintf(message, sizeof message, "join cgroup `%s`: %s (%s)", plan->cgroup_procs.items[i],
               errno_name(err), strerror(err));
      kill_and_fail(child, message);
    }
  }
  if (!restart)
    report(SYNC_FD, "pid %d %d\n", child, getpid());
  report(sync, "go\n");

  int exec_errno = 0;
  char line[8192];
  for (;;) {
    if (read_line(sync, line, sizeof line) < 0) {
      int status = 0;
      waitpid(child, &status, 0);
      s->child = 0;
      die("the container process exited during setup (%s %d)%s", WIFSIGNALED(status) ? "signal" : "status",
          WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status),
          WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL && oom_killed(plan)
              ? ": the kernel's OOM killer ended it; the container's memory limit is too small for its setup "
                "(a tmpcopyup tmpfs's pages count against it)"
              : "");
    }
    if (!strcmp(line, "hooks")) {
      report(SYNC_FD, "hooks\n");
      char answer[64];
      if (read_line(SYNC_FD, answer, sizeof answer) < 0 || strcmp(answer, "go"))
        kill_and_fail(child, "the engine stopped before the runtime hooks finished");
      report(sync, "go\n");
    } else if (!strcmp(line, "pty")) {
      s->master = recv_fd(sync);
      if (s->master < 0)
        kill_and_fail(child, "receiving the pty master failed");
      if (plan->console_socket) {
        if (send_console(plan->console_socket, s->master) < 0) {
          char message[1024];
          snprintf(message, sizeof message, "send the console to `%s`: %s", plan->console_socket,
                   errno_name(errno));
          kill_and_fail(child, message);
        }
        close_quietly(&s->master);
      }
    } else if (!strncmp(line, "error ", 6)) {
      waitpid(child, NULL, 0);
      s->child = 0;
      if (!restart) {
        report(SYNC_FD, "%s\n", line);
        _exit(125);
      }
      snprintf(error, error_cap, "%s", line + 6); /* kept percent-encoded, as the exit file wants it */
      release_spawn(s, false);
      return -1;
    } else if (!strncmp(line, "execerr ", 8)) {
      if (!restart) {
        report(SYNC_FD, "%s\n", line);
        waitpid(child, NULL, 0);
        _exit(atoi(line + 8) == ENOENT ? 127 : 126);
      }
      exec_errno = atoi(line + 8); /* the process exits; the monitor reaps it as a run that ended */
      break;
    } else if (!strcmp(line, "created")) {
      break;
    } else {
      kill_and_fail(child, "unexpected message from the container process");
    }
  }
  if (plan->pid_file && !restart) {
    char text[32], temp[4096];
    snprintf(text, sizeof text, "%d", child);
    snprintf(temp, sizeof temp, "%s.tmp", plan->pid_file);
    int fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || write_all(fd, text, strlen(text)) < 0 || close(fd) < 0 || rename(temp, plan->pid_file) < 0) {
      char message[1024];
      snprintf(message, sizeof message, "write pid file `%s`: %s", plan->pid_file, errno_name(errno));
      kill_and_fail(child, message);
    }
  }
  *io = (struct monitor_io){.out_fd = s->out_pipe[0], .err_fd = s->err_pipe[0], .in_fd = s->in_pipe[1],
                            .sync_fd = sync, .child = child};
  if (s->master >= 0) {
    io->out_fd = s->master;
    io->in_fd = dup(s->master);
    set_cloexec(io->in_fd, true);
  }
  /* Handed over: the monitor owns these now. */
  spawning = (struct spawn){{-1, -1}, {-1, -1}, {-1, -1}, {-1, -1}, -1, -1, -1, 0};
  return exec_errno;
}

/*
 * Keeps, for restarts, the namespaces a new process must find again: the network namespace
 * (its interfaces and addresses were set up once, by the engine) and any namespace the plan
 * joins by path (another container's, whose pid may be recycled by the time of a restart).
 * Opened through the first process, once it has joined them; the monitor's own are kept to
 * come back to after each clone.
 */
static void hold_namespaces(struct plan *plan, pid_t child) {
  for (size_t i = 0; i < plan->namespace_count; i++) {
    struct namespace_entry *ns = &plan->namespaces[i];
    /* A user namespace of its own too: the held network namespace is its, and the mapping (the
     * container's range) stays as it was. */
    bool hold = ns->type == CLONE_NEWNET || (ns->type == CLONE_NEWUSER && !ns->path) ||
                (ns->path && ns->type != CLONE_NEWPID && ns->type != CLONE_NEWUSER && ns->type != CLONE_NEWNS);
    if (!hold)
      continue;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/%s", child, namespace_name(ns->type));
    ns->held_fd = open(path, O_RDONLY | O_CLOEXEC);
    if (ns->held_fd < 0)
      fail_errno("open the container's namespace", path);
    ns->held = true;
    if (ns->type == CLONE_NEWUSER)
      continue; /* never entered by the monitor: nothing to come back from */
    snprintf(path, sizeof path, "/proc/self/ns/%s", namespace_name(ns->type));
    ns->own_fd = open(path, O_RDONLY | O_CLOEXEC);
    if (ns->own_fd < 0)
      fail_errno("open the monitor's namespace", path);
  }
}

int respawn_container(struct plan *plan, struct monitor_io *io, char *error, size_t error_cap) {
  static jmp_buf failed;
  static char message[2048];
  if (setjmp(failed)) {
    release_spawn(&spawning, true);
    encode_field(message, error, error_cap);
    return -1;
  }
  /* A restart has no exec fifo to wait at: it execs once set up. The test knob stops it only
   * at "restarted". */
  plan->fifo_path = NULL;
  plan->restarted = true;
  if (plan->pause_point && strcmp(plan->pause_point, "restarted"))
    plan->pause_point = NULL;
  catch_die(&failed, message, sizeof message);
  int result = spawn_container(plan, io, true, error, error_cap);
  catch_die(NULL, NULL, 0);
  return result;
}

int run_init(struct plan *plan) {
  set_error_channel(SYNC_FD, "error");
  signal(SIGPIPE, SIG_IGN);
  if (!plan->args.len)
    die("no command to run");
  bool new_pid_ns = false;
  for (size_t i = 0; i < plan->namespace_count; i++)
    if (plan->namespaces[i].type == CLONE_NEWPID && !plan->namespaces[i].path)
      new_pid_ns = true;
  /* The monitor itself stays on the host's binary (no copy kept per container): the child
   * re-executes from a sealed copy as soon as it is root of its namespaces. Alone in a new pid
   * namespace nobody sees it meanwhile; a child that joins an existing one (or the host's) would
   * be visible, so then the whole monitor runs from the sealed copy and the child needs no exec.
   * So it does when an intermediate process joins the container's namespaces (middle_joins): that
   * process, a fork of the monitor, is in the container's user namespace until its clone. */
  bool joined[10];
  monitor_sealed = self_is_sealed();
  if (!monitor_sealed && (!new_pid_ns || middle_joins(plan, joined))) {
    int exe = sealed_copy_of_self();
    move_fd(plan_memfd(plan->raw, plan->raw_len), PLAN_FD);
    char *argv[] = {"gantry-init", "init", "--plan-fd", NULL};
    exec_sealed(exe, argv);
  }
  if (!plan->foreground && !plan->handoff && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
    fail_errno("prctl PR_SET_CHILD_SUBREAPER", NULL);
  if (plan->state_dir && chdir(plan->state_dir) < 0)
    fail_errno("chdir", plan->state_dir);
  /* 0622 as runc: the process opens it for writing after it has become the container's user. */
  if (plan->fifo_path && mkfifo(plan->fifo_path, 0622) < 0 && errno != EEXIST)
    fail_errno("mkfifo", plan->fifo_path);
  if (plan->fifo_path && chmod(plan->fifo_path, 0622) < 0) /* the umask took the write bits */
    fail_errno("chmod", plan->fifo_path);

  hold_ports(plan);

  struct monitor_io io;
  char unused[8];
  spawn_container(plan, &io, false, unused, sizeof unused);
  if (plan->handoff) {
    /* runc's create: the caller's subreaper (conmon, the containerd shim) becomes the parent of
     * the container's init the moment we exit, and reaps it with its real exit status. What we
     * hold of it (the setup channel, a pty master already sent to the console socket) goes. */
    report(SYNC_FD, "created\n");
    _exit(0);
  }
  if (plan->restart_policy != RESTART_NO)
    hold_namespaces(plan, io.child);
  return run_monitor(plan, &io);
}
