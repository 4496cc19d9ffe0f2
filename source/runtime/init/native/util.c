/* Small utilities: error reporting, I/O loops, fd passing, field encoding. */
#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/syscall.h>

static int error_fd = -1;
static const char *error_prefix = "error";

void set_error_channel(int fd, const char *prefix) {
  error_fd = fd;
  error_prefix = prefix;
}

static jmp_buf *die_jump;
static pid_t die_jump_pid;
static char *die_message;
static size_t die_message_cap;

void catch_die(jmp_buf *jump, char *message, size_t cap) {
  die_jump = jump;
  die_jump_pid = getpid();
  die_message = message;
  die_message_cap = cap;
}

/* Messages on the sync channel are one line: "<prefix> <encoded text>". */
void die(const char *fmt, ...) {
  char message[2048], encoded[6144];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(message, sizeof message, fmt, ap);
  va_end(ap);
  /* Only in the process that armed it: a child cloned meanwhile has a copy of the jump buffer
   * but none of the frames it points into. */
  if (die_jump && getpid() == die_jump_pid) {
    jmp_buf *jump = die_jump;
    die_jump = NULL;
    snprintf(die_message, die_message_cap, "%s", message);
    longjmp(*jump, 1);
  }
  if (error_fd >= 0) {
    encode_field(message, encoded, sizeof encoded);
    report(error_fd, "%s %s\n", error_prefix, encoded);
  } else {
    fprintf(stderr, "gantry-init: %s\n", message);
  }
  _exit(125);
}

void fail_errno(const char *what, const char *path) {
  int err = errno;
  if (path)
    die("%s `%s`: %s (%s)", what, path, errno_name(err), strerror(err));
  die("%s: %s (%s)", what, errno_name(err), strerror(err));
}

bool report(int fd, const char *fmt, ...) {
  char line[8192];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (n < 0)
    return false;
  if ((size_t)n >= sizeof line)
    n = sizeof line - 1;
  return write_all(fd, line, (size_t)n) >= 0;
}

void *xmalloc(size_t size) {
  void *p = calloc(1, size ? size : 1);
  if (!p)
    die("out of memory");
  return p;
}

void *xrealloc(void *p, size_t size) {
  void *q = realloc(p, size);
  if (!q)
    die("out of memory");
  return q;
}

char *xstrdup(const char *s) {
  char *p = strdup(s);
  if (!p)
    die("out of memory");
  return p;
}

void list_push(struct str_list *list, char *item) {
  if (list->len + 2 > list->cap) {
    list->cap = list->cap ? list->cap * 2 : 8;
    list->items = xrealloc(list->items, list->cap * sizeof(char *));
  }
  list->items[list->len++] = item;
  list->items[list->len] = NULL;
}

ssize_t write_all(int fd, const void *buf, size_t len) {
  const char *p = buf;
  size_t done = 0;
  while (done < len) {
    ssize_t n = write(fd, p + done, len - done);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN) {
        /* A non-blocking peer is slow; a short sleep keeps the loop simple and correct. */
        usleep(1000);
        continue;
      }
      return -1;
    }
    done += (size_t)n;
  }
  return (ssize_t)done;
}

ssize_t read_full(int fd, void *buf, size_t len) {
  char *p = buf;
  size_t done = 0;
  while (done < len) {
    ssize_t n = read(fd, p + done, len - done);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    if (n == 0)
      break;
    done += (size_t)n;
  }
  return (ssize_t)done;
}

/* Reads one '\n'-terminated line byte by byte (the sync channel is tiny and must not over-read). */
int read_line(int fd, char *buf, size_t cap) {
  size_t len = 0;
  while (len + 1 < cap) {
    char c;
    ssize_t n = read(fd, &c, 1);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    if (n == 0)
      return len ? (int)len : -1;
    if (c == '\n')
      break;
    buf[len++] = c;
  }
  buf[len] = '\0';
  return (int)len;
}

bool write_file(const char *path, const char *content) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  size_t len = strlen(content);
  ssize_t n = write(fd, content, len);
  int saved = errno;
  close(fd);
  errno = saved;
  return n == (ssize_t)len;
}

/* A write into procfs that cannot be redirected: the last component is not followed, and the
 * file opened must be on a procfs (a mount or symlink the container placed over a /proc path
 * would send the value elsewhere: CVE-2025-52881). */
bool write_proc_file(const char *path, const char *content) {
  int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return false;
  struct statfs fs;
  if (fstatfs(fd, &fs) < 0 || fs.f_type != PROC_SUPER_MAGIC) {
    close(fd);
    errno = EXDEV;
    return false;
  }
  size_t len = strlen(content);
  ssize_t n = write(fd, content, len);
  int saved = errno;
  close(fd);
  errno = saved;
  return n == (ssize_t)len;
}

/* Percent-encodes bytes that would break the line format (the inverse of plan.c's decoder). */
void encode_field(const char *in, char *out, size_t cap) {
  static const char hex[] = "0123456789ABCDEF";
  size_t o = 0;
  for (const unsigned char *p = (const unsigned char *)in; *p && o + 4 < cap; p++) {
    if (*p <= 0x20 || *p == '%' || *p == 0x7f || *p == '"' || *p == '\\') {
      out[o++] = '%';
      out[o++] = hex[*p >> 4];
      out[o++] = hex[*p & 15];
    } else {
      out[o++] = (char)*p;
    }
  }
  if (o == 0 && cap > 1)
    out[o++] = '%';
  out[o] = '\0';
}

void format_time_rfc3339(char *out, size_t cap) {
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
           tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec);
}

/* What a filesystem context said about a refused option or mount (the fs fd's log, "e overlay: ..."),
 * its first line, for a message; empty when it said nothing. */
const char *fs_context_log(int fs, char *buffer, size_t size) {
  ssize_t n = read(fs, buffer, size - 1);
  buffer[n > 0 ? n : 0] = '\0';
  if (n > 0 && buffer[n - 1] == '\n')
    buffer[n - 1] = '\0';
  return buffer;
}

const char *errno_name(int err) {
  switch (err) {
#define E(x)                                                                                                  \
  case x:                                                                                                     \
    return #x;
    E(EPERM) E(ENOENT) E(ESRCH) E(EINTR) E(EIO) E(ENXIO) E(E2BIG) E(ENOEXEC) E(EBADF) E(ECHILD) E(EAGAIN)
    E(ENOMEM) E(EACCES) E(EFAULT) E(EBUSY) E(EEXIST) E(EXDEV) E(ENODEV) E(ENOTDIR) E(EISDIR) E(EINVAL)
    E(ENFILE) E(EMFILE) E(ENOTTY) E(ETXTBSY) E(EFBIG) E(ENOSPC) E(ESPIPE) E(EROFS) E(EMLINK) E(EPIPE)
    E(ENAMETOOLONG) E(ENOSYS) E(ENOTEMPTY) E(ELOOP) E(ENOTSUP) E(EOVERFLOW) E(ECONNREFUSED) E(ETIMEDOUT)
    E(EUSERS) E(ENOTSOCK) E(EADDRINUSE) E(ENOTCONN) E(ECANCELED)
#undef E
  default:
    return "EUNKNOWN";
  }
}

int send_fd(int sock, int fd) {
  char byte = 'F';
  struct iovec iov = {.iov_base = &byte, .iov_len = 1};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } control;
  memset(&control, 0, sizeof control);
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                       .msg_controllen = sizeof control.buf};
  struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
  ssize_t n;
  do
    n = sendmsg(sock, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return n == 1 ? 0 : -1;
}

int recv_fd(int sock) {
  char byte;
  struct iovec iov = {.iov_base = &byte, .iov_len = 1};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } control;
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                       .msg_controllen = sizeof control.buf};
  ssize_t n;
  do
    n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n != 1)
    return -1;
  struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
  if (!cmsg || cmsg->cmsg_type != SCM_RIGHTS)
    return -1;
  int fd;
  memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
  return fd;
}

int write_frame(int fd, int type, const void *data, uint32_t len) {
  unsigned char header[5] = {(unsigned char)type, (unsigned char)(len >> 24), (unsigned char)(len >> 16),
                             (unsigned char)(len >> 8), (unsigned char)len};
  if (write_all(fd, header, 5) < 0)
    return -1;
  if (len && write_all(fd, data, len) < 0)
    return -1;
  return 0;
}

void set_cloexec(int fd, bool on) {
  int flags = fcntl(fd, F_GETFD);
  if (flags >= 0)
    fcntl(fd, F_SETFD, on ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC);
}

void set_nonblock(int fd, bool on) {
  int flags = fcntl(fd, F_GETFL);
  if (flags >= 0)
    fcntl(fd, F_SETFL, on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK);
}

/* Closes (or, with cloexec, marks close-on-exec) every descriptor from `low` up: a process must
 * not hand descriptors it inherited by accident to the container (runc does the same). */
void close_descriptors_from(int low, bool cloexec) {
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
  if (syscall(SYS_close_range, (unsigned)low, ~0U, cloexec ? CLOSE_RANGE_CLOEXEC : 0U) == 0)
    return;
  DIR *dir = opendir("/proc/self/fd");
  if (!dir)
    return;
  int self = dirfd(dir);
  for (struct dirent *entry; (entry = readdir(dir));) {
    int fd = atoi(entry->d_name);
    if (entry->d_name[0] == '.' || fd < low || fd == self)
      continue;
    if (cloexec)
      set_cloexec(fd, true);
    else
      close(fd);
  }
  closedir(dir);
}

/* mkdir -p with mode 0755 for an absolute path; -1 with errno on failure. */
int make_directories(const char *path) {
  char buffer[4096];
  if (path[0] != '/') {
    errno = ENOENT;
    return -1;
  }
  if (strlen(path) >= sizeof buffer) {
    errno = ENAMETOOLONG;
    return -1;
  }
  strcpy(buffer, path);
  for (char *slash = strchr(buffer + 1, '/');; slash = strchr(slash + 1, '/')) {
    if (slash)
      *slash = 0;
    if (mkdir(buffer, 0755) < 0 && errno != EEXIST)
      return -1;
    if (!slash)
      return 0;
    *slash = '/';
  }
}
