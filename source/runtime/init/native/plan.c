/*
 * The plan: one directive per line, fields separated by one space, each field percent-encoded
 * (bytes <= 0x20, '%' and 0x7f as %XX; a lone "%" is the empty string). The TypeScript side
 * (source/runtime/init/plan.ts) writes it; it has already validated every value, so this parser
 * only rejects what it cannot represent.
 */
#include "helper.h"

#include <errno.h>
#include <stddef.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <unistd.h>

#define MAX_PLAN (4 * 1024 * 1024)

static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* The byte two hex digits at `p` spell, or -1. */
static int hex_byte(const char *p) {
  int hi = hexval(p[0]), lo = hi < 0 ? -1 : hexval(p[1]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

static char *decode(char *field) {
  if (strcmp(field, "%") == 0) {
    field[0] = '\0';
    return field;
  }
  char *out = field;
  for (char *p = field; *p; p++) {
    if (*p == '%') {
      int byte = hex_byte(p + 1);
      if (byte < 0)
        die("plan: bad escape in field `%s`", field);
      *out++ = (char)byte;
      p += 2;
    } else {
      *out++ = *p;
    }
  }
  *out = '\0';
  return field;
}

/* Dies unless strto*() took all of a non-empty `s` without overflow (errno set before the call). */
static void whole_number(const char *s, const char *end, const char *what) {
  if (errno || *end || !*s)
    die("plan: %s: not a number: `%s`", what, s);
}

static unsigned long parse_ulong(const char *s, const char *what) {
  char *end;
  errno = 0;
  unsigned long value = strtoul(s, &end, 0);
  whole_number(s, end, what);
  return value;
}

static long parse_long(const char *s, const char *what) {
  char *end;
  errno = 0;
  long value = strtol(s, &end, 0);
  whole_number(s, end, what);
  return value;
}

static uint64_t parse_u64(const char *s, const char *what) {
  if (strcmp(s, "inf") == 0)
    return UINT64_MAX;
  char *end;
  errno = 0;
  unsigned long long value = strtoull(s, &end, 0);
  whole_number(s, end, what);
  return value;
}

static int namespace_type(const char *name) {
  static const struct {
    const char *name;
    int type;
  } table[] = {{"pid", CLONE_NEWPID},   {"net", CLONE_NEWNET},   {"ipc", CLONE_NEWIPC},
               {"uts", CLONE_NEWUTS},   {"mnt", CLONE_NEWNS},    {"cgroup", CLONE_NEWCGROUP},
               {"user", CLONE_NEWUSER}, {"time", 0x00000080}};
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
    if (strcmp(table[i].name, name) == 0)
      return table[i].type;
  die("plan: unknown namespace `%s`", name);
}

#define NEED(n)                                                                                               \
  do {                                                                                                        \
    if (argc < (n) + 1)                                                                                       \
      die("plan: `%s` needs %d field(s)", argv[0], (n));                                                    \
  } while (0)

#define GROW(array, count, cap)                                                                               \
  do {                                                                                                        \
    if ((count) == (cap)) {                                                                                   \
      (cap) = (cap) ? (cap) * 2 : 16;                                                                         \
      (array) = xrealloc((array), (cap) * sizeof *(array));                                                   \
    }                                                                                                         \
  } while (0)

/* A directive that sets one field of the plan, by the field's offset. */
struct field_directive {
  const char *name;
  size_t offset;
};

/* NAME VALUE: the value is the field (a string kept in the plan's text). */
static const struct field_directive string_directives[] = {
    {"mode", offsetof(struct plan, mode)},
    {"statedir", offsetof(struct plan, state_dir)},
    {"log", offsetof(struct plan, log_path)},
    {"attach", offsetof(struct plan, attach_path)},
    {"fifo", offsetof(struct plan, fifo_path)},
    {"pidfile", offsetof(struct plan, pid_file)},
    {"consolesocket", offsetof(struct plan, console_socket)},
    {"oomcontrol", offsetof(struct plan, oom_control)},
    {"events", offsetof(struct plan, events_file)},
    {"exitfile", offsetof(struct plan, exit_file)},
    {"keyring", offsetof(struct plan, session_keyring)},
    {"runfile", offsetof(struct plan, run_file)},
    {"healthplan", offsetof(struct plan, health_plan)},
    {"healthfile", offsetof(struct plan, health_file)},
    {"healthprogram", offsetof(struct plan, health_program)},
    {"stopfile", offsetof(struct plan, stop_file)},
    {"rootfs", offsetof(struct plan, rootfs)},
    {"hostname", offsetof(struct plan, hostname)},
    {"domainname", offsetof(struct plan, domainname)},
    {"state", offsetof(struct plan, state_json)},
    {"cwd", offsetof(struct plan, cwd)},
    {"apparmor", offsetof(struct plan, apparmor_profile)},
    {"selinux", offsetof(struct plan, selinux_label)},
    {"mountlabel", offsetof(struct plan, mount_label)},
};

/* NAME: the flag is set. */
static const struct field_directive flag_directives[] = {
    {"stdin", offsetof(struct plan, open_stdin)},
    {"stdinonce", offsetof(struct plan, stdin_once)},
    {"terminal", offsetof(struct plan, terminal)},
    {"passthrough", offsetof(struct plan, passthrough)},
    {"foreground", offsetof(struct plan, foreground)},
    {"handoff", offsetof(struct plan, handoff)},
    {"detach", offsetof(struct plan, detach_exec)},
    {"hooksync", offsetof(struct plan, hook_sync)},
    {"setgroupsdeny", offsetof(struct plan, setgroups_deny)},
    {"rootreadonly", offsetof(struct plan, root_readonly)},
    {"lo", offsetof(struct plan, loopback)},
    {"nnp", offsetof(struct plan, no_new_privileges)},
};

/* NAME VALUE: the value is appended to the list. */
static const struct field_directive list_directives[] = {
    {"exitcmd", offsetof(struct plan, exit_command)},
    {"cgroupprocs", offsetof(struct plan, cgroup_procs)},
    {"rootlower", offsetof(struct plan, root_lowers)},
    {"mask", offsetof(struct plan, masked)},
    {"readonly", offsetof(struct plan, readonly)},
    {"arg", offsetof(struct plan, args)},
    {"env", offsetof(struct plan, env)},
};

#define COUNT(array) (sizeof(array) / sizeof(array)[0])

/* The table entry named `name`, or NULL. */
static const struct field_directive *find_directive(const struct field_directive *table, size_t count,
                                                    const char *name) {
  for (size_t i = 0; i < count; i++)
    if (!strcmp(table[i].name, name))
      return &table[i];
  return NULL;
}

/* Applies `argv` if it is a directive of the tables above; false if it is not one. */
static bool field_directive(struct plan *p, int argc, char **argv) {
  char *base = (char *)p;
  const struct field_directive *f;
  if ((f = find_directive(string_directives, COUNT(string_directives), argv[0]))) {
    NEED(1);
    *(char **)(base + f->offset) = argv[1];
  } else if ((f = find_directive(flag_directives, COUNT(flag_directives), argv[0]))) {
    *(bool *)(base + f->offset) = true;
  } else if ((f = find_directive(list_directives, COUNT(list_directives), argv[0]))) {
    NEED(1);
    list_push((struct str_list *)(base + f->offset), argv[1]);
  } else {
    return false;
  }
  return true;
}

/* A new device entry from the fields mkdev and bindev share: PATH TYPE MAJOR MINOR. */
static struct device_entry *new_device(struct plan *p, char **argv) {
  GROW(p->devices, p->device_count, p->device_cap);
  struct device_entry *dev = &p->devices[p->device_count++];
  memset(dev, 0, sizeof *dev);
  dev->path = argv[1];
  dev->type = argv[2][0];
  dev->major = (unsigned)parse_ulong(argv[3], "major");
  dev->minor = (unsigned)parse_ulong(argv[4], "minor");
  return dev;
}

static void directive(struct plan *p, int argc, char **argv) {
  const char *d = argv[0];
  if (field_directive(p, argc, argv))
    return;
  if (!strcmp(d, "version")) {
    NEED(1);
    if (strcmp(argv[1], "1"))
      die("plan: version %s is not supported (this helper speaks version 1); rebuild with npm install",
          argv[1]);
  } else if (!strcmp(d, "logmax")) {
    NEED(2);
    p->log_max_size = parse_u64(argv[1], "log max size");
    p->log_max_files = (unsigned)parse_ulong(argv[2], "log max files");
  } else if (!strcmp(d, "oom")) {
    NEED(2);
    p->oom_file = argv[1];
    p->oom_key = argv[2];
  } else if (!strcmp(d, "size")) {
    NEED(2);
    p->rows = (unsigned short)parse_ulong(argv[1], "rows");
    p->cols = (unsigned short)parse_ulong(argv[2], "cols");
  } else if (!strcmp(d, "ns")) {
    NEED(1);
    if (p->namespace_count == COUNT(p->namespaces))
      die("plan: too many namespaces");
    struct namespace_entry *ns = &p->namespaces[p->namespace_count++];
    ns->type = namespace_type(argv[1]);
    ns->path = argc > 2 ? argv[2] : NULL;
    ns->held = false;
    ns->held_fd = ns->own_fd = -1;
  } else if (!strcmp(d, "held")) {
    /* Only in the plan a monitor hands a restarted child (see restart_plan_text). */
    NEED(1);
    int type = namespace_type(argv[1]);
    for (size_t i = 0; i < p->namespace_count; i++)
      if (p->namespaces[i].type == type)
        p->namespaces[i].held = true;
  } else if (!strcmp(d, "restarted")) {
    p->fifo_path = NULL;
    p->restarted = true;
    /* The test knob stops a restarted run only where it names a restart ("restarted"). */
    if (p->pause_point && strcmp(p->pause_point, "restarted"))
      p->pause_point = NULL;
  } else if (!strcmp(d, "restart")) {
    NEED(2);
    p->restart_policy = (int)parse_ulong(argv[1], "restart policy");
    if (p->restart_policy > RESTART_UNLESS_STOPPED)
      die("plan: unknown restart policy %d", p->restart_policy);
    p->restart_max = (unsigned)parse_ulong(argv[2], "restart retries");
  } else if (!strcmp(d, "health")) {
    NEED(4);
    p->health_interval_ms = parse_u64(argv[1], "health interval");
    p->health_timeout_ms = parse_u64(argv[2], "health timeout");
    p->health_start_period_ms = parse_u64(argv[3], "health start period");
    p->health_retries = (unsigned)parse_ulong(argv[4], "health retries");
  } else if (!strcmp(d, "uidmap") || !strcmp(d, "gidmap")) {
    NEED(3);
    bool uid = d[0] == 'u';
    size_t *count = uid ? &p->uid_map_count : &p->gid_map_count;
    if (*count == 16)
      die("plan: too many id mappings");
    struct id_map *map = uid ? &p->uid_maps[*count] : &p->gid_maps[*count];
    map->container = parse_ulong(argv[1], d);
    map->host = parse_ulong(argv[2], d);
    map->size = parse_ulong(argv[3], d);
    (*count)++;
  } else if (!strcmp(d, "rootoverlay")) {
    NEED(2);
    p->root_overlay_data = argv[1];
    p->root_overlay_cwd = argv[2];
  } else if (!strcmp(d, "rootupper")) {
    NEED(3);
    p->root_upper = argv[1];
    p->root_work = argv[2];
    p->root_idmap = parse_ulong(argv[3], "rootupper idmap") != 0;
  } else if (!strcmp(d, "rootprop")) {
    NEED(1);
    p->root_propagation = parse_ulong(argv[1], d);
  } else if (!strcmp(d, "mount")) {
    NEED(6);
    GROW(p->mounts, p->mount_count, p->mount_cap);
    struct mount_entry *m = &p->mounts[p->mount_count++];
    m->source = argv[1];
    m->destination = argv[2];
    m->type = argv[3];
    m->flags = parse_ulong(argv[4], "mount flags");
    m->propagation = parse_ulong(argv[5], "mount propagation");
    m->data = argv[6];
    /* Then words for what mount(2) flags cannot say. */
    m->recursive = m->tmpcopyup = false;
    for (int i = 7; i < argc; i++) {
      unsigned long long set, clear;
      int end = 0;
      if (sscanf(argv[i], "recursive=%llu:%llu%n", &set, &clear, &end) == 2 && !argv[i][end]) {
        m->recursive = true;
        m->recursive_set = set;
        m->recursive_clear = clear;
      } else if (!strcmp(argv[i], "tmpcopyup"))
        m->tmpcopyup = true;
      else
        die("plan: mount `%s` has the unknown attribute `%s`", m->destination, argv[i]);
    }
  } else if (!strcmp(d, "mkdev")) {
    NEED(7);
    struct device_entry *dev = new_device(p, argv);
    dev->mode = (unsigned)parse_ulong(argv[5], "mode");
    dev->uid = (uid_t)parse_ulong(argv[6], "uid");
    dev->gid = (gid_t)parse_ulong(argv[7], "gid");
  } else if (!strcmp(d, "bindev")) {
    NEED(5);
    new_device(p, argv)->bind_source = argv[5];
  } else if (!strcmp(d, "symlink")) {
    NEED(2);
    GROW(p->symlinks, p->symlink_count, p->symlink_cap);
    p->symlinks[p->symlink_count].target = argv[1];
    p->symlinks[p->symlink_count++].path = argv[2];
  } else if (!strcmp(d, "mkdir")) {
    NEED(2);
    if (p->mkdirs.len >= MAX_ITEMS)
      die("plan: too many directories");
    p->mkdir_modes[p->mkdirs.len] = (unsigned)parse_ulong(argv[2], "mode");
    list_push(&p->mkdirs, argv[1]);
  } else if (!strcmp(d, "sysctl")) {
    NEED(2);
    list_push(&p->sysctl_keys, argv[1]);
    list_push(&p->sysctl_values, argv[2]);
  } else if (!strcmp(d, "holdport")) {
    NEED(3);
    GROW(p->held_ports, p->held_port_count, p->held_port_cap);
    struct held_port *h = &p->held_ports[p->held_port_count++];
    if (strcmp(argv[1], "tcp") && strcmp(argv[1], "udp"))
      die("plan: holdport protocol `%s` is not tcp or udp", argv[1]);
    h->udp = !strcmp(argv[1], "udp");
    h->address = argv[2];
    h->port = (unsigned)parse_ulong(argv[3], "port");
  } else if (!strcmp(d, "hook")) {
    NEED(3);
    GROW(p->hooks, p->hook_count, p->hook_cap);
    struct hook_entry *h = &p->hooks[p->hook_count++];
    memset(h, 0, sizeof *h);
    h->stage = argv[1];
    h->timeout = (int)parse_long(argv[2], "hook timeout");
    h->path = argv[3];
  } else if (!strcmp(d, "hookarg") || !strcmp(d, "hookenv")) {
    NEED(1);
    if (!p->hook_count)
      die("plan: `%s` before any hook", d);
    struct hook_entry *h = &p->hooks[p->hook_count - 1];
    list_push(d[4] == 'a' ? &h->args : &h->env, argv[1]);
  } else if (!strcmp(d, "user")) {
    NEED(2);
    p->uid = (uid_t)parse_ulong(argv[1], "uid");
    p->gid = (gid_t)parse_ulong(argv[2], "gid");
  } else if (!strcmp(d, "groups")) {
    for (int i = 1; i < argc; i++)
      list_push(&p->groups, argv[i]);
  } else if (!strcmp(d, "umask")) {
    NEED(1);
    p->umask_value = (int)parse_ulong(argv[1], "umask");
  } else if (!strcmp(d, "rlimit")) {
    NEED(3);
    if (p->rlimit_count == 32)
      die("plan: too many rlimits");
    struct rlimit_entry *r = &p->rlimits[p->rlimit_count++];
    r->resource = (int)parse_long(argv[1], "rlimit resource");
    r->soft = parse_u64(argv[2], "rlimit soft");
    r->hard = parse_u64(argv[3], "rlimit hard");
  } else if (!strcmp(d, "caps")) {
    NEED(5);
    p->have_caps = true;
    p->cap_bounding = parse_u64(argv[1], "caps");
    p->cap_effective = parse_u64(argv[2], "caps");
    p->cap_permitted = parse_u64(argv[3], "caps");
    p->cap_inheritable = parse_u64(argv[4], "caps");
    p->cap_ambient = parse_u64(argv[5], "caps");
  } else if (!strcmp(d, "oomscore")) {
    NEED(1);
    p->have_oom_score = true;
    p->oom_score_adj = (int)parse_long(argv[1], "oom score");
  } else if (!strcmp(d, "testpause")) {
    NEED(3);
    p->pause_point = argv[1];
    p->pause_ready = argv[2];
    p->pause_go = argv[3];
  } else if (!strcmp(d, "seccomp")) {
    NEED(1);
    size_t len = strlen(argv[1]);
    if (len % 2)
      die("plan: seccomp program has odd hex length");
    p->seccomp = xmalloc(len / 2);
    for (size_t i = 0; i < len / 2; i++) {
      int byte = hex_byte(argv[1] + 2 * i);
      if (byte < 0)
        die("plan: seccomp program is not hex");
      p->seccomp[i] = (char)byte;
    }
    p->seccomp_len = len / 2;
  } else {
    die("plan: unknown directive `%s`; the helper and the engine are out of step, run npm install", d);
  }
}

void plan_read(struct plan *p, int fd) {
  memset(p, 0, sizeof *p);
  p->umask_value = -1;
  p->root_mount_fd = -1;
  size_t cap = 65536, len = 0;
  char *text = xmalloc(cap);
  /* Read until a line "end": the peer keeps the socket open for the rest of the protocol. */
  for (;;) {
    if (len + 1 >= cap) {
      if (cap >= MAX_PLAN)
        die("plan: larger than %d bytes", MAX_PLAN);
      cap *= 2;
      text = xrealloc(text, cap);
    }
    ssize_t n = read(fd, text + len, cap - len - 1);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      fail_errno("read plan", NULL);
    }
    if (n == 0)
      die("plan: ended before its `end` line");
    len += (size_t)n;
    text[len] = '\0';
    if (len >= 4 && (strcmp(text + len - 4, "end\n") == 0) && (len == 4 || text[len - 5] == '\n'))
      break;
  }
  p->raw = xmalloc(len);
  memcpy(p->raw, text, len);
  p->raw_len = len;
  p->pause_ready_fd = p->pause_go_fd = -1;
  char *save = NULL;
  for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    if (!strcmp(line, "end"))
      break;
    char *argv[16];
    int argc = 0;
    char *fsave = NULL;
    for (char *f = strtok_r(line, " ", &fsave); f; f = strtok_r(NULL, " ", &fsave)) {
      if (argc == 16)
        die("plan: too many fields in a `%s` line", argv[0]);
      argv[argc++] = decode(f);
    }
    if (argc)
      directive(p, argc, argv);
  }
  if (!p->mode)
    die("plan: no mode");
}
