/* Restart policies, as docker's restart manager applies them, run by the monitor itself (no
 * daemon): whether a run that ended is followed by another, after which delay, and the run file
 * that tells the engine how the runs go (pid, restart count, restarting or not). */
#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* docker's restart manager: 100 ms, doubled after every restart up to a minute, back to 100 ms
 * after a run of 10 s or more. */
#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS (60 * 1000)
#define BACKOFF_RESET_AFTER_MS (10 * 1000)

bool stop_requested(const struct plan *plan) {
  return plan->stop_file && access(plan->stop_file, F_OK) == 0;
}

bool restart_wanted(const struct plan *plan, unsigned restarts_so_far, int exit_code) {
  if (plan->restart_policy == RESTART_NO || stop_requested(plan))
    return false;
  if (plan->restart_policy == RESTART_ON_FAILURE)
    return exit_code != 0 && (plan->restart_max == 0 || restarts_so_far < plan->restart_max);
  return true; /* always, unless-stopped: a stop was the only reason not to */
}

long long next_backoff_ms(long long previous_ms, long long run_ms) {
  if (run_ms >= BACKOFF_RESET_AFTER_MS || previous_ms <= 0)
    return BACKOFF_FIRST_MS;
  long long next = previous_ms * 2;
  return next > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : next;
}

/* Field 22 of /proc/PID/stat: the start time in clock ticks, which with the pid names the
 * process for good (the engine's ProcessIdentity). 0 when it cannot be read. */
static unsigned long long start_time_of(pid_t pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0)
    return 0;
  buf[n] = '\0';
  char *p = strrchr(buf, ')');
  if (!p)
    return 0;
  p += 2; /* field 3 */
  for (int field = 3; field < 22 && p; field++) {
    p = strchr(p, ' ');
    if (p)
      p++;
  }
  return p ? strtoull(p, NULL, 10) : 0;
}

void write_run_file(const struct plan *plan, const struct run_state *run) {
  if (!plan->run_file)
    return;
  char json[1024], temp[4096];
  int len = snprintf(json, sizeof json,
                     "{\"restartCount\":%u,\"restarting\":%s,\"pid\":%d,\"startTime\":%llu,\"startedAt\":\"%s\","
                     "\"exitCode\":%d,\"finishedAt\":\"%s\"}\n",
                     run->restart_count, run->restarting ? "true" : "false", run->restarting ? 0 : (int)run->pid,
                     run->restarting ? 0ULL : start_time_of(run->pid), run->started_at, run->exit_code,
                     run->finished_at);
  snprintf(temp, sizeof temp, "%s.tmp", plan->run_file);
  int fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return;
  write_all(fd, json, (size_t)len);
  fsync(fd);
  close(fd);
  rename(temp, plan->run_file);
}

void append_event(const struct plan *plan, const char *action, long long value) {
  if (!plan->events_file)
    return;
  char stamp[64], text[128];
  format_time_rfc3339(stamp, sizeof stamp);
  int len = snprintf(text, sizeof text, "%s %s %lld\n", stamp, action, value);
  int fd = open(plan->events_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return;
  write_all(fd, text, (size_t)len);
  close(fd);
}
