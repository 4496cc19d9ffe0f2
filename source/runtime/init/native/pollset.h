/*
 * A poll set that an event loop rebuilds on every turn (exec.c's relay, monitor.c's main loop):
 * each fd is added with a kind, which the loop switches on once poll says the fd is ready.
 */
#ifndef GANTRY_POLLSET_H
#define GANTRY_POLLSET_H

#include <poll.h>

struct poll_set {
  struct pollfd *fds;
  int *kinds; /* kinds[i] says what fds[i] is */
  nfds_t count;
};

/* Adds `fd`, waited on for `events`, as `kind`; the caller's arrays have room for every fd it adds. */
static inline void poll_set_add(struct poll_set *set, int fd, short events, int kind) {
  set->fds[set->count] = (struct pollfd){.fd = fd, .events = events};
  set->kinds[set->count++] = kind;
}

#endif
