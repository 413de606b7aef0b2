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
 * proc root (proc_root, or "/proc"). Returns 0 and *ret_host, or a
 * negative errno with a sentence for the operator in why (why_size bytes:
 * what could not be opened and what to do). Does not log. */
int gd_host_open(const char *cgroup_root, const char *proc_root, char *why, size_t why_size,
                 gd_host *ret_host);

void gd_host_close(gd_host *host);
