/* The last steps before exec: limits, identity, capabilities, seccomp, and the exec itself. */
#include "helper.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_RAISE 2
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

static int last_cap = -1;

/* Read while /proc is still the host's (before pivot_root): the container's may be masked. */
int cap_last_cap(void) {
  if (last_cap >= 0)
    return last_cap;
  last_cap = CAP_LAST_CAP;
  int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    char buf[16] = {0};
    if (read(fd, buf, sizeof buf - 1) > 0)
      last_cap = atoi(buf);
    close(fd);
  }
  return last_cap;
}

void apply_rlimits(const struct plan *plan) {
  for (size_t i = 0; i < plan->rlimit_count; i++) {
    const struct rlimit_entry *r = &plan->rlimits[i];
    struct rlimit limit = {.rlim_cur = r->soft == UINT64_MAX ? RLIM_INFINITY : r->soft,
                           .rlim_max = r->hard == UINT64_MAX ? RLIM_INFINITY : r->hard};
    if (setrlimit(r->resource, &limit) < 0) {
      int err = errno;
      struct rlimit current;
      getrlimit(r->resource, &current);
      errno = err;
      die("setrlimit resource %d to %llu:%llu: %s (%s); the host's hard limit is %llu", r->resource,
          (unsigned long long)r->soft, (unsigned long long)r->hard, errno_name(err), strerror(err),
          (unsigned long long)current.rlim_max);
    }
  }
}

static void set_capabilities(const struct plan *plan) {
  struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct data[2];
  memset(data, 0, sizeof data);
  for (int i = 0; i < 2; i++) {
    data[i].effective = (uint32_t)(plan->cap_effective >> (32 * i));
    data[i].permitted = (uint32_t)(plan->cap_permitted >> (32 * i));
    data[i].inheritable = (uint32_t)(plan->cap_inheritable >> (32 * i));
  }
  if (syscall(SYS_capset, &header, data) < 0)
    fail_errno("capset", NULL);
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  /* The kernel only lets a capability be ambient if it is permitted and inheritable; like runc,
   * raise the ambient capabilities that qualify and leave the rest. */
  uint64_t raisable = plan->cap_ambient & plan->cap_permitted & plan->cap_inheritable;
  for (int cap = 0; cap <= cap_last_cap(); cap++)
    if ((raisable >> cap) & 1)
      if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
        die("raise ambient capability %d: %s", cap, errno_name(errno));
}

/* runc's finalizeNamespace order: bounding set while we still hold CAP_SETPCAP, keep caps across
 * the uid change, change ids, then set the final capability sets. Done before the container is
 * reported created, so a capability or id the host refuses fails `create`, not a later start. */
void set_credentials(const struct plan *plan) {
  if (plan->have_caps) {
    for (int cap = 0; cap <= cap_last_cap(); cap++)
      if (!((plan->cap_bounding >> cap) & 1))
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
          die("drop capability %d from the bounding set: %s", cap, errno_name(errno));
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
      fail_errno("prctl PR_SET_KEEPCAPS", NULL);
  }
  gid_t groups[64];
  size_t group_count = 0;
  for (size_t i = 0; i < plan->groups.len && group_count < 64; i++)
    groups[group_count++] = (gid_t)strtoul(plan->groups.items[i], NULL, 10);
  if (!plan->setgroups_deny && setgroups(group_count, groups) < 0)
    fail_errno("setgroups", NULL);
  if (setresgid(plan->gid, plan->gid, plan->gid) < 0) {
    char what[64];
    snprintf(what, sizeof what, "setresgid %u", plan->gid);
    fail_errno(what, NULL);
  }
  if (setresuid(plan->uid, plan->uid, plan->uid) < 0) {
    char what[64];
    snprintf(what, sizeof what, "setresuid %u", plan->uid);
    fail_errno(what, NULL);
  }
  if (plan->have_caps) {
    prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
    set_capabilities(plan);
  }
  /* Changing ids resets the dumpable flag to fs.suid_dumpable; the process must stay out of
   * reach of the container (ptrace, /proc/PID/mem, environ, exe) until its exec. */
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
    fail_errno("prctl PR_SET_DUMPABLE", NULL);
  if (plan->umask_value >= 0)
    umask((mode_t)plan->umask_value);
  if (plan->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    fail_errno("prctl PR_SET_NO_NEW_PRIVS", NULL);
}

/* Without no_new_privs, installing a filter needs CAP_SYS_ADMIN, so it goes in before the ids
 * change (as runc does); with it, last, just before exec, so the filter sees only the user's
 * program (not the start hooks or the wait for `start`). */
void apply_seccomp(const struct plan *plan) {
  if (plan->seccomp_len) {
    struct sock_fprog program = {.len = (unsigned short)(plan->seccomp_len / sizeof(struct sock_filter)),
                                 .filter = (struct sock_filter *)plan->seccomp};
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) < 0)
      fail_errno("seccomp", NULL);
  }
}

static const char *env_value(const struct plan *plan, const char *name) {
  size_t len = strlen(name);
  for (size_t i = 0; i < plan->env.len; i++)
    if (!strncmp(plan->env.items[i], name, len) && plan->env.items[i][len] == '=')
      return plan->env.items[i] + len + 1;
  return NULL;
}

/* PATH lookup in the container's root with the container's PATH, like execvpe but without the
 * shell fallback, so "not found" (127) and "cannot run" (126) can be told apart before start. */
static char *resolve_executable(const struct plan *plan, int *err) {
  const char *name = plan->args.items[0];
  struct stat st;
  *err = 0;
  if (strchr(name, '/')) {
    if (stat(name, &st) < 0) {
      *err = errno;
      return NULL;
    }
    if (S_ISDIR(st.st_mode)) {
      *err = EISDIR;
      return NULL;
    }
    /* As runc's lookup: a file without any execute bit cannot run, even for root. */
    if (!(st.st_mode & 0111)) {
      *err = EACCES;
      return NULL;
    }
    return xstrdup(name);
  }
  const char *path = env_value(plan, "PATH");
  if (!path)
    path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  char *copy = xstrdup(path), *save = NULL;
  int first_error = ENOENT;
  for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
    char candidate[4096];
    snprintf(candidate, sizeof candidate, "%s/%s", *dir ? dir : ".", name);
    if (stat(candidate, &st) == 0 && S_ISREG(st.st_mode)) {
      if (access(candidate, X_OK) == 0 || (st.st_mode & 0111)) {
        free(copy);
        return xstrdup(candidate);
      }
      first_error = EACCES;
    }
  }
  free(copy);
  *err = first_error;
  return NULL;
}

/* Everything between the root filesystem and the exec that can fail, in runc's order: the
 * working directory (as root, so one only root can enter still works), rlimits, the seccomp
 * filter if it must go first, the ids and capabilities, then the executable, looked up as the
 * user who will run it. A failure here is a failure to create. */
char *prepare_process(const struct plan *plan, int report_fd) {
  /* A working directory the image does not have is made, as runc and docker do. */
  if (plan->cwd && chdir(plan->cwd) < 0 && (errno != ENOENT || make_directories(plan->cwd) < 0 || chdir(plan->cwd) < 0)) {
    int err = errno;
    die("chdir to the working directory `%s`: %s (%s)", plan->cwd, errno_name(err), strerror(err));
  }
  apply_rlimits(plan);
  /* runc's order: the profile and the label, then the seccomp filter and the ids. */
  apparmor_apply(plan);
  selinux_apply(plan);
  if (!plan->no_new_privileges)
    apply_seccomp(plan);
  set_credentials(plan);
  int err = 0;
  char *path = resolve_executable(plan, &err);
  if (!path) {
    report(report_fd, "execerr %d\n", err);
    _exit(err == ENOENT ? 127 : 126);
  }
  return path;
}

/* The process starts with every signal at its default and none blocked, as under runc and
 * conmon. execve only resets caught signals; ignored ones stay ignored, and Node (our parent)
 * ignores SIGPIPE: without this, `yes | head` in a container never ends. */
void reset_signals(void) {
  struct sigaction action = {.sa_handler = SIG_DFL};
  sigemptyset(&action.sa_mask);
  for (int number = 1; number < NSIG; number++)
    if (number != SIGKILL && number != SIGSTOP)
      sigaction(number, &action, NULL); /* EINVAL for the numbers libc keeps to itself: fine */
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
}

/* Reports "execerr <errno>" on report_fd if execve fails; a successful exec closes report_fd
 * (it is close-on-exec), which tells the monitor the user's process is running. */
void exec_process(const struct plan *plan, const char *path, int report_fd) {
  close_descriptors_from(3, true);
  reset_signals();
  execve(path, plan->args.items, plan->env.items);
  int err = errno;
  /* Without a monitor (gantry-oci create hands the process to its caller) nobody reads the
   * channel any more: the error goes to the process's stderr, and the exit code says it. */
  signal(SIGPIPE, SIG_IGN);
  if (report_fd < 0 || !report(report_fd, "execerr %d\n", err))
    fprintf(stderr, "exec %s: %s\n", path, strerror(err));
  _exit(err == ENOENT ? 127 : 126);
}

/* The state a hook run in the container gets: the spec wants the container's pid whenever the
 * status is creating or created; TypeScript wrote the state before there was one. */
static char *state_for_hook(const char *state_json, const char *status) {
  if (!state_json)
    return NULL;
  char pid_text[32], status_text[64];
  snprintf(pid_text, sizeof pid_text, "\"pid\":%d", (int)getpid());
  snprintf(status_text, sizeof status_text, "\"status\":\"%s\"", status);
  const char *pid_at = strstr(state_json, "\"pid\":0");
  const char *status_at = strstr(state_json, "\"status\":\"created\"");
  size_t size = strlen(state_json) + sizeof pid_text + sizeof status_text + 1;
  char *out = xmalloc(size), *w = out;
  for (const char *r = state_json; *r;) {
    if (r == pid_at) {
      w += sprintf(w, "%s", pid_text);
      r += strlen("\"pid\":0");
    } else if (r == status_at) {
      w += sprintf(w, "%s", status_text);
      r += strlen("\"status\":\"created\"");
    } else {
      *w++ = *r++;
    }
  }
  *w = 0;
  return out;
}

/* Runs one OCI hook with the container state on stdin, killing it after its timeout. */
int run_hook(const struct hook_entry *hook, const char *state_json) {
  /* createContainer runs while the container is being created, startContainer once it is. */
  char *hook_state = state_for_hook(state_json, strcmp(hook->stage, "createContainer") ? "created" : "creating");
  if (hook_state)
    state_json = hook_state;
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) < 0)
    return -1;
  pid_t pid = fork();
  if (pid < 0)
    return -1;
  if (pid == 0) {
    reset_signals();
    dup2(pipefd[0], 0);
    char *const *argv = hook->args.len ? hook->args.items : (char *const[]){hook->path, NULL};
    char *const empty[] = {NULL};
    execve(hook->path, argv, hook->env.len ? hook->env.items : empty);
    _exit(127);
  }
  close(pipefd[0]);
  signal(SIGPIPE, SIG_IGN);
  if (state_json)
    write_all(pipefd[1], state_json, strlen(state_json));
  close(pipefd[1]);
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    int status;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
      die("%s hook `%s` failed: %s %d", hook->stage, hook->path,
          WIFEXITED(status) ? "exit status" : "signal", WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    }
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (hook->timeout > 0 && now.tv_sec - start.tv_sec >= hook->timeout) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      die("%s hook `%s` timed out after %d s", hook->stage, hook->path, hook->timeout);
    }
    poll(NULL, 0, 5);
  }
}
