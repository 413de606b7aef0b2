/* guardian's own cgroup namespace, found once at start-up.
 *
 * In a container with a private cgroup namespace (containerd on cgroup v2)
 * and the host's /sys/fs/cgroup mounted (hostPath), /proc/PID/cgroup is
 * relative to guardian's own cgroup: "/" for itself, "/../../x" for the
 * others. Where that root lies in the watched tree is found by looking for
 * guardian's pid in the tree's cgroup.procs files (with hostPID they hold
 * the same pids as guardian's /proc). */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct gd_cgns {
        bool private_ns; /* /proc/self/cgroup is not guardian's place in the tree */
        bool unknown;    /* ...and where the namespace's root lies is not known:
                          * no /proc/PID/cgroup path can be placed in the tree */
        char root[PATH_MAX]; /* the namespace root in the tree ("/a/b"); "" when
                              * not private or unknown */
} gd_cgns;

/* Find guardian's own cgroup in the tree at rootfd (its path tree_path,
 * for the log) and its cgroup namespace, through procfd's
 * /proc/self/cgroup and the tree's cgroup.procs files. Before the sandbox:
 * it opens directories of the tree. ret_self gets guardian's cgroup in the
 * tree ("/a/b"; "/" when it cannot be told). When /proc/self/cgroup names
 * the cgroup of the tree that holds guardian (the normal case), that is
 * all: ret_self is it and ret_ns says not private. Otherwise it logs what
 * it found (a notice, or a warning when the namespace root stays unknown).
 * Never fails. */
void gd_cgns_detect(int rootfd, int procfd, const char *tree_path, gd_cgns *ret_ns,
                    char *ret_self, size_t size);
