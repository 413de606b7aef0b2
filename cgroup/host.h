/* The trees guardian works on: the cgroup v2 root, the proc root, and the
 * host's root (where the container runtimes keep their state), all chosen
 * at run time (host paths, a sidecar's mounts under one prefix, or fixture
 * trees). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "cgroup/cgroup.h"

typedef struct gd_host {
        cg_root root;
        char proc_path[4096];
        int rootfd;
        int procfd;
        int hostfd; /* the host's "/" (or --host-root): runtime state below it */
        uint64_t page_size;
} gd_host;

/* Where the trees are: NULL members take their defaults. With host_root
 * (a sidecar's view of the host under one prefix) the defaults are
 * host_root/sys/fs/cgroup and host_root/proc; without it, the cgroup root
 * is auto-detected, the proc root is /proc and the host's root is "/". */
typedef struct gd_host_paths {
        const char *host_root, *cgroup_root, *proc_root;
} gd_host_paths;

/* Open the cgroup root, the proc root and the host's root as paths says.
 * Returns 0 and *ret_host, or a negative errno with a sentence for the
 * operator in why (why_size bytes: what could not be opened and what to
 * do). Does not log. */
int gd_host_open(const gd_host_paths *paths, char *why, size_t why_size, gd_host *ret_host);

void gd_host_close(gd_host *host);
