/* Entry point: `gantry-init init|exec` read a plan on fd 3; `gantry-init attach DIR SOCKET
 * [tty] [stdin]` connects the caller's stdio to a monitor. */
#include "helper.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
  /* Keep stdio and the engine's channel (fd 3); anything else was inherited by accident. */
  close_descriptors_from(SYNC_FD + 1, false);
  if (argc >= 4 && !strcmp(argv[1], "attach")) {
    bool tty = false, stdin_attached = false, cleanup = false;
    for (int i = 4; i < argc; i++) {
      if (!strcmp(argv[i], "tty"))
        tty = true;
      else if (!strcmp(argv[i], "stdin"))
        stdin_attached = true;
      else if (!strcmp(argv[i], "cleanup"))
        cleanup = true;
    }
    return run_attach(argv[2], argv[3], tty, stdin_attached, cleanup);
  }
  if (argc == 2 && (!strcmp(argv[1], "init") || !strcmp(argv[1], "exec"))) {
    struct plan plan;
    set_error_channel(SYNC_FD, "error");
    plan_read(&plan, SYNC_FD);
    if (strcmp(plan.mode, argv[1]))
      die("plan mode `%s` does not match the command `%s`", plan.mode, argv[1]);
    return !strcmp(argv[1], "init") ? run_init(&plan) : run_exec(&plan);
  }
  if (argc == 2 && !strcmp(argv[1], "--version")) {
    printf("gantry-init plan version 1\n");
    return 0;
  }
  fprintf(stderr, "usage: gantry-init init|exec (plan on fd 3)\n"
                  "       gantry-init attach DIRECTORY SOCKET [tty] [stdin] [cleanup]\n"
                  "This helper is started by gantry; it is not meant to be run by hand.\n");
  return 2;
}
