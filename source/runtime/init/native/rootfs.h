#ifndef GANTRY_ROOTFS_H
#define GANTRY_ROOTFS_H
#include "helper.h"
void setup_rootfs(struct plan *plan);
void pivot_into_rootfs(const struct plan *plan);
void finish_rootfs(const struct plan *plan);
void bring_up_loopback(void);
/* mountfd.c: bind `source_fd` (or, when it is -1, `source_path`) onto `target_fd`; false with errno
 * (ENOSYS: the kernel has no mount_setattr) when it could not. */
bool bind_on_fd(int source_fd, const char *source_path, int target_fd, unsigned long flags, unsigned long propagation);
/* copyup.c: a tmpfs filled with the directory `destination_fd` names, then mounted over it. */
void mount_tmpfs_copy_up(int destination_fd, const struct mount_entry *m, struct plan *plan);
#endif
