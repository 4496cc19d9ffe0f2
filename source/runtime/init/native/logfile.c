/* The container's log file, as the monitor writes it: CRI records ("<time> <stream> <F|P> <text>")
 * framed from whatever the container wrote, batched so that a read of many short lines costs one
 * write, and rotated by size (docker's max-size / max-file): the current file plus NAME.1 (newest)
 * to NAME.<max_files-1> (oldest), no file ever larger than max_size. */
#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

/* Output is gathered up to this much before it is written. */
#define LOG_BUFFER (256 * 1024)

static int open_current(const char *path) {
  return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

void log_open(struct log_file *log, const char *path, uint64_t max_size, unsigned max_files) {
  *log = (struct log_file){.fd = -1, .path = path, .max_size = max_size, .max_files = max_files ? max_files : 1};
  log->fd = open_current(path);
  if (log->fd < 0)
    fail_errno("open log", path);
  struct stat st;
  if (fstat(log->fd, &st) == 0)
    log->size = (uint64_t)st.st_size;
  log->buffer = xmalloc(LOG_BUFFER);
}

/* Writes `len` bytes at the end of the file. On a failure (a full disk) the file is cut back to
 * where it was, so a reader never meets half a record; the output is lost, the container goes on. */
static void write_out(struct log_file *log, const struct iovec *parts, int count) {
  if (log->fd < 0 && (log->fd = open_current(log->path)) < 0)
    return;
  size_t total = 0;
  for (int i = 0; i < count; i++)
    total += parts[i].iov_len;
  struct iovec local[3];
  memcpy(local, parts, (size_t)count * sizeof *parts);
  struct iovec *rest = local;
  size_t done = 0;
  while (done < total) {
    ssize_t n = writev(log->fd, rest, count);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      if (ftruncate(log->fd, (off_t)log->size) < 0) {
        /* nothing more to do: the next write starts where the kernel says the end is */
      }
      struct stat st;
      if (fstat(log->fd, &st) == 0)
        log->size = (uint64_t)st.st_size;
      return;
    }
    done += (size_t)n;
    while (n > 0 && (size_t)n >= rest->iov_len) {
      n -= (ssize_t)rest->iov_len;
      rest++;
      count--;
    }
    if (n > 0) {
      rest->iov_base = (char *)rest->iov_base + n;
      rest->iov_len -= (size_t)n;
    }
  }
  log->size += total;
}

void log_flush(struct log_file *log) {
  if (!log->len)
    return;
  struct iovec part = {.iov_base = log->buffer, .iov_len = log->len};
  log->len = 0;
  write_out(log, &part, 1);
}

/* The current file becomes NAME.1, NAME.1 becomes NAME.2 and so on; the oldest is replaced. The
 * current name always exists: it is linked to NAME.1 first, then a new empty file is renamed over
 * it, so a reader never finds it missing (for a moment both names are one file; readers skip a
 * file they have already seen by its inode). */
static void rotate(struct log_file *log) {
  log_flush(log);
  if (log->max_files <= 1) {
    if (log->fd >= 0 && ftruncate(log->fd, 0) == 0)
      log->size = 0;
    return;
  }
  char from[PATH_MAX], to[PATH_MAX], fresh[PATH_MAX];
  for (unsigned i = log->max_files - 1; i >= 2; i--) {
    snprintf(from, sizeof from, "%s.%u", log->path, i - 1);
    snprintf(to, sizeof to, "%s.%u", log->path, i);
    rename(from, to);
  }
  snprintf(to, sizeof to, "%s.1", log->path);
  unlink(to);
  snprintf(fresh, sizeof fresh, "%s.new", log->path);
  int fd = open(fresh, O_WRONLY | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0)
    return; /* no room for a new file: keep writing to this one, cut back on failure */
  if (link(log->path, to) < 0 && errno != ENOENT) {
    close(fd);
    unlink(fresh);
    return;
  }
  if (rename(fresh, log->path) < 0) {
    close(fd);
    unlink(fresh);
    return;
  }
  if (log->fd >= 0)
    close(log->fd);
  log->fd = fd;
  log->size = 0;
}

/* One record: prefix, text, newline. Rotates first if the record would not fit in the file. */
static void add_record(struct log_file *log, const char *prefix, size_t prefix_len, const char *text,
                       size_t text_len) {
  size_t record_len = prefix_len + text_len + 1;
  if (log->max_size && log->size + log->len + record_len > log->max_size)
    rotate(log);
  if (log->len + record_len > LOG_BUFFER)
    log_flush(log);
  if (record_len > LOG_BUFFER) {
    struct iovec parts[3] = {{(void *)prefix, prefix_len}, {(void *)text, text_len}, {"\n", 1}};
    write_out(log, parts, 3);
    return;
  }
  memcpy(log->buffer + log->len, prefix, prefix_len);
  memcpy(log->buffer + log->len + prefix_len, text, text_len);
  log->buffer[log->len + prefix_len + text_len] = '\n';
  log->len += record_len;
}

void log_append(struct log_file *log, const char *stream, const char *data, size_t len) {
  char stamp[64], full[128], partial[128];
  format_time_rfc3339(stamp, sizeof stamp);
  int full_len = snprintf(full, sizeof full, "%s %s F ", stamp, stream);
  int partial_len = snprintf(partial, sizeof partial, "%s %s P ", stamp, stream);
  /* A line longer than a file can hold goes out as partial records the reader joins again. */
  size_t room = log->max_size > (uint64_t)partial_len + 1 ? (size_t)(log->max_size - (uint64_t)partial_len - 1)
                                                          : SIZE_MAX;
  size_t start = 0;
  while (start < len) {
    const char *newline = memchr(data + start, '\n', len - start);
    size_t end = newline ? (size_t)(newline - data) : len;
    while (end - start > room) {
      add_record(log, partial, (size_t)partial_len, data + start, room);
      start += room;
    }
    if (newline)
      add_record(log, full, (size_t)full_len, data + start, end - start);
    else
      add_record(log, partial, (size_t)partial_len, data + start, end - start);
    start = newline ? end + 1 : len;
  }
}

void log_close(struct log_file *log) {
  log_flush(log);
  if (log->fd >= 0)
    close(log->fd);
  log->fd = -1;
  free(log->buffer);
  log->buffer = NULL;
}
