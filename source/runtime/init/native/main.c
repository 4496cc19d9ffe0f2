/* Entry point: `gantry-init init|exec` read a plan on fd 3; `gantry-init attach DIR SOCKET
 * [tty] [stdin]` connects the caller's stdio to a monitor. `init --plan-fd` and `init-child` are
 * the helper re-executing itself from a sealed copy (sealed.c); they read the plan from fd 4.
 * `gantry-init idmap-probe DIR` says whether DIR's filesystem takes idmapped mounts. */
#include "helper.h"

#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

int main(int argc, char **argv) {
  /* First of all: no process in a container may ptrace us, open our /proc/PID/exe, environ or
   * mem, whatever namespace we are about to join. */
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  if (argc >= 4 && !strcmp(argv[1], "attach")) {
    /* Keep stdio and the engine's channel (fd 3); anything else was inherited by accident. */
    close_descriptors_from(SYNC_FD + 1, false);
    bool tty = false, stdin_attached = false, cleanup = false, sized = false;
    for (int i = 4; i < argc; i++) {
      if (!strcmp(argv[i], "tty"))
        tty = true;
      else if (!strcmp(argv[i], "stdin"))
        stdin_attached = true;
      else if (!strcmp(argv[i], "cleanup"))
        cleanup = true;
      else if (!strcmp(argv[i], "sized"))
        sized = true;
    }
    return run_attach(argv[2], argv[3], tty, stdin_attached, cleanup, sized);
  }
  if (argc == 3 && !strcmp(argv[1], "idmap-probe"))
    return run_idmap_probe(argv[2]);
  bool init = argc >= 2 && !strcmp(argv[1], "init");
  bool exec = argc == 2 && !strcmp(argv[1], "exec");
  bool plan_in_memfd = (init && argc == 3 && !strcmp(argv[2], "--plan-fd")) || (argc == 2 && !strcmp(argv[1], "init-child"));
  if ((init && (argc == 2 || plan_in_memfd)) || exec || plan_in_memfd) {
    set_error_channel(SYNC_FD, "error");
    bool init_child = argc == 2 && !strcmp(argv[1], "init-child");
    close_descriptors_from(init_child ? ROOTFS_FD + 1 : plan_in_memfd ? PLAN_FD + 1 : SYNC_FD + 1, false);
    bool sealed = init_child ? fd_is_sealed_self(EXE_FD) || self_is_sealed() : !plan_in_memfd || self_is_sealed();
    if (init_child)
      close(EXE_FD);
    if (!sealed)
      die("`%s%s` runs only from a sealed copy of gantry-init", argv[1], argc == 3 ? " --plan-fd" : "");
    /* The relay of an exec lives for the whole exec and forks the process that enters the
     * container: it runs from the sealed copy from the start, with an empty environment. */
    if (exec && !self_is_sealed())
      exec_sealed(sealed_copy_of_self(), argv);
    struct plan plan;
    plan_read(&plan, plan_in_memfd ? PLAN_FD : SYNC_FD);
    if (plan_in_memfd)
      close(PLAN_FD);
    const char *mode = exec ? "exec" : "init";
    if (strcmp(plan.mode, mode))
      die("plan mode `%s` does not match the command `%s`", plan.mode, mode);
    if (exec)
      return run_exec(&plan);
    return !strcmp(argv[1], "init-child") ? run_init_child(&plan) : run_init(&plan);
  }
  if (argc == 2 && !strcmp(argv[1], "--version")) {
    printf("gantry-init plan version 1\n");
    return 0;
  }
  fprintf(stderr, "usage: gantry-init init|exec (plan on fd 3)\n"
                  "       gantry-init attach DIRECTORY SOCKET [tty] [stdin] [cleanup] [sized]\n"
                  "       gantry-init idmap-probe DIRECTORY\n"
                  "This helper is started by gantry; it is not meant to be run by hand.\n");
  return 2;
}
