/* The trees guardian works on: the cgroup v2 root and the proc root, both
 * chosen at run time (host paths, a sidecar's mounts, or fixture trees). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "cgroup/cgroup.h"

typedef struct gd_host {
        cg_root root;
        char proc_path[4096];
        int rootfd;
        int procfd;
        uint64_t page_size;
} gd_host;

/* Open the cgroup root (cgroup_root, or auto-detected when NULL) and the
 * proc root (proc_root, or "/proc"). Prints what went wrong to stderr.
 * Returns 0, or a negative errno. */
int gd_host_open(const char *cgroup_root, const char *proc_root, gd_host *ret_host);

void gd_host_close(gd_host *host);
