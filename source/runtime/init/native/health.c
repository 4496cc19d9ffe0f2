/* Health checks (docker's HEALTHCHECK), run by the container's monitor itself: no daemon and no
 * resident Node process. Each check is an exec through the same hardened path as `gantry exec`
 * (this helper re-executed in exec mode, from a sealed copy, with an empty environment), with the
 * plan the engine wrote at start; only the container's pid, which changes with each restart, is
 * filled in here. The result is kept as docker keeps it (status, failing streak, the last five
 * probes) in the health file, and a change of status is appended to the events file. */
#include "health.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Where the engine's exec plan names the container's process (see health-plan.ts). */
#define PID_PLACEHOLDER "/proc/0/"

static long long now_ms(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

void health_init(struct health *h, const struct plan *plan) {
  memset(h, 0, sizeof *h);
  h->relay = h->process = -1;
  h->channel_fd = h->output_fd = -1;
  snprintf(h->status, sizeof h->status, "starting");
  if (!plan->health_plan || !plan->health_file)
    return;
  int fd = open(plan->health_plan, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return;
  size_t cap = 65536, len = 0;
  char *text = xmalloc(cap);
  for (;;) {
    if (len == cap) {
      cap *= 2;
      text = xrealloc(text, cap);
    }
    ssize_t n = read(fd, text + len, cap - len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    len += (size_t)n;
  }
  close(fd);
  h->plan = plan;
  h->exec_plan = text;
  h->exec_plan_len = len;
  h->enabled = true;
}

/* JSON string contents: quotes, backslashes and control characters escaped. */
static size_t json_escape(const char *in, size_t in_len, char *out, size_t cap) {
  size_t o = 0;
  for (size_t i = 0; i < in_len && o + 7 < cap; i++) {
    unsigned char c = (unsigned char)in[i];
    if (c == '"' || c == '\\') {
      out[o++] = '\\';
      out[o++] = (char)c;
    } else if (c == '\n') {
      out[o++] = '\\';
      out[o++] = 'n';
    } else if (c < 0x20 || c == 0x7f) {
      o += (size_t)snprintf(out + o, cap - o, "\\u%04x", c);
    } else {
      out[o++] = (char)c;
    }
  }
  out[o] = '\0';
  return o;
}

static void write_health_file(const struct health *h) {
  size_t cap = 16384 + HEALTH_LOG_ENTRIES * (HEALTH_OUTPUT_MAX * 6 + 256);
  char *json = xmalloc(cap), *escaped = xmalloc(HEALTH_OUTPUT_MAX * 6 + 8);
  size_t len = (size_t)snprintf(json, cap, "{\"Status\":\"%s\",\"FailingStreak\":%u,\"Log\":[", h->status,
                                h->failing_streak);
  for (size_t i = 0; i < h->log_len; i++) {
    const struct health_result *r = &h->log[i];
    json_escape(r->output, r->output_len, escaped, HEALTH_OUTPUT_MAX * 6 + 8);
    len += (size_t)snprintf(json + len, cap - len,
                            "%s{\"Start\":\"%s\",\"End\":\"%s\",\"ExitCode\":%d,\"Output\":\"%s\"}", i ? "," : "",
                            r->start, r->end, r->exit_code, escaped);
  }
  len += (size_t)snprintf(json + len, cap - len, "]}\n");
  char temp[4096];
  snprintf(temp, sizeof temp, "%s.tmp", h->plan->health_file);
  int fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd >= 0) {
    bool written = write_all(fd, json, len) == (ssize_t)len;
    close(fd);
    if (written)
      rename(temp, h->plan->health_file);
    else
      unlink(temp);
  }
  free(escaped);
  free(json);
}

/* docker's event for a change: "health_status: healthy". */
static void append_health_event(const struct health *h) {
  if (!h->plan->events_file)
    return;
  char stamp[64], text[128];
  format_time_rfc3339(stamp, sizeof stamp);
  int len = snprintf(text, sizeof text, "%s health_status %s\n", stamp, h->status);
  int fd = open(h->plan->events_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return;
  write_all(fd, text, (size_t)len);
  close(fd);
}

void health_run_started(struct health *h) {
  if (!h->enabled)
    return;
  h->active = true;
  h->run_started_ms = now_ms();
  h->next_ms = h->run_started_ms + (long long)h->plan->health_interval_ms;
  h->failing_streak = 0;
  bool changed = strcmp(h->status, "starting") != 0;
  snprintf(h->status, sizeof h->status, "starting");
  write_health_file(h);
  if (changed)
    append_health_event(h);
}

/* Go's time.Duration text for whole milliseconds ("500ms", "30s", "1m30s", "1.5s"), as docker
 * prints the timeout. */
static void go_duration(long long ms, char *out, size_t cap) {
  if (ms < 1000) {
    snprintf(out, cap, "%lldms", ms);
    return;
  }
  long long hours = ms / 3600000, minutes = ms / 60000 % 60, seconds = ms / 1000 % 60, millis = ms % 1000;
  char secs[32];
  if (millis) {
    snprintf(secs, sizeof secs, "%lld.%03lld", seconds, millis);
    size_t end = strlen(secs);
    while (secs[end - 1] == '0')
      secs[--end] = '\0';
  } else {
    snprintf(secs, sizeof secs, "%lld", seconds);
  }
  if (hours)
    snprintf(out, cap, "%lldh%lldm%ss", hours, minutes, secs);
  else if (minutes)
    snprintf(out, cap, "%lldm%ss", minutes, secs);
  else
    snprintf(out, cap, "%ss", secs);
}

static char *plan_for(const struct health *h, pid_t container, size_t *len) {
  char pid_path[32];
  int pid_len = snprintf(pid_path, sizeof pid_path, "/proc/%d/", (int)container);
  size_t placeholder_len = strlen(PID_PLACEHOLDER), count = 0;
  for (const char *p = h->exec_plan; (p = memmem(p, h->exec_plan_len - (size_t)(p - h->exec_plan), PID_PLACEHOLDER,
                                                 placeholder_len));
       p += placeholder_len)
    count++;
  char *text = xmalloc(h->exec_plan_len + count * (size_t)pid_len + 1);
  size_t out = 0;
  for (size_t i = 0; i < h->exec_plan_len;) {
    if (h->exec_plan_len - i >= placeholder_len && !memcmp(h->exec_plan + i, PID_PLACEHOLDER, placeholder_len)) {
      memcpy(text + out, pid_path, (size_t)pid_len);
      out += (size_t)pid_len;
      i += placeholder_len;
    } else {
      text[out++] = h->exec_plan[i++];
    }
  }
  *len = out;
  return text;
}

static void start_check(struct health *h, pid_t container) {
  int sv[2], out[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    return;
  if (pipe2(out, O_CLOEXEC) < 0) {
    close(sv[0]);
    close(sv[1]);
    return;
  }
  h->start_ms = now_ms();
  format_time_rfc3339(h->start, sizeof h->start);
  h->output_len = 0;
  h->channel_len = 0;
  h->error[0] = '\0';
  h->exec_errno = 0;
  h->timed_out = h->relay_done = false;
  h->process = -1;
  pid_t relay = fork();
  if (relay < 0) {
    close(sv[0]);
    close(sv[1]);
    close(out[0]);
    close(out[1]);
    return;
  }
  if (relay == 0) {
    /* The relay: stdout and stderr both into the probe's output, as docker combines them. */
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null < 0 || dup2(null, 0) < 0 || dup2(out[1], 1) < 0 || dup2(out[1], 2) < 0 || dup2(sv[1], SYNC_FD) < 0)
      _exit(125);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    char *argv[] = {"gantry-init", "exec", NULL};
    char *env[] = {NULL};
    execve("/proc/self/exe", argv, env);
    _exit(127);
  }
  close(sv[1]);
  close(out[1]);
  size_t len;
  char *text = plan_for(h, container, &len);
  bool sent = write_all(sv[0], text, len) == (ssize_t)len;
  free(text);
  h->relay = relay;
  h->channel_fd = sv[0];
  h->output_fd = out[0];
  set_nonblock(h->channel_fd, true);
  set_nonblock(h->output_fd, true);
  h->deadline_ms = h->start_ms + (long long)h->plan->health_timeout_ms;
  if (!sent)
    kill(relay, SIGKILL);
}

static void close_fd(int *fd) {
  if (*fd >= 0)
    close(*fd);
  *fd = -1;
}

void health_read_output(struct health *h) {
  char buf[4096];
  for (;;) {
    ssize_t n = read(h->output_fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno == EAGAIN)
      return;
    if (n <= 0) {
      close_fd(&h->output_fd);
      return;
    }
    /* docker keeps the first 4096 bytes of a probe's output. */
    size_t take = (size_t)n;
    if (take > HEALTH_OUTPUT_MAX - h->output_len)
      take = HEALTH_OUTPUT_MAX - h->output_len;
    memcpy(h->output + h->output_len, buf, take);
    h->output_len += take;
  }
}

static void percent_decode(char *text) {
  char *out = text;
  for (char *in = text; *in; in++) {
    unsigned hi, lo;
    if (in[0] == '%' && in[1] && in[2] && sscanf(in + 1, "%1x%1x", &hi, &lo) == 2) {
      *out++ = (char)(hi * 16 + lo);
      in += 2;
    } else {
      *out++ = *in;
    }
  }
  *out = '\0';
}

void health_read_channel(struct health *h) {
  for (;;) {
    ssize_t n = read(h->channel_fd, h->channel + h->channel_len, sizeof h->channel - 1 - h->channel_len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno == EAGAIN)
      return;
    if (n <= 0) {
      close_fd(&h->channel_fd);
      return;
    }
    h->channel_len += (size_t)n;
    h->channel[h->channel_len] = '\0';
    char *newline;
    while ((newline = strchr(h->channel, '\n'))) {
      *newline = '\0';
      if (!strncmp(h->channel, "pid ", 4))
        h->process = (pid_t)atoi(h->channel + 4);
      else if (!strncmp(h->channel, "execerr ", 8))
        h->exec_errno = atoi(h->channel + 8);
      else if (!strncmp(h->channel, "error ", 6)) {
        snprintf(h->error, sizeof h->error, "%s", h->channel + 6);
        percent_decode(h->error);
      }
      size_t used = (size_t)(newline - h->channel) + 1;
      memmove(h->channel, newline + 1, h->channel_len - used + 1);
      h->channel_len -= used;
    }
    if (h->channel_len == sizeof h->channel - 1)
      h->channel_len = 0; /* a line longer than any the relay writes: drop it */
  }
}

bool health_reaped(struct health *h, pid_t pid, int status) {
  if (h->relay < 0 || pid != h->relay)
    return false;
  h->relay_done = true;
  h->relay_status = status;
  return true;
}

/* docker's handleProbeResult: a success makes it healthy; a failure counts toward unhealthy
 * unless it came within the start period while the container never was healthy. */
static void record_result(struct health *h, int exit_code) {
  struct health_result r = {.exit_code = exit_code};
  snprintf(r.start, sizeof r.start, "%s", h->start);
  format_time_rfc3339(r.end, sizeof r.end);
  if (h->timed_out) {
    char duration[64];
    go_duration((long long)h->plan->health_timeout_ms, duration, sizeof duration);
    r.output_len = (size_t)snprintf(r.output, sizeof r.output, "Health check exceeded timeout (%s)", duration);
  } else if (h->exec_errno || h->error[0]) {
    const char *program = h->plan->health_program ? h->plan->health_program : "";
    r.output_len = (size_t)snprintf(r.output, sizeof r.output, "exec %s: %s", program,
                                    h->exec_errno ? strerror(h->exec_errno) : h->error);
  } else {
    memcpy(r.output, h->output, h->output_len);
    r.output_len = h->output_len;
  }
  if (r.output_len > HEALTH_OUTPUT_MAX)
    r.output_len = HEALTH_OUTPUT_MAX;
  if (h->log_len == HEALTH_LOG_ENTRIES) {
    memmove(h->log, h->log + 1, sizeof h->log[0] * (HEALTH_LOG_ENTRIES - 1));
    h->log_len--;
  }
  h->log[h->log_len++] = r;
  char before[16];
  snprintf(before, sizeof before, "%s", h->status);
  if (exit_code == 0) {
    h->failing_streak = 0;
    snprintf(h->status, sizeof h->status, "healthy");
  } else {
    bool counts = true;
    if (!strcmp(h->status, "starting") &&
        h->start_ms - h->run_started_ms < (long long)h->plan->health_start_period_ms)
      counts = false;
    if (counts) {
      h->failing_streak++;
      if (h->failing_streak >= h->plan->health_retries)
        snprintf(h->status, sizeof h->status, "unhealthy");
    }
  }
  write_health_file(h);
  if (strcmp(before, h->status))
    append_health_event(h);
}

static int probe_exit_code(const struct health *h) {
  if (h->timed_out)
    return -1;
  int status = h->relay_status;
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  if (WIFSIGNALED(status))
    return 128 + WTERMSIG(status);
  return -1;
}

bool health_tick(struct health *h, pid_t container) {
  if (!h->enabled)
    return false;
  long long now = now_ms();
  if (h->relay >= 0) {
    if (!h->relay_done && !h->timed_out && now >= h->deadline_ms) {
      /* The probe's process by its host pid: the relay passes on only its parent's signals, and
       * the monitor is its parent, but a relay killed first would leave the process behind. */
      h->timed_out = true;
      if (h->process > 0)
        kill(h->process, SIGKILL);
      kill(h->relay, SIGKILL);
    }
    if (!h->relay_done)
      return false;
    if (h->output_fd >= 0)
      health_read_output(h);
    if (h->channel_fd >= 0)
      health_read_channel(h);
    if (h->output_fd >= 0 && !h->timed_out)
      return false; /* what the relay wrote last is still on its way */
    close_fd(&h->output_fd);
    close_fd(&h->channel_fd);
    h->relay = -1;
    if (h->active)
      record_result(h, probe_exit_code(h));
    h->next_ms = now_ms() + (long long)h->plan->health_interval_ms;
    h->requested = false;
    return true;
  }
  if (h->active && (h->requested || now >= h->next_ms))
    start_check(h, container);
  return false;
}

int health_wait_ms(const struct health *h) {
  if (!h->enabled || !h->active)
    return -1;
  long long target = h->relay >= 0 ? (h->relay_done ? now_ms() + 10 : h->deadline_ms) : h->next_ms;
  long long left = target - now_ms();
  return left < 0 ? 0 : left > 60000 ? 60000 : (int)left;
}

void health_run_ended(struct health *h) {
  h->active = false;
  if (h->relay < 0)
    return;
  if (!h->relay_done) {
    if (h->process > 0)
      kill(h->process, SIGKILL);
    kill(h->relay, SIGKILL);
    while (waitpid(h->relay, NULL, 0) < 0 && errno == EINTR) {
    }
  }
  close_fd(&h->output_fd);
  close_fd(&h->channel_fd);
  h->relay = -1;
  h->requested = false;
}
