/* A fresh pseudo-terminal inside the container, opened without trusting its /dev: the master must
 * answer as a pty master, and the slave comes from the master itself (TIOCGPTPEER), never from a
 * /dev/pts/N path the container could have swapped. */
#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

bool is_pty_master(int fd) {
  unsigned int number;
  return ioctl(fd, TIOCGPTN, &number) == 0;
}

int open_in_current_root(const char *path, int flags) {
  int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0)
    return -1;
  struct open_how how = {.flags = (uint64_t)(flags | O_CLOEXEC), .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  while (*path == '/')
    path++;
  int fd;
  do
    fd = (int)syscall(SYS_openat2, root, path, &how, sizeof how);
  while (fd < 0 && (errno == EAGAIN || errno == EINTR));
  int saved = errno;
  close(root);
  errno = saved;
  return fd;
}

void open_pty_pair(int *master, int *slave) {
  *master = open_in_current_root("/dev/ptmx", O_RDWR | O_NOCTTY);
  if (*master < 0)
    fail_errno("open", "/dev/ptmx");
  if (!is_pty_master(*master))
    die("/dev/ptmx in the container is not a pseudo-terminal multiplexer");
  int unlock = 0;
  if (ioctl(*master, TIOCSPTLCK, &unlock) < 0)
    fail_errno("unlockpt", "/dev/ptmx");
  *slave = ioctl(*master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (*slave < 0)
    fail_errno("open the pty peer (TIOCGPTPEER)", "/dev/ptmx");
}

/* The slave end becomes the process's stdio and controlling terminal, in a session of its own. */
void take_terminal(int slave) {
  if (setsid() < 0)
    fail_errno("setsid", NULL);
  if (ioctl(slave, TIOCSCTTY, 0) < 0)
    fail_errno("TIOCSCTTY", NULL);
  for (int fd = 0; fd < 3; fd++)
    if (dup2(slave, fd) < 0)
      fail_errno("dup2", "pty");
  if (slave > 2)
    close(slave);
}

/* A new pty for the container's process (init or exec): sized from the plan before the process
 * runs (a program that asks at once, stty size, must not see 0x0), its master sent to the engine
 * on `sync`, its slave taken as the process's terminal. */
void hand_over_pty(const struct plan *plan, int sync) {
  int master, slave;
  open_pty_pair(&master, &slave);
  if (plan->rows && plan->cols) {
    struct winsize size = {.ws_row = plan->rows, .ws_col = plan->cols};
    ioctl(master, TIOCSWINSZ, &size);
  }
  report(sync, "pty\n");
  if (send_fd(sync, master) < 0)
    fail_errno("send the pty master", NULL);
  close(master);
  take_terminal(slave);
}

/* Hands the pty master to the caller's --console-socket (runc's protocol: one SCM_RIGHTS message).
 * Returns -1 with errno set when the socket cannot be reached or takes nothing. */
int send_console(const char *socket_path, int master) {
  if (strlen(socket_path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
    errno = ENAMETOOLONG;
    return -1;
  }
  int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0)
    return -1;
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  strcpy(addr.sun_path, socket_path);
  int result = connect(sock, (struct sockaddr *)&addr, sizeof addr) < 0 ? -1 : send_fd(sock, master);
  int saved = errno;
  close(sock);
  errno = saved;
  return result < 0 ? -1 : 0;
}
