/*
 * gantry-init: the single-threaded native helper.
 *
 * TypeScript computes a complete plan (namespaces, mounts, process, monitor settings) and hands
 * it over on fd 3. This program only executes it, in order, and reports back. It has four modes:
 *   init    create a container: clone into new namespaces, set up the root filesystem, wait at
 *           the exec fifo, exec the user's process; the same process then stays as the
 *           container's monitor (logs, attach socket, exit status, OOM flag).
 *   exec    run a process in a running container (joining its namespaces and cgroup) and relay
 *           its stdio from outside the container.
 *   attach  connect the caller's terminal to a monitor's attach socket.
 *   init-child  (internal) the container's init after re-executing from a sealed copy.
 * Every process that enters a container is non-dumpable and runs from a sealed memfd copy of
 * this binary with an empty environment (sealed.c).
 * No policy lives here: every decision was made by the plan's author.
 */
#ifndef GANTRY_HELPER_H
#define GANTRY_HELPER_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SYNC_FD 3
#define PLAN_FD 4 /* init-child: the plan, in a memfd */
#define ROOTFS_FD 6 /* init-child: the root the monitor built (a user namespace) */
#define EXE_FD 5  /* init-child: the sealed copy it runs from (unreadable inside a user namespace) */
#define MAX_ITEMS 512

/* Frame types of the attach protocol (1 type byte, 4 length bytes big-endian, payload). */
enum frame_type {
  FRAME_STDIN = 0,
  FRAME_STDOUT = 1,
  FRAME_STDERR = 2,
  FRAME_EXIT = 3,
  FRAME_STDIN_EOF = 4,
  FRAME_RESIZE = 5,
  FRAME_SIGNAL = 6,
  /* client -> monitor: this client records the end itself; skip the exit command if it is
   * still connected when the exit status goes out. */
  FRAME_CLEANUP = 7,
  /* client -> monitor: run a health check now; monitor -> that client: the status after it */
  FRAME_HEALTH = 8,
};

struct str_list {
  char **items;
  size_t len;
  size_t cap;
};

struct mount_entry {
  char *source;
  char *destination; /* inside the rootfs */
  char *type;
  unsigned long flags;
  unsigned long propagation;
  char *data;
  /* runc's recursive options (rro, rnosuid, ...): mount_setattr(AT_RECURSIVE) once it is made */
  bool recursive;
  uint64_t recursive_set, recursive_clear;
  bool tmpcopyup;          /* a tmpfs filled with what the root has at the destination (copyup.c) */
};

struct device_entry {
  char *path;
  char type; /* c, b, p */
  unsigned int major, minor;
  unsigned int mode;
  uid_t uid;
  gid_t gid;
  char *bind_source; /* non-NULL: bind this host node (user namespace: no mknod) */
};

struct id_map {
  unsigned long container, host, size;
};

struct rlimit_entry {
  int resource;
  uint64_t soft, hard;
};

struct hook_entry {
  char *stage; /* createContainer | startContainer */
  char *path;
  int timeout;
  struct str_list args;
  struct str_list env;
};

struct namespace_entry {
  int type;   /* CLONE_NEW* */
  char *path; /* NULL: create a new one */
  bool held;  /* a restart: the monitor entered it for the clone; neither create nor join it */
  int held_fd; /* monitor: the namespace kept for restarts (-1: none) */
  int own_fd;  /* monitor: its own namespace of that type, to go back to after the clone */
};

/* Restart policies (docker's --restart), as the plan gives them. */
enum restart_policy { RESTART_NO = 0, RESTART_ON_FAILURE = 1, RESTART_ALWAYS = 2, RESTART_UNLESS_STOPPED = 3 };

struct symlink_entry {
  char *target, *path;
};

/* A published port the monitor binds before the container starts and keeps while it runs, so
 * no process of the host can take it (the kernel's DNAT sends the traffic to the container). */
struct held_port {
  bool udp;
  char *address;
  unsigned int port;
};

struct plan {
  char *mode;
  /* monitor */
  char *state_dir;
  char *log_path;
  uint64_t log_max_size; /* bytes per log file; 0: no limit */
  unsigned log_max_files; /* log files kept, the current one included */
  char *attach_path;
  char *fifo_path;
  char *pid_file;
  char *console_socket;
  char *oom_file, *oom_key;
  char *oom_control; /* v1: cgroup.event_control to register an eventfd for oom_file; NULL: inotify */
  char *events_file; /* where OOM events are appended: "TIMESTAMP oom COUNT" */
  char *exit_file;
  struct str_list exit_command;
  /* restarts: the policy, its retry limit (0: none), where the monitor says how its runs go, and
   * the file whose presence means a stop was asked for (never restart then) */
  int restart_policy;
  unsigned restart_max;
  char *run_file;
  char *stop_file;
  /* health checks (health.c): the exec plan file, where the state goes, the command's program
   * (for an exec failure's message), and docker's settings in ms */
  char *health_plan, *health_file, *health_program;
  uint64_t health_interval_ms, health_timeout_ms, health_start_period_ms;
  unsigned health_retries;
  bool open_stdin;
  bool stdin_once;
  bool terminal;
  bool passthrough; /* container uses the helper's own stdio (gantry-oci) */
  bool foreground;  /* helper waits for the container and exits with its status */
  bool handoff;     /* no monitor: the helper exits once the container is created, so its init is
                     * reparented to the caller's subreaper (conmon, the containerd shim), as runc's */
  bool detach_exec; /* exec mode: do not wait, report the pid */
  bool hook_sync;
  unsigned short rows, cols;
  /* namespaces */
  struct namespace_entry namespaces[10];
  char *session_keyring; /* a new session keyring to join (runc's _ses.ID); NULL: keep the caller's */
  size_t namespace_count;
  struct id_map uid_maps[16], gid_maps[16];
  size_t uid_map_count, gid_map_count;
  bool setgroups_deny;
  struct str_list cgroup_procs;
  /* filesystem */
  char *rootfs;
  char *root_overlay_data, *root_overlay_cwd;
  struct str_list root_lowers; /* the monitor builds the root: an overlay of these, top first */
  char *root_upper, *root_work;
  bool root_idmap;   /* the lowers are idmapped with the container's user namespace */
  int root_mount_fd; /* the container's init: the detached root it was handed, or -1 */
  unsigned long root_propagation;
  bool root_readonly;
  struct mount_entry *mounts;
  size_t mount_count, mount_cap;
  struct device_entry *devices;
  size_t device_count, device_cap;
  struct symlink_entry *symlinks;
  size_t symlink_count, symlink_cap;
  struct str_list mkdirs; /* "mode path" pairs flattened: path; modes kept in mkdir_modes */
  unsigned int mkdir_modes[MAX_ITEMS];
  struct str_list masked, readonly;
  struct str_list sysctl_keys, sysctl_values;
  char *hostname, *domainname;
  bool loopback;
  struct held_port *held_ports;
  size_t held_port_count, held_port_cap;
  struct hook_entry *hooks;
  size_t hook_count, hook_cap;
  char *state_json;
  /* process */
  struct str_list args, env;
  char *cwd;
  uid_t uid;
  gid_t gid;
  struct str_list groups;
  int umask_value; /* -1: leave */
  struct rlimit_entry rlimits[32];
  size_t rlimit_count;
  bool have_caps;
  uint64_t cap_bounding, cap_effective, cap_permitted, cap_inheritable, cap_ambient;
  bool no_new_privileges;
  bool have_oom_score;
  int oom_score_adj;
  char *apparmor_profile; /* applied from the execve on (apparmor.c); NULL: none */
  char *selinux_label;    /* the process's SELinux label from the execve on (selinux.c); NULL: none */
  char *mount_label;      /* SELinux context= of the tmpfs that masks a directory; NULL: none */
  char *seccomp; /* raw sock_filter program bytes, hex-decoded length below */
  size_t seccomp_len;
  /* the plan as read, for a child that re-executes itself and reads it again */
  char *raw;
  size_t raw_len;
  /* test knob: stop at a named point until the test lets go (see test_pause) */
  char *pause_point, *pause_ready, *pause_go;
  bool restarted; /* this init is a restart's (no exec fifo; the test pause point "restarted") */
  int pause_ready_fd, pause_go_fd;
};

/* util.c */
void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
/* Makes die() in this process jump to `jump` with the message in `message` instead of exiting
 * (a restart whose setup fails must not take the monitor down); NULL disarms it. */
void catch_die(jmp_buf *jump, char *message, size_t cap);
void set_error_channel(int fd, const char *prefix);
bool report(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void fail_errno(const char *what, const char *path) __attribute__((noreturn));
void *xmalloc(size_t size);
void *xrealloc(void *p, size_t size);
char *xstrdup(const char *s);
void list_push(struct str_list *list, char *item);
ssize_t write_all(int fd, const void *buf, size_t len);
ssize_t read_full(int fd, void *buf, size_t len);
int read_line(int fd, char *buf, size_t cap);
bool write_file(const char *path, const char *content);
bool write_proc_file(const char *path, const char *content);
void encode_field(const char *in, char *out, size_t cap);
void format_time_rfc3339(char *out, size_t cap);
const char *errno_name(int err);
const char *fs_context_log(int fs, char *buffer, size_t size);
int send_fd(int sock, int fd);
int recv_fd(int sock);
int write_frame(int fd, int type, const void *data, uint32_t len);
void set_cloexec(int fd, bool on);
void set_nonblock(int fd, bool on);
void close_descriptors_from(int low, bool cloexec);

/* idmap.c */
int mapped_root_overlay(const struct plan *plan, pid_t child);
int run_idmap_probe(const char *dir);

/* plan.c */
void plan_read(struct plan *plan, int fd);

/* apparmor.c: open the process's exec attribute while /proc is the host's; write it before exec */
void apparmor_open(const struct plan *plan);
void apparmor_apply(const struct plan *plan);

/* selinux.c: open the exec and keycreate attributes while /proc is the host's; write them before
 * the keyring is joined and before exec */
void selinux_open(const struct plan *plan);
void selinux_keyring(const struct plan *plan);
void selinux_apply(const struct plan *plan);

/* keyring.c */
void join_session_keyring(const struct plan *plan, bool user_ns, bool set_permissions);

/* nsjoin.c */
/* Joins every namespace whose descriptor in `fds` (one per plan->namespaces entry) is not -1, in
 * runc's order; each joined descriptor is closed and set to -1. On failure: -1, errno, and the
 * entry in *failed. */
int join_namespaces_ordered(const struct plan *plan, int *fds, size_t *failed);

/* sealed.c */
bool self_is_sealed(void);
bool fd_is_sealed_self(int fd);
int sealed_copy_of_self(void);
void exec_sealed(int exe, char *const argv[]) __attribute__((noreturn));
int plan_memfd(const char *text, size_t len);
void test_pause_open(struct plan *plan);
void test_pause(struct plan *plan, const char *point, pid_t host_pid);

/* terminal.c */
bool is_pty_master(int fd);
int open_in_current_root(const char *path, int flags);
void open_pty_pair(int *master, int *slave);
void take_terminal(int slave);
void hand_over_pty(const struct plan *plan, int sync);
int send_console(const char *socket_path, int master);

/* init.c */
struct monitor_io;
int run_init(struct plan *plan);
int run_init_child(struct plan *plan);
/* A restart: a fresh clone of the container's process with the same plan. 0 when it runs, an
 * errno when its program could not be executed (it exits; reap it), -1 with the (encoded) reason
 * in `error` when its setup failed. */
int respawn_container(struct plan *plan, struct monitor_io *io, char *error, size_t error_cap);
/* finalize.c: credentials, capabilities, rlimits, exec */
void apply_rlimits(const struct plan *plan);
void set_credentials(const struct plan *plan);
void apply_seccomp(const struct plan *plan);
char *prepare_process(const struct plan *plan, int report_fd);
int make_directories(const char *path);
void reset_signals(void);
void exec_process(const struct plan *plan, const char *path, int report_fd) __attribute__((noreturn));
int run_hook(const struct hook_entry *hook, const char *state_json);
int cap_last_cap(void);

/* logfile.c */
struct log_file {
  int fd;
  const char *path; /* relative to the monitor's working directory, the state directory */
  uint64_t max_size;
  unsigned max_files;
  uint64_t size; /* of the current file, as written */
  char *buffer;
  size_t len;
};
void log_open(struct log_file *log, const char *path, uint64_t max_size, unsigned max_files);
void log_append(struct log_file *log, const char *stream, const char *data, size_t len);
void log_flush(struct log_file *log);
void log_close(struct log_file *log);

/* monitor.c */
struct monitor_io {
  int out_fd, err_fd; /* read ends of the container's stdout/stderr pipes, or pty master in out_fd */
  int in_fd;          /* write end of the container's stdin pipe, or pty master, or -1 */
  int sync_fd;        /* socket to the container process until it execs */
  pid_t child;
};
int run_monitor(struct plan *plan, struct monitor_io *io);

/* restart.c */
struct run_state {
  unsigned restart_count; /* restarts by the policy since the start */
  bool restarting;        /* between a run that ended and the next one */
  pid_t pid;              /* the current (or last) run's process */
  char started_at[64], finished_at[64];
  int exit_code; /* of the last run that ended */
};
bool stop_requested(const struct plan *plan);
bool restart_wanted(const struct plan *plan, unsigned restarts_so_far, int exit_code);
long long next_backoff_ms(long long previous_ms, long long run_ms);
void write_run_file(const struct plan *plan, const struct run_state *run);
void append_event(const struct plan *plan, const char *action, long long value);

/* exec.c */
int run_exec(struct plan *plan);

/* attach.c */
int run_attach(const char *directory, const char *socket_name, bool tty, bool attach_stdin, bool cleanup,
               bool sized);

#endif
