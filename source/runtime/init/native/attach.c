/* `gantry attach` / attached `run` and `start -a`: connect our stdio to a monitor's attach
 * socket. Output frames go to stdout/stderr; stdin, window size and (without a tty) signals go
 * to the container. Ctrl-P Ctrl-Q detaches, as in docker. Exits with the container's status.
 * `sized`: our stdio are pipes (a remote client's relay), so the window size cannot be read from
 * them; the engine sends "size ROWS COLS" lines on its channel (fd 3) instead. */
#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

static struct termios saved;
static bool raw_mode;

static void restore(void) {
  if (raw_mode)
    tcsetattr(0, TCSADRAIN, &saved);
  raw_mode = false;
}

static void send_size(int sock) {
  struct winsize size;
  if (ioctl(0, TIOCGWINSZ, &size) == 0 || ioctl(1, TIOCGWINSZ, &size) == 0) {
    char text[32];
    int len = snprintf(text, sizeof text, "%u %u", size.ws_row, size.ws_col);
    write_frame(sock, FRAME_RESIZE, text, (uint32_t)len);
  }
}

/* Passes on the sizes the engine writes on its channel; false once the channel is closed. */
static bool relay_sizes(int control, int sock, char *line, size_t *len, size_t cap) {
  ssize_t n = read(control, line + *len, cap - *len - 1);
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return true;
  if (n <= 0)
    return false;
  *len += (size_t)n;
  line[*len] = '\0';
  char *start = line, *end;
  while ((end = strchr(start, '\n'))) {
    *end = '\0';
    unsigned rows = 0, cols = 0;
    if (sscanf(start, "size %u %u", &rows, &cols) == 2 && rows > 0 && cols > 0 && rows <= 0xffff &&
        cols <= 0xffff) {
      char text[32];
      int tlen = snprintf(text, sizeof text, "%u %u", rows, cols);
      write_frame(sock, FRAME_RESIZE, text, (uint32_t)tlen);
    }
    start = end + 1;
  }
  *len = strlen(start);
  memmove(line, start, *len);
  if (*len >= cap - 1) /* a line that never ends: dropped */
    *len = 0;
  return true;
}

int run_attach(const char *directory, const char *socket_name, bool tty, bool attach_stdin, bool cleanup,
               bool sized) {
  signal(SIGPIPE, SIG_IGN);
  if (chdir(directory) < 0) {
    fprintf(stderr, "gantry: attach: %s: %s\n", directory, strerror(errno));
    return 125;
  }
  int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  strncpy(addr.sun_path, socket_name, sizeof addr.sun_path - 1);
  if (sock < 0 || connect(sock, (struct sockaddr *)&addr, sizeof addr) < 0) {
    fprintf(stderr, "gantry: attach: the container's monitor is not listening (%s)\n", strerror(errno));
    return 125;
  }
  if (cleanup)
    write_frame(sock, FRAME_CLEANUP, NULL, 0);
  int control = -1;
  if (fcntl(SYNC_FD, F_GETFD) >= 0) {
    report(SYNC_FD, "attached\n");
    if (sized && tty)
      control = SYNC_FD;
    else
      close(SYNC_FD);
  }
  char control_line[128];
  size_t control_len = 0;
  sigset_t mask;
  sigemptyset(&mask);
  int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
  for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
    sigaddset(&mask, forwarded[i]);
  sigaddset(&mask, SIGWINCH);
  sigprocmask(SIG_BLOCK, &mask, NULL);
  int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  if (tty && attach_stdin && isatty(0) && tcgetattr(0, &saved) == 0) {
    struct termios raw = saved;
    cfmakeraw(&raw); /* output processing too, as docker: the container's pty already did it */
    tcsetattr(0, TCSADRAIN, &raw);
    raw_mode = true;
  }
  if (tty)
    send_size(sock);
  bool stdin_open = attach_stdin;
  unsigned char header[5];
  size_t header_len = 0;
  uint32_t payload_len = 0, payload_got = 0;
  char *payload = xmalloc(1 << 20);
  char buf[16384];
  bool held = false; /* a Ctrl-P read, not yet sent */
  for (;;) {
    struct pollfd fds[4] = {{.fd = sock, .events = POLLIN},
                            {.fd = sfd, .events = POLLIN},
                            {.fd = stdin_open ? 0 : -1, .events = POLLIN},
                            {.fd = control, .events = POLLIN}};
    if (poll(fds, 4, -1) < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    if (fds[1].revents) {
      struct signalfd_siginfo info;
      while (read(sfd, &info, sizeof info) == sizeof info) {
        if (info.ssi_signo == SIGWINCH) {
          send_size(sock);
        } else if (info.ssi_pid == (uint32_t)getppid()) {
          /* Only what the CLI that started us passes on: it gets every signal meant for the
           * session (Ctrl-C to the group, or a kill of its pid alone) and forwards each once;
           * our own copy of a group-wide signal would deliver it twice. */
          char text[16];
          int len = snprintf(text, sizeof text, "%u", info.ssi_signo);
          write_frame(sock, FRAME_SIGNAL, text, (uint32_t)len);
        }
      }
    }
    if (control >= 0 && fds[3].revents &&
        !relay_sizes(control, sock, control_line, &control_len, sizeof control_line)) {
      close(control);
      control = -1;
    }
    if (stdin_open && fds[2].revents) {
      ssize_t n = read(0, buf, sizeof buf);
      if (n <= 0) {
        stdin_open = false;
        if (held)
          write_frame(sock, FRAME_STDIN, "\x10", 1);
        write_frame(sock, FRAME_STDIN_EOF, NULL, 0);
      } else {
        /* Ctrl-P waits for the next key, as docker's: Ctrl-Q after it detaches and neither reaches
         * the container (its pty would echo them); any other key sends both. */
        ssize_t from = 0;
        if (raw_mode)
          for (ssize_t i = 0; i < n; i++) {
            if (held) {
              held = false;
              if (buf[i] == 0x11) {
                restore();
                fprintf(stderr, "\r\nread escape sequence\r\n");
                return 0;
              }
              write_frame(sock, FRAME_STDIN, "\x10", 1);
            }
            if (buf[i] == 0x10) {
              if (i > from)
                write_frame(sock, FRAME_STDIN, buf + from, (uint32_t)(i - from));
              held = true;
              from = i + 1;
            }
          }
        if (n > from)
          write_frame(sock, FRAME_STDIN, buf + from, (uint32_t)(n - from));
      }
    }
    if (fds[0].revents) {
      ssize_t n = read(sock, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      for (ssize_t pos = 0; pos < n;) {
        if (header_len < 5) {
          header[header_len++] = (unsigned char)buf[pos++];
          if (header_len == 5) {
            payload_len = ((uint32_t)header[1] << 24) | ((uint32_t)header[2] << 16) | ((uint32_t)header[3] << 8) |
                          header[4];
            payload_got = 0;
            if (payload_len >= (1 << 20))
              goto lost;
          }
        } else {
          size_t take = (size_t)(n - pos);
          if (take > payload_len - payload_got)
            take = payload_len - payload_got;
          memcpy(payload + payload_got, buf + pos, take);
          payload_got += (uint32_t)take;
          pos += (ssize_t)take;
        }
        if (header_len == 5 && payload_got == payload_len) {
          header_len = 0;
          if (header[0] == FRAME_STDOUT) {
            write_all(1, payload, payload_len);
          } else if (header[0] == FRAME_STDERR) {
            write_all(2, payload, payload_len);
          } else if (header[0] == FRAME_EXIT) {
            payload[payload_len] = '\0';
            restore();
            return atoi(payload);
          }
        }
      }
    }
  }
lost:
  restore();
  fprintf(stderr, "gantry: lost the connection to the container's monitor\n");
  return 125;
}
