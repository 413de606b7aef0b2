/* Snapshot of one cgroup subtree for scoring: its processes as /proc shows
 * them, in the order the kernel's memcg OOM walk visits them, and the
 * limit the kernel would scale oom_score_adj by. Reads only; the decision
 * is made afterwards by pure functions on this data. */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proc/proc.h"

/* Levels walked below the cgroup scanned: deep enough for any real
 * hierarchy (systemd + kubelet nest ~6 levels); a deeper tree is cut
 * rather than recursed without bound, and the cut counts as unreadable
 * (-ELOOP), as does a cgroup whose path passes PATH_MAX (-ENAMETOOLONG). */
#define GD_SNAPSHOT_MAX_DEPTH 64

typedef struct gd_proc_entry {
        proc_info info;
        size_t scan_order;
        size_t cgroup_index; /* into gd_snapshot.cgroups */
} gd_proc_entry;

typedef struct gd_snapshot {
        char cgroup[PATH_MAX];       /* the subtree scanned, relative to the root */
        uint64_t page_size;
        /* The limit in force: the tightest memory.max on the path from the
         * cgroup to the root. limit_cgroup is where it was found; with no
         * limit at all (or no memory controller) host_limit is set and
         * totalpages is RAM + swap. */
        bool host_limit;
        char limit_cgroup[PATH_MAX];
        uint64_t memory_max_bytes;   /* UINT64_MAX with host_limit */
        uint64_t swap_max_bytes;     /* UINT64_MAX when unset or unknown */
        uint64_t total_swap_pages;
        int swappiness;
        uint64_t totalpages;
        gd_proc_entry *procs;
        size_t n_procs;
        char **cgroups;              /* every cgroup walked, relative to the root */
        uint64_t *cgroup_currents;   /* their memory.current, UINT64_MAX if unknown */
        size_t n_cgroups;
        bool has_memory;             /* memory.* files were read */
        size_t n_gone;               /* listed, then vanished before we read them: normal */
        size_t n_unreadable;         /* present but not readable, not parseable, or cut */
        int first_unreadable_error;  /* negative errno of the first of those */
} gd_snapshot;

/* Take a snapshot of the cgroup rel (relative path, "" for the root) below
 * rootfd, reading processes from procfd. has_memory says whether the v2
 * hierarchy has the memory controller (without it, limits are the host's).
 * Returns 0, -ENOENT if the cgroup does not exist, -ENOMEM, or the negative
 * errno of a read that makes the snapshot meaningless (meminfo). Processes
 * and child cgroups that vanish mid-scan are skipped and counted. */
int gd_snapshot_take(int rootfd, int procfd, const char *rel, bool has_memory,
                     uint64_t page_size, gd_snapshot *ret_snap);

/* Release what gd_snapshot_take() allocated; safe on a zeroed struct. */
void gd_snapshot_free(gd_snapshot *snap);

/* The limit the kernel scales oom_score_adj by, from what the readers read
 * (pure; here because the snapshot fills totalpages with it). */
/* mem_cgroup_get_max() on cgroup v2 for the memcg that runs out:
 * memory.max plus, when vm.swappiness != 0, min(memory.swap.max, total swap).
 * Sizes in pages; CG_UNLIMITED-style UINT64_MAX is accepted for swap_max.
 * Returns at least 1 (the kernel uses "?: 1"). */
uint64_t gd_totalpages_memcg(uint64_t memory_max_pages, uint64_t swap_max_pages,
                             uint64_t total_swap_pages, int swappiness);

/* No memcg limit anywhere above: the global OOM's totalram + total swap. */
uint64_t gd_totalpages_host(uint64_t ram_pages, uint64_t swap_pages);
