/* guardian's cgroup namespace. See cgns.h for the contract. */
#include "daemon/selfcg.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup/cgns.h"
#include "cgroup/cgroup.h"
#include "cgroup/walk.h"
#include "proc/proc.h"
#include "util/log.h"

/* Deeper trees than this are not searched: systemd and kubelet nest a
 * handful of levels; the bound only keeps a hostile tree from using up
 * fds and stack. */
#define CGNS_MAX_DEPTH 64

/* Does cgroup.procs of the cgroup at cgfd list pid? 1, 0, or a negative
 * errno. */
static int holds_pid(int cgfd, pid_t pid) {
        pid_t *pids = NULL;
        size_t n = 0;
        int r = cg_read_pids(cgfd, &pids, &n), found = 0;

        if (r < 0)
                return r;
        for (size_t i = 0; i < n && !found; i++)
                found = pids[i] == pid;
        free(pids);
        return found;
}

/* find_pid's walk (cgroup/walk.h). */
typedef struct pid_search {
        pid_t pid;
        char *path;
        size_t size;
} pid_search;

static int find_visit(void *userdata, int cgfd, const char *rel, unsigned depth) {
        pid_search *ps = userdata;

        if (holds_pid(cgfd, ps->pid) <= 0)
                return CG_WALK_DESCEND;
        /* "/a/b" as /proc shows paths; "" for the root. */
        if ((size_t)snprintf(ps->path, ps->size, "%s%s", *rel ? "/" : "", rel) >= ps->size)
                return CG_WALK_SKIP; /* cannot be named: passed over */
        return CG_WALK_STOP;
}

/* Search the subtree at cgfd for the cgroup whose cgroup.procs lists pid.
 * Returns true with its path ("/a/b", "" for the root) in path. A cgroup
 * that cannot be read (gone while we looked, a threaded one) is passed
 * over: guardian cannot be in it. */
static bool find_pid(int cgfd, pid_t pid, char *path, size_t size) {
        pid_search ps = {.pid = pid, .path = path, .size = size};
        const cg_walk_visitor v = {.visit = find_visit, .userdata = &ps,
                                   .max_depth = CGNS_MAX_DEPTH};

        return cg_walk(cgfd, "", 0, &v) == CG_WALK_STOP;
}

/* Does the tree's cgroup at ns_path (as /proc/self/cgroup shows it) hold
 * pid? 1, 0 (also when there is no such cgroup, or the path climbs with
 * ".."), or a negative errno when it cannot be told. */
static int tree_cgroup_holds(int rootfd, const char *ns_path, pid_t pid) {
        char rel[PATH_MAX];
        int fd, r;

        if (cg_path_normalize(NULL, ns_path, rel, sizeof(rel)) < 0)
                return 0; /* "/.." and the like: above the namespace root */
        fd = openat(rootfd, *rel ? rel : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
        r = holds_pid(fd, pid);
        close(fd);
        return r == -ENOENT ? 0 : r;
}

void gd_cgns_detect(int rootfd, int procfd, const char *tree_path, gd_cgns *ret_ns,
                    char *ret_self, size_t size) {
        char ns_self[PATH_MAX], found[PATH_MAX];
        pid_t pid = getpid();
        int r;

        memset(ret_ns, 0, sizeof(*ret_ns));
        snprintf(ret_self, size, "/");
        if (proc_read_cgroup(procfd, pid, ns_self, sizeof(ns_self)) < 0)
                return; /* no cgroup v2 line: nothing to protect or place */

        r = tree_cgroup_holds(rootfd, ns_self, pid);
        if (r != 0) {
                /* Found where /proc says (the normal case), or it cannot be
                 * told (cgroup.procs unreadable): /proc's paths as they are. */
                if (r < 0)
                        gd_log(GD_LOG_DEBUG, "cannot check guardian's cgroup {cgroup} in {tree}: {error}",
                               GD_STR("cgroup", ns_self), GD_STR("tree", tree_path),
                               GD_ERRNO(-r));
                snprintf(ret_self, size, "%s", ns_self);
                return;
        }

        ret_ns->private_ns = true;
        found[0] = '\0';
        if (!find_pid(rootfd, pid, found, sizeof(found))) {
                ret_ns->unknown = true;
                gd_log(GD_LOG_WARNING,
                       "guardian (pid {pid}) is in no cgroup under {tree}, yet /proc/self/cgroup "
                       "says {proc_cgroup}: a private cgroup namespace (or a --cgroup-root that does not hold "
                       "guardian) whose root cannot be placed in the tree; guardian will not "
                       "kill single processes (it cannot tell which cgroup they are in), only "
                       "whole cgroups, and does not know its own cgroup",
                       GD_INT("pid", pid), GD_STR("tree", tree_path),
                       GD_STR("proc_cgroup", ns_self));
                return;
        }
        if (!*found)
                snprintf(found, sizeof(found), "/");
        snprintf(ret_self, size, "%s", found);
        r = cg_ns_root_from(found, ns_self, ret_ns->root, sizeof(ret_ns->root));
        if (r < 0) {
                ret_ns->unknown = true;
                ret_ns->root[0] = '\0';
                gd_log(GD_LOG_WARNING,
                       "private cgroup namespace: guardian's own cgroup is {cgroup} in {tree}, "
                       "but /proc/self/cgroup says {proc_cgroup}, which does not end it: the namespace's "
                       "root cannot be placed in the tree; guardian will not kill single "
                       "processes, only whole cgroups",
                       GD_STR("cgroup", found), GD_STR("tree", tree_path),
                       GD_STR("proc_cgroup", ns_self));
                return;
        }
        gd_log(GD_LOG_NOTICE,
               "private cgroup namespace: guardian's own cgroup is {cgroup} in {tree} "
               "(/proc/self/cgroup says {proc_cgroup}); the namespace's root is {ns_root} there, "
               "and every /proc/PID/cgroup path is read relative to it",
               GD_STR("cgroup", found), GD_STR("tree", tree_path), GD_STR("proc_cgroup", ns_self),
               GD_STR("ns_root", ret_ns->root));
}
