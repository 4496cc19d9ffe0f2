#ifndef GANTRY_ROOTFS_H
#define GANTRY_ROOTFS_H
#include "helper.h"
void setup_rootfs(struct plan *plan);
void pivot_into_rootfs(const struct plan *plan);
void finish_rootfs(const struct plan *plan);
void bring_up_loopback(void);
#endif
