#include "proc/snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "cgroup/walk.h"

static int append_proc(gd_snapshot *snap, size_t *cap, const gd_proc_entry *e) {
        if (snap->n_procs == *cap) {
                size_t ncap = *cap ? *cap * 2 : 64;
                gd_proc_entry *n = realloc(snap->procs, ncap * sizeof(*n));
                if (!n)
                        return -ENOMEM;
                snap->procs = n;
                *cap = ncap;
        }
        snap->procs[snap->n_procs++] = *e;
        return 0;
}

static int append_cgroup(gd_snapshot *snap, const char *rel, size_t *ret_index) {
        /* Grown in powers of two; n_cgroups is the fill level. */
        if ((snap->n_cgroups & (snap->n_cgroups - 1)) == 0) {
                size_t ncap = snap->n_cgroups ? snap->n_cgroups * 2 : 8;
                char **n = realloc(snap->cgroups, ncap * sizeof(*n));
                if (!n)
                        return -ENOMEM;
                snap->cgroups = n;
                uint64_t *cur = realloc(snap->cgroup_currents, ncap * sizeof(*cur));
                if (!cur)
                        return -ENOMEM;
                snap->cgroup_currents = cur;
        }
        char *copy = strdup(rel);
        if (!copy)
                return -ENOMEM;
        *ret_index = snap->n_cgroups;
        snap->cgroup_currents[snap->n_cgroups] = UINT64_MAX;
        snap->cgroups[snap->n_cgroups++] = copy;
        return 0;
}

static void note_unreadable(gd_snapshot *snap, int r) {
        if (snap->n_unreadable++ == 0)
                snap->first_unreadable_error = r;
}

/* The snapshot's walk (cgroup/walk.h): the pre-order walk of
 * for_each_mem_cgroup_tree(). */
typedef struct snap_walk {
        gd_snapshot *snap;
        int procfd;
        size_t *cap;
} snap_walk;

static int snap_visit(void *userdata, int cgfd, const char *rel, unsigned depth) {
        snap_walk *sw = userdata;
        gd_snapshot *snap = sw->snap;
        pid_t *pids = NULL;
        size_t n_pids = 0, cgroup_index;
        int r;

        r = cg_read_pids(cgfd, &pids, &n_pids);
        if (cg_is_gone(r))
                return CG_WALK_SKIP;
        if (r < 0) {
                note_unreadable(snap, r);
                return CG_WALK_SKIP;
        }
        r = append_cgroup(snap, rel, &cgroup_index);
        if (r < 0) {
                free(pids);
                return r;
        }
        /* For the policy's budgets; the root has no memory.current. */
        if (snap->has_memory && *rel &&
            cg_read_u64_or_max(cgfd, "memory.current", &snap->cgroup_currents[cgroup_index]) < 0)
                snap->cgroup_currents[cgroup_index] = UINT64_MAX;
        for (size_t i = 0; i < n_pids; i++) {
                gd_proc_entry e;
                memset(&e, 0, sizeof(e));
                r = proc_read_info(sw->procfd, pids[i], snap->page_size, &e.info);
                if (cg_is_gone(r)) {
                        snap->n_gone++;
                        continue;
                }
                if (r < 0) {
                        note_unreadable(snap, r);
                        continue;
                }
                e.scan_order = snap->n_procs + snap->n_gone + snap->n_unreadable;
                e.cgroup_index = cgroup_index;
                r = append_proc(snap, sw->cap, &e);
                if (r < 0) {
                        free(pids);
                        return r;
                }
        }
        free(pids);
        return CG_WALK_DESCEND;
}

/* The kernel walks every level: a subtree left out may hold its victim (a
 * delegated cgroup can nest without bound), so what is cut counts as
 * unread and the set is not complete. Gone is normal. */
static void snap_trouble(void *userdata, cg_walk_trouble what, const char *rel, const char *name,
                         int err) {
        snap_walk *sw = userdata;

        if (what == CG_WALK_TOO_DEEP)
                note_unreadable(sw->snap, -ELOOP);
        else if (!cg_is_gone(err))
                note_unreadable(sw->snap, err);
}

/* Find the tightest memory.max from rel up to (not including) the root,
 * which has no memory.max. Returns 1 and fills the outputs when a limit
 * exists, 0 when none, negative errno when rel itself is gone. */
static int find_limit(int rootfd, const char *rel, char *ret_where, size_t where_size,
                      uint64_t *ret_max, uint64_t *ret_swap_max) {
        char path[PATH_MAX];
        uint64_t best = CG_UNLIMITED, best_swap = CG_UNLIMITED;
        bool found = false;

        if (snprintf(path, sizeof(path), "%s", rel) >= (int)sizeof(path))
                return -ENAMETOOLONG;

        while (*path) {
                int fd = openat(rootfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0)
                        return -errno;
                uint64_t max;
                int r = cg_read_u64_or_max(fd, "memory.max", &max);
                /* On equal limits the nearest one is reported: it is the one
                 * the kernel charges and checks first. */
                if (r == 0 && max != CG_UNLIMITED && (!found || max < best)) {
                        uint64_t swap_max = CG_UNLIMITED;
                        if (cg_read_u64_or_max(fd, "memory.swap.max", &swap_max) < 0)
                                swap_max = CG_UNLIMITED; /* no swap accounting */
                        best = max;
                        best_swap = swap_max;
                        snprintf(ret_where, where_size, "%s", path);
                        found = true;
                }
                close(fd);
                char *slash = strrchr(path, '/');
                if (slash)
                        *slash = '\0';
                else
                        path[0] = '\0';
        }
        if (!found)
                return 0;
        *ret_max = best;
        *ret_swap_max = best_swap;
        return 1;
}

int gd_snapshot_take(int rootfd, int procfd, const char *rel, bool has_memory,
                     uint64_t page_size, gd_snapshot *ret_snap) {
        gd_snapshot snap;
        size_t cap = 0;
        uint64_t ram_pages, swap_pages;
        int r;

        memset(&snap, 0, sizeof(snap));
        if (snprintf(snap.cgroup, sizeof(snap.cgroup), "%s", rel) >= (int)sizeof(snap.cgroup))
                return -ENAMETOOLONG;
        snap.page_size = page_size;
        snap.has_memory = has_memory;

        int cgfd = *rel ? openat(rootfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                        : fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
        if (cgfd < 0)
                return -errno;

        r = proc_read_meminfo(procfd, page_size, &ram_pages, &swap_pages);
        if (r < 0)
                goto fail;
        snap.total_swap_pages = swap_pages;
        if (proc_read_swappiness(procfd, &snap.swappiness) < 0)
                snap.swappiness = 60; /* the kernel's default; only matters with swap */

        snap.host_limit = true;
        snap.memory_max_bytes = CG_UNLIMITED;
        snap.swap_max_bytes = CG_UNLIMITED;
        if (has_memory) {
                uint64_t max = 0, swap_max = 0;
                r = find_limit(rootfd, rel, snap.limit_cgroup, sizeof(snap.limit_cgroup), &max,
                               &swap_max);
                if (r < 0)
                        goto fail;
                if (r > 0) {
                        snap.host_limit = false;
                        snap.memory_max_bytes = max;
                        snap.swap_max_bytes = swap_max;
                }
        }
        snap_walk sw = {.snap = &snap, .procfd = procfd, .cap = &cap};
        const cg_walk_visitor v = {.visit = snap_visit, .trouble = snap_trouble, .userdata = &sw,
                                   .max_depth = GD_SNAPSHOT_MAX_DEPTH};
        r = cg_walk(cgfd, rel, 0, &v);
        if (r < 0)
                goto fail;
        close(cgfd);

        if (snap.host_limit) {
                snap.totalpages = gd_totalpages_host(ram_pages, swap_pages);
        } else {
                uint64_t swap_max_pages = snap.swap_max_bytes == CG_UNLIMITED
                                                  ? UINT64_MAX
                                                  : snap.swap_max_bytes / page_size;
                snap.totalpages = gd_totalpages_memcg(snap.memory_max_bytes / page_size,
                                                      swap_max_pages, swap_pages,
                                                      snap.swappiness);
        }
        *ret_snap = snap;
        return 0;

fail:
        close(cgfd);
        gd_snapshot_free(&snap);
        return r;
}

void gd_snapshot_free(gd_snapshot *snap) {
        free(snap->procs);
        snap->procs = NULL;
        snap->n_procs = 0;
        for (size_t i = 0; i < snap->n_cgroups; i++)
                free(snap->cgroups[i]);
        free(snap->cgroups);
        free(snap->cgroup_currents);
        snap->cgroups = NULL;
        snap->cgroup_currents = NULL;
        snap->n_cgroups = 0;
}

uint64_t gd_totalpages_memcg(uint64_t memory_max_pages, uint64_t swap_max_pages,
                             uint64_t total_swap_pages, int swappiness) {
        uint64_t total = memory_max_pages;

        /* cgroup v2 has no per-cgroup swappiness: mem_cgroup_swappiness()
         * returns the global vm_swappiness there. */
        if (swappiness != 0) {
                uint64_t swap = swap_max_pages < total_swap_pages ? swap_max_pages : total_swap_pages;
                total = total > UINT64_MAX - swap ? UINT64_MAX : total + swap;
        }
        return total ? total : 1;
}

uint64_t gd_totalpages_host(uint64_t ram_pages, uint64_t swap_pages) {
        uint64_t total = ram_pages > UINT64_MAX - swap_pages ? UINT64_MAX : ram_pages + swap_pages;
        return total ? total : 1;
}
