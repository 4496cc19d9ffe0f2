/* Health checks run by the monitor (health.c): the state of the checks of one container. */
#ifndef GANTRY_HEALTH_H
#define GANTRY_HEALTH_H

#include "helper.h"

/* docker keeps the last five probes and the first 4096 bytes of each one's output. */
#define HEALTH_LOG_ENTRIES 5
#define HEALTH_OUTPUT_MAX 4096

struct health_result {
  char start[64], end[64];
  int exit_code;
  char output[HEALTH_OUTPUT_MAX + 1];
  size_t output_len;
};

struct health {
  const struct plan *plan;
  bool enabled; /* the container has a health check */
  bool active;  /* its process runs: checks are due */
  bool requested; /* `healthcheck run` asked for one now */
  char *exec_plan;
  size_t exec_plan_len;
  char status[16]; /* starting, healthy, unhealthy */
  unsigned failing_streak;
  struct health_result log[HEALTH_LOG_ENTRIES];
  size_t log_len;
  long long run_started_ms, next_ms;
  /* the check in progress (relay < 0: none) */
  pid_t relay, process;
  int channel_fd, output_fd;
  long long start_ms, deadline_ms;
  bool timed_out, relay_done;
  int relay_status, exec_errno;
  char start[64];
  char output[HEALTH_OUTPUT_MAX];
  size_t output_len;
  char channel[2048];
  size_t channel_len;
  char error[1024];
};

void health_init(struct health *h, const struct plan *plan);
/* A run of the container began (status "starting") or ended (a check in progress goes). */
void health_run_started(struct health *h);
void health_run_ended(struct health *h);
/* Starts a check that is due, ends one past its timeout, records one that finished; true when a
 * result was recorded (clients waiting for `healthcheck run` get h->status). */
bool health_tick(struct health *h, pid_t container);
/* ms until health_tick has something to do; -1: nothing. */
int health_wait_ms(const struct health *h);
bool health_reaped(struct health *h, pid_t pid, int status);
void health_read_output(struct health *h);
void health_read_channel(struct health *h);

#endif
