/* The per-container monitor (the role conmon plays for podman): it owns the container's output
 * (log file in the CRI format, attach clients), keeps its stdin, reaps it as subreaper, and
 * writes the exit status and OOM flag to the state directory when it ends. */
#include "helper.h"
#include "health.h"
#include "pollset.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sched.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define MAX_CLIENTS 16
#define CHUNK 16384
/* Room set aside for the exit record: the longest one (a setup error) is well under it. */
#define EXIT_RECORD_SIZE 8192
/* The container's output is read in pieces this large, and its pipes are made as large (the kernel
 * default of 64 KiB makes a chatty container wait on the monitor far more often). */
#define OUTPUT_CHUNK (256 * 1024)

struct client {
  int fd;
  bool owns_cleanup;
  bool health_waiting; /* asked for a health check (FRAME_HEALTH): gets the status after it */
  unsigned char header[5];
  size_t header_len;
  char *payload;
  uint32_t payload_len, payload_got;
};

struct monitor {
  struct plan *plan;
  struct monitor_io *io;
  struct log_file log; /* log.buffer is NULL when the container keeps no log */
  char *output;        /* OUTPUT_CHUNK bytes, for reading the container's output */
  int listen_fd;
  int signal_fd;
  struct client clients[MAX_CLIENTS];
  size_t client_count;
  char *stdin_pending;
  size_t stdin_len, stdin_cap;
  bool stdin_closed;
  bool stdin_eof; /* close stdin once what is pending has been written */
  bool child_exited;
  int child_status;
  int exec_error;
  char setup_error[2048]; /* a failure the container process reported after "created" */
  uint64_t oom_baseline;
  uint64_t oom_reported;  /* the counter value of the last OOM event written */
  int oom_fd;             /* readable when the kernel reports an OOM: eventfd (v1) or inotify (v2) */
  int oom_control_fd;     /* v1: memory.oom_control, open while the eventfd is registered on it */
  long long oom_pending_until; /* monotonic ms: the kernel announced an OOM whose kill is not counted yet */
  long long exit_seen_ms;      /* monotonic ms: when the run's end was first seen (0: not yet) */
  int exit_fd;                 /* the exit record, its space allocated at start (prepare_exit_record) */
  struct health health;
};

static long long monotonic_ms(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static uint64_t read_counter(const char *file, const char *key) {
  if (!file)
    return 0;
  int fd = open(file, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  char buf[4096];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0)
    return 0;
  buf[n] = '\0';
  size_t key_len = strlen(key);
  for (char *line = buf; line && *line;) {
    if (!strncmp(line, key, key_len) && line[key_len] == ' ')
      return strtoull(line + key_len + 1, NULL, 10);
    line = strchr(line, '\n');
    if (line)
      line++;
  }
  return 0;
}

/* Asks the kernel to wake the monitor on OOM. v1: an eventfd registered for memory.oom_control
 * through cgroup.event_control; v2: inotify on memory.events, which the kernel modifies on every
 * event. Best effort: without it the exit status still records the OOM kill. */
static void watch_oom(struct monitor *m) {
  const struct plan *plan = m->plan;
  m->oom_fd = -1;
  m->oom_control_fd = -1;
  if (!plan->oom_file || !plan->events_file)
    return;
  if (plan->oom_control) {
    int event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    int oom_fd = open(plan->oom_file, O_RDONLY | O_CLOEXEC);
    int control_fd = open(plan->oom_control, O_WRONLY | O_CLOEXEC);
    if (event_fd >= 0 && oom_fd >= 0 && control_fd >= 0) {
      char text[64];
      int len = snprintf(text, sizeof text, "%d %d", event_fd, oom_fd);
      if (write(control_fd, text, (size_t)len) == len) {
        m->oom_fd = event_fd;
        m->oom_control_fd = oom_fd;
        event_fd = oom_fd = -1;
      }
    }
    if (control_fd >= 0)
      close(control_fd);
    if (event_fd >= 0)
      close(event_fd);
    if (oom_fd >= 0)
      close(oom_fd);
  } else {
    int watch_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (watch_fd >= 0 && inotify_add_watch(watch_fd, plan->oom_file, IN_MODIFY) >= 0)
      m->oom_fd = watch_fd;
    else if (watch_fd >= 0)
      close(watch_fd);
  }
}

/* Appends "TIMESTAMP oom COUNT" when the OOM kill counter went up since the last line; returns
 * whether it did. */
static bool report_oom(struct monitor *m) {
  if (!m->plan->events_file)
    return false;
  uint64_t count = read_counter(m->plan->oom_file, m->plan->oom_key);
  if (count <= m->oom_reported)
    return false;
  m->oom_reported = count;
  char stamp[64], text[128];
  format_time_rfc3339(stamp, sizeof stamp);
  int len = snprintf(text, sizeof text, "%s oom %llu\n", stamp, (unsigned long long)count);
  int fd = open(m->plan->events_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return true;
  write_all(fd, text, (size_t)len);
  close(fd);
  return true;
}

static void drop_client(struct monitor *m, size_t index) {
  close(m->clients[index].fd);
  free(m->clients[index].payload);
  m->clients[index] = m->clients[--m->client_count];
}

static void broadcast(struct monitor *m, int type, const char *data, size_t len) {
  for (size_t i = 0; i < m->client_count;) {
    if (write_frame(m->clients[i].fd, type, data, (uint32_t)len) < 0)
      drop_client(m, i);
    else
      i++;
  }
}

static void close_stdin(struct monitor *m) {
  if (m->stdin_closed)
    return;
  m->stdin_closed = true;
  m->stdin_len = 0;
  if (m->plan->terminal)
    return; /* the pty stays: closing it would hang up the container's terminal */
  if (m->io->in_fd >= 0) {
    close(m->io->in_fd);
    m->io->in_fd = -1;
  }
}

static void handle_frame(struct monitor *m, struct client *c) {
  int type = c->header[0];
  if (type == FRAME_STDIN && !m->stdin_closed && m->io->in_fd >= 0) {
    if (m->stdin_len + c->payload_len > m->stdin_cap) {
      m->stdin_cap = (m->stdin_len + c->payload_len) * 2;
      m->stdin_pending = xrealloc(m->stdin_pending, m->stdin_cap);
    }
    memcpy(m->stdin_pending + m->stdin_len, c->payload, c->payload_len);
    m->stdin_len += c->payload_len;
  } else if (type == FRAME_STDIN_EOF) {
    /* With a tty, as docker: the terminal stays open for the next client (attach after a detach). */
    if (m->plan->stdin_once && !m->plan->terminal) {
      m->stdin_eof = true;
      if (!m->stdin_len)
        close_stdin(m);
    }
  } else if (type == FRAME_RESIZE && m->plan->terminal && m->io->out_fd >= 0) {
    unsigned rows = 0, cols = 0;
    char text[32] = {0};
    memcpy(text, c->payload, c->payload_len < 31 ? c->payload_len : 31);
    if (sscanf(text, "%u %u", &rows, &cols) == 2) {
      struct winsize size = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
      ioctl(m->io->out_fd, TIOCSWINSZ, &size);
    }
  } else if (type == FRAME_CLEANUP) {
    c->owns_cleanup = true;
  } else if (type == FRAME_HEALTH) {
    /* Answered at once when no check can run; otherwise after the next one (health.c). */
    const char *answer = !m->health.enabled ? "none" : !m->health.active ? "stopped" : NULL;
    if (answer) {
      write_frame(c->fd, FRAME_HEALTH, answer, (uint32_t)strlen(answer));
    } else {
      c->health_waiting = true;
      m->health.requested = true;
    }
  } else if (type == FRAME_SIGNAL && !m->child_exited) {
    char text[16] = {0};
    memcpy(text, c->payload, c->payload_len < 15 ? c->payload_len : 15);
    int sig = atoi(text);
    if (sig > 0 && sig < 65)
      kill(m->io->child, sig);
  }
}

/* Reads what is available from a client; returns false when it went away. */
static bool read_client(struct monitor *m, struct client *c) {
  char buf[CHUNK];
  ssize_t n = read(c->fd, buf, sizeof buf);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return true;
  if (n <= 0) {
    if (m->plan->stdin_once && !m->plan->terminal && m->client_count == 1) {
      m->stdin_eof = true;
      if (!m->stdin_len)
        close_stdin(m);
    }
    return false;
  }
  size_t pos = 0;
  while (pos < (size_t)n) {
    if (c->header_len < 5) {
      c->header[c->header_len++] = (unsigned char)buf[pos++];
      if (c->header_len == 5) {
        c->payload_len = ((uint32_t)c->header[1] << 24) | ((uint32_t)c->header[2] << 16) |
                         ((uint32_t)c->header[3] << 8) | c->header[4];
        if (c->payload_len > (1u << 20))
          return false;
        c->payload = xrealloc(c->payload, c->payload_len + 1);
        c->payload_got = 0;
      }
    } else {
      size_t take = (size_t)n - pos;
      if (take > c->payload_len - c->payload_got)
        take = c->payload_len - c->payload_got;
      memcpy(c->payload + c->payload_got, buf + pos, take);
      c->payload_got += (uint32_t)take;
      pos += take;
    }
    if (c->header_len == 5 && c->payload_got == c->payload_len) {
      handle_frame(m, c);
      c->header_len = 0;
    }
  }
  return true;
}

/* The status after a health check, to the clients of `healthcheck run` that wait for it. */
static void answer_health(struct monitor *m) {
  for (size_t i = 0; i < m->client_count; i++)
    if (m->clients[i].health_waiting) {
      m->clients[i].health_waiting = false;
      write_frame(m->clients[i].fd, FRAME_HEALTH, m->health.status, (uint32_t)strlen(m->health.status));
    }
}

static void reap(struct monitor *m) {
  for (;;) {
    int status;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid <= 0)
      break;
    if (pid == m->io->child) {
      m->child_exited = true;
      m->child_status = status;
    } else {
      health_reaped(&m->health, pid, status);
    }
  }
}

/* Reads what the container wrote, a few pieces at most so the other descriptors get their turn. */
static bool drain_output(struct monitor *m, int *fd, const char *stream, int frame) {
  for (int round = 0; round < 4; round++) {
    ssize_t n = read(*fd, m->output, OUTPUT_CHUNK);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
      break;
    if (n <= 0) {
      /* EOF, or EIO from a pty whose last slave closed. */
      close(*fd);
      if (m->plan->terminal && m->io->in_fd >= 0) {
        close(m->io->in_fd);
        m->io->in_fd = -1;
      }
      *fd = -1;
      if (m->log.buffer)
        log_flush(&m->log);
      return false;
    }
    if (m->log.buffer)
      log_append(&m->log, stream, m->output, (size_t)n);
    broadcast(m, frame, m->output, (size_t)n);
    if (n < OUTPUT_CHUNK)
      break;
  }
  /* Written at once: `logs -f` and attached readers of the file see output as it comes. */
  if (m->log.buffer)
    log_flush(&m->log);
  return true;
}

/* The exit status must survive a full disk: a container that exited 0 must not read as killed
 * because the monitor found no room to say so. The record's space is taken at start (the file is
 * filled with blanks, so its blocks are allocated); at the end the status is written over them in
 * place and the file renamed to exit_file, which needs no new block. JSON readers take the
 * trailing blanks for whitespace. */
static void exit_record_path(const struct monitor *m, char *path, size_t size) {
  snprintf(path, size, "%s.pending", m->plan->exit_file);
}

static void prepare_exit_record(struct monitor *m) {
  m->exit_fd = -1;
  if (!m->plan->exit_file)
    return;
  char path[4096], blanks[EXIT_RECORD_SIZE];
  exit_record_path(m, path, sizeof path);
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    fail_errno("open the exit record", path);
  memset(blanks, ' ', sizeof blanks);
  blanks[sizeof blanks - 1] = '\n';
  if (write_all(fd, blanks, sizeof blanks) < 0 || fsync(fd) < 0) {
    int err = errno;
    unlink(path);
    errno = err;
    fail_errno("set aside room for the exit record", path);
  }
  m->exit_fd = fd;
}

/* The user's process could not be executed after the start (an image of another architecture,
 * a script whose interpreter is missing): said on the container's stderr, in its log and to
 * attached clients, as runc's init says it ("exec /app: exec format error"). */
static void say_exec_failure(struct monitor *m) {
  char text[1024];
  const char *program = m->plan->args.len ? m->plan->args.items[0] : "";
  int len = snprintf(text, sizeof text, "exec %s: %s\n", program, strerror(m->exec_error));
  if (len <= 0)
    return;
  if ((size_t)len >= sizeof text)
    len = sizeof text - 1;
  size_t at = strlen("exec ") + strlen(program) + 2;
  if (at < (size_t)len && text[at] >= 'A' && text[at] <= 'Z')
    text[at] = (char)(text[at] - 'A' + 'a'); /* Go's spelling, as docker prints it */
  bool terminal = m->plan->terminal;
  if (m->log.buffer) {
    log_append(&m->log, terminal ? "stdout" : "stderr", text, (size_t)len);
    log_flush(&m->log);
  }
  broadcast(m, terminal ? FRAME_STDOUT : FRAME_STDERR, text, (size_t)len);
}

static void write_exit_file(struct monitor *m, int exit_code, int signal_number, bool oom) {
  if (!m->plan->exit_file)
    return;
  char stamp[64], json[EXIT_RECORD_SIZE], path[4096];
  format_time_rfc3339(stamp, sizeof stamp);
  /* The error text is kept percent-encoded (see encode_field): it is valid inside a JSON string. */
  int len = snprintf(json, sizeof json,
                     "{\"exitCode\":%d,\"signal\":%d,\"oomKilled\":%s,\"finishedAt\":\"%s\",\"execErrno\":%d,"
                     "\"error\":\"%s\"}\n",
                     exit_code, signal_number, oom ? "true" : "false", stamp, m->exec_error, m->setup_error);
  if (len < 0 || (size_t)len >= sizeof json)
    return;
  if (m->exit_fd >= 0) {
    exit_record_path(m, path, sizeof path);
    bool written = pwrite(m->exit_fd, json, (size_t)len, 0) == len && fsync(m->exit_fd) == 0;
    close(m->exit_fd);
    m->exit_fd = -1;
    if (written && rename(path, m->plan->exit_file) == 0)
      return;
  }
  snprintf(path, sizeof path, "%s.tmp", m->plan->exit_file);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return;
  write_all(fd, json, (size_t)len);
  fsync(fd);
  close(fd);
  rename(path, m->plan->exit_file);
}

static void run_exit_command(struct plan *plan) {
  if (!plan->exit_command.len)
    return;
  pid_t pid = fork();
  if (pid != 0)
    return;
  setsid();
  int null = open("/dev/null", O_RDWR);
  if (null >= 0) {
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
  }
  signal(SIGPIPE, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  /* The monitor has no environment (see sealed.c); the cleanup gets a PATH and nothing else. */
  char *const env[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", NULL};
  execve(plan->exit_command.items[0], plan->exit_command.items, env);
  _exit(127);
}

static void start_listening(struct monitor *m) {
  if (!m->plan->attach_path)
    return;
  m->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (m->listen_fd < 0)
    fail_errno("socket", m->plan->attach_path);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(m->plan->attach_path) >= sizeof addr.sun_path)
    die("attach socket path `%s` is too long; the monitor binds it relative to the state directory",
        m->plan->attach_path);
  strcpy(addr.sun_path, m->plan->attach_path);
  unlink(m->plan->attach_path);
  if (bind(m->listen_fd, (struct sockaddr *)&addr, sizeof addr) < 0)
    fail_errno("bind", m->plan->attach_path);
  if (listen(m->listen_fd, 8) < 0)
    fail_errno("listen", m->plan->attach_path);
}

/* Per run: the container's fresh pipes (or pty) made non-blocking, the pipes made large. */
static void prepare_run_io(struct monitor *m) {
  struct monitor_io *io = m->io;
  if (io->out_fd >= 0)
    set_nonblock(io->out_fd, true);
  if (io->err_fd >= 0)
    set_nonblock(io->err_fd, true);
  /* Pipes only (a pty refuses it); the kernel caps it at fs.pipe-max-size. */
  if (io->out_fd >= 0 && !m->plan->terminal)
    fcntl(io->out_fd, F_SETPIPE_SZ, OUTPUT_CHUNK);
  if (io->err_fd >= 0)
    fcntl(io->err_fd, F_SETPIPE_SZ, OUTPUT_CHUNK);
  if (io->in_fd >= 0)
    set_nonblock(io->in_fd, true);
  m->child_exited = false;
  m->child_status = 0;
  m->exec_error = 0;
  m->setup_error[0] = '\0';
  m->exit_seen_ms = 0;
  m->stdin_closed = m->stdin_eof = false;
  m->stdin_len = 0;
}

/* What is left of a run once it ended: its stdin and its setup channel. */
static void end_run_io(struct monitor *m) {
  struct monitor_io *io = m->io;
  int *fds[] = {&io->out_fd, &io->err_fd, &io->in_fd, &io->sync_fd};
  for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
    if (*fds[i] >= 0) {
      close(*fds[i]);
      *fds[i] = -1;
    }
  m->stdin_closed = true;
}

/* Watches the state directory for the stop marker while a restart waits out its delay. */
static int watch_stop_file(const struct plan *plan) {
  if (!plan->stop_file)
    return -1;
  int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd >= 0 && inotify_add_watch(fd, ".", IN_CREATE | IN_MOVED_TO | IN_ATTRIB) < 0) {
    close(fd);
    fd = -1;
  }
  return fd;
}

/*
 * The event loop: the container's output to the log and attached clients, clients' input to its
 * stdin, the setup channel, OOM notices. Returns when the run ended and its output is drained;
 * with `until_ms` (a restart's back-off) when that time came, or early, returning true, when a
 * stop was asked for.
 */
static bool serve(struct monitor *m, long long until_ms) {
  struct monitor_io *io = m->io;
  int stop_watch = until_ms ? watch_stop_file(m->plan) : -1;
  bool stopped = false;
  for (;;) {
    reap(m);
    if (until_ms) {
      if (stop_requested(m->plan)) {
        stopped = true;
        break;
      }
      if (monotonic_ms() >= until_ms)
        break;
    } else if (m->child_exited) {
      if (io->out_fd < 0 && io->err_fd < 0)
        break;
      /* The container's init is gone, so the kernel killed the rest of its pid namespace; give
       * the pipes a moment to deliver what is still buffered. */
      if (!m->exit_seen_ms)
        m->exit_seen_ms = monotonic_ms();
      else if (monotonic_ms() - m->exit_seen_ms >= 2000)
        break;
    }
    bool checking = !until_ms && !m->child_exited;
    if (checking && health_tick(&m->health, io->child))
      answer_health(m);
    struct pollfd fds[11 + MAX_CLIENTS];
    int kinds[11 + MAX_CLIENTS];
    struct poll_set set = {fds, kinds, 0};
    poll_set_add(&set, m->signal_fd, POLLIN, 0);
    if (io->out_fd >= 0)
      poll_set_add(&set, io->out_fd, POLLIN, 1);
    if (io->err_fd >= 0)
      poll_set_add(&set, io->err_fd, POLLIN, 2);
    if (io->sync_fd >= 0)
      poll_set_add(&set, io->sync_fd, POLLIN, 3);
    if (m->listen_fd >= 0 && m->client_count < MAX_CLIENTS)
      poll_set_add(&set, m->listen_fd, POLLIN, 4);
    if (m->stdin_len && io->in_fd >= 0)
      poll_set_add(&set, io->in_fd, POLLOUT, 5);
    if (m->oom_fd >= 0)
      poll_set_add(&set, m->oom_fd, POLLIN, 6);
    if (stop_watch >= 0)
      poll_set_add(&set, stop_watch, POLLIN, 7);
    if (checking && m->health.channel_fd >= 0)
      poll_set_add(&set, m->health.channel_fd, POLLIN, 8);
    if (checking && m->health.output_fd >= 0)
      poll_set_add(&set, m->health.output_fd, POLLIN, 9);
    bool take_input = m->stdin_len < 65536;
    for (size_t i = 0; i < m->client_count; i++)
      poll_set_add(&set, m->clients[i].fd, take_input ? POLLIN : 0, 100 + (int)i);
    int timeout = m->child_exited && !until_ms ? 100 : m->oom_pending_until ? 10 : -1;
    if (until_ms) {
      long long left = until_ms - monotonic_ms();
      timeout = left < 0 ? 0 : left > 1000 ? 1000 : (int)left;
    }
    int health_wait = checking ? health_wait_ms(&m->health) : -1;
    if (health_wait >= 0 && (timeout < 0 || health_wait < timeout))
      timeout = health_wait;
    int ready = poll(fds, set.count, timeout);
    if (m->oom_pending_until && (report_oom(m) || monotonic_ms() > m->oom_pending_until))
      m->oom_pending_until = 0;
    if (ready < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    /* Clients first, in reverse, so dropping one does not shift the ones still to visit. */
    for (nfds_t i = set.count; i-- > 0;) {
      if (!fds[i].revents)
        continue;
      int kind = kinds[i];
      if (kind == 0) {
        struct signalfd_siginfo info;
        while (read(m->signal_fd, &info, sizeof info) == sizeof info) {
        }
      } else if (kind == 1) {
        drain_output(m, &io->out_fd, "stdout", FRAME_STDOUT);
      } else if (kind == 2) {
        drain_output(m, &io->err_fd, "stderr", FRAME_STDERR);
      } else if (kind == 3) {
        char line[2048];
        int n = read_line(io->sync_fd, line, sizeof line);
        if (n < 0) {
          close(io->sync_fd);
          io->sync_fd = -1;
        } else if (!strncmp(line, "execerr ", 8)) {
          m->exec_error = atoi(line + 8);
          say_exec_failure(m);
        } else if (!strncmp(line, "error ", 6)) {
          snprintf(m->setup_error, sizeof m->setup_error, "%s", line + 6);
        }
      } else if (kind == 4) {
        int fd = accept4(m->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd >= 0)
          m->clients[m->client_count++] = (struct client){.fd = fd};
      } else if (kind == 5) {
        ssize_t n = write(io->in_fd, m->stdin_pending, m->stdin_len);
        if (n > 0) {
          memmove(m->stdin_pending, m->stdin_pending + n, m->stdin_len - (size_t)n);
          m->stdin_len -= (size_t)n;
          if (!m->stdin_len && m->stdin_eof)
            close_stdin(m);
        } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
          close_stdin(m);
        }
      } else if (kind == 6) {
        char events[4096];
        while (read(m->oom_fd, events, sizeof events) > 0) {
        }
        /* The notice comes as the cgroup runs out of memory, before the OOM killer has chosen and
         * counted its victim: look again for a moment until the counter moves. */
        if (!report_oom(m))
          m->oom_pending_until = monotonic_ms() + 2000;
      } else if (kind == 7) {
        char events[4096];
        while (read(stop_watch, events, sizeof events) > 0) {
        }
      } else if (kind == 8) {
        health_read_channel(&m->health);
      } else if (kind == 9) {
        health_read_output(&m->health);
      } else if (kind >= 100) {
        size_t index = (size_t)(kind - 100);
        if (index < m->client_count && !read_client(m, &m->clients[index]))
          drop_client(m, index);
      }
    }
  }
  if (stop_watch >= 0)
    close(stop_watch);
  return stopped;
}

static int exit_code_of(const struct monitor *m, int *signal_number) {
  int status = m->child_status, exit_code = 0;
  *signal_number = 0;
  if (WIFEXITED(status)) {
    exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    *signal_number = WTERMSIG(status);
    exit_code = 128 + *signal_number;
  }
  if (m->exec_error)
    exit_code = m->exec_error == ENOENT ? 127 : 126;
  return exit_code;
}

static bool in_own_pid_namespace(const struct plan *plan) {
  for (size_t i = 0; i < plan->namespace_count; i++)
    if (plan->namespaces[i].type == CLONE_NEWPID && !plan->namespaces[i].path)
      return true;
  return false;
}

/* Without a pid namespace of its own, what the run left in the container's cgroup outlives its
 * init: it goes before the next run starts, as runc's delete kills what its cgroup holds. */
static void kill_leftovers(const struct plan *plan) {
  if (in_own_pid_namespace(plan) || !plan->cgroup_procs.len)
    return;
  int fd = open(plan->cgroup_procs.items[0], O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return;
  char buf[16384];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0)
    return;
  buf[n] = '\0';
  for (char *line = buf; *line;) {
    pid_t pid = (pid_t)strtol(line, &line, 10);
    if (pid > 0)
      kill(pid, SIGKILL);
    while (*line == '\n')
      line++;
    if (pid <= 0)
      break;
  }
}

int run_monitor(struct plan *plan, struct monitor_io *io) {
  struct monitor m = {.plan = plan, .io = io, .listen_fd = -1};
  m.oom_baseline = read_counter(plan->oom_file, plan->oom_key);
  m.oom_reported = m.oom_baseline;
  watch_oom(&m);
  prepare_exit_record(&m);
  if (plan->log_path)
    log_open(&m.log, plan->log_path, plan->log_max_size, plan->log_max_files);
  m.output = xmalloc(OUTPUT_CHUNK);
  health_init(&m.health, plan);
  start_listening(&m);
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  sigprocmask(SIG_BLOCK, &mask, NULL);
  m.signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  if (m.signal_fd < 0)
    fail_errno("signalfd", NULL);
  prepare_run_io(&m);

  /* Setup is over: tell the engine, then let go of its channel and of the caller's stdio. */
  report(SYNC_FD, "created\n");
  set_error_channel(-1, "error");
  close(SYNC_FD);
  if (!plan->foreground) {
    /* The container has its own copies of any passed-through stdio; the monitor must not keep
     * the caller's pipes open after the container closes them. */
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
      dup2(null, 0);
      dup2(null, 1);
      dup2(null, 2);
      close(null);
    }
  }
  signal(SIGHUP, SIG_IGN);
  signal(SIGINT, plan->foreground ? SIG_DFL : SIG_IGN);

  health_run_started(&m.health);
  struct run_state run = {.pid = io->child};
  format_time_rfc3339(run.started_at, sizeof run.started_at);
  long long run_started_ms = monotonic_ms(), backoff_ms = 0;
  int exit_code, signal_number;
  for (;;) {
    serve(&m, 0);
    health_run_ended(&m.health);
    answer_health(&m);
    exit_code = exit_code_of(&m, &signal_number);
    end_run_io(&m);
    if (!restart_wanted(plan, run.restart_count, exit_code))
      break;
    /* Restarted by the policy: the same plan again, a fresh clone (see respawn_container), after
     * docker's back-off. Attached clients see this run's end, as docker's attach does. */
    backoff_ms = next_backoff_ms(backoff_ms, monotonic_ms() - run_started_ms);
    run.restart_count++;
    run.restarting = true;
    run.exit_code = exit_code;
    format_time_rfc3339(run.finished_at, sizeof run.finished_at);
    report_oom(&m);
    append_event(plan, "die", exit_code);
    write_run_file(plan, &run);
    char code_text[16];
    int code_len = snprintf(code_text, sizeof code_text, "%d", exit_code);
    broadcast(&m, FRAME_EXIT, code_text, (size_t)code_len);
    kill_leftovers(plan);
    if (serve(&m, monotonic_ms() + backoff_ms))
      break; /* stopped while it waited: it ends with the last run's status */
    char error[sizeof m.setup_error];
    /* The baseline is taken before the clone exists: a restarted process runs at once (no exec
     * fifo), and one killed by the OOM killer before a later read would not count as OOM-killed. */
    m.oom_baseline = read_counter(plan->oom_file, plan->oom_key);
    int spawned = respawn_container(plan, io, error, sizeof error);
    prepare_run_io(&m);
    if (spawned < 0) {
      /* The restart's setup failed (its cgroup went, the namespace it joins is gone): the
       * container ends with that error, as a failed start does. */
      snprintf(m.setup_error, sizeof m.setup_error, "%s", error);
      exit_code = 125;
      signal_number = 0;
      break;
    }
    if (spawned > 0) {
      m.exec_error = spawned;
      say_exec_failure(&m);
    }
    /* A stop asked for while the clone was being set up finds the old process gone: this one
     * ends at once, and is not restarted. */
    if (stop_requested(plan))
      kill(io->child, SIGKILL);
    run_started_ms = monotonic_ms();
    run.restarting = false;
    run.pid = io->child;
    format_time_rfc3339(run.started_at, sizeof run.started_at);
    write_run_file(plan, &run);
    append_event(plan, "start", io->child);
    health_run_started(&m.health);
  }

  bool oom = read_counter(plan->oom_file, plan->oom_key) > m.oom_baseline;
  /* A kill the notification has not delivered yet is still reported, before the exit status. */
  report_oom(&m);
  if (m.oom_fd >= 0)
    close(m.oom_fd);
  if (m.oom_control_fd >= 0)
    close(m.oom_control_fd);
  write_exit_file(&m, exit_code, signal_number, oom);
  char code_text[16];
  int code_len = snprintf(code_text, sizeof code_text, "%d", exit_code);
  broadcast(&m, FRAME_EXIT, code_text, (size_t)code_len);
  bool cleanup_owned = false;
  for (size_t i = 0; i < m.client_count; i++)
    if (m.clients[i].owns_cleanup)
      cleanup_owned = true;
  while (m.client_count)
    drop_client(&m, 0);
  if (m.listen_fd >= 0 && plan->attach_path)
    unlink(plan->attach_path);
  if (m.log.buffer)
    log_close(&m.log);
  free(m.output);
  if (!cleanup_owned)
    run_exit_command(plan);
  return exit_code;
}
