/* The kernel's OOM badness, scoped to a memory cgroup, as a pure function.
 *
 * Mirrors Linux 6.1 (Debian's 6.1.0-x kernels, the ones the VM tests boot):
 * mm/oom_kill.c oom_badness(), oom_evaluate_task(), constrained_alloc()
 * and mm/memcontrol.c mem_cgroup_get_max(). Since 5.9 oom_badness()
 * returns signed points with no floor; unkillable tasks return LONG_MIN
 * and are never chosen. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* OOM_SCORE_ADJ_MIN: the kernel never picks such a task. */
#define GD_OOM_SCORE_ADJ_MIN (-1000)
#define GD_OOM_SCORE_ADJ_MAX 1000

/* One process as the OOM killer sees it. */
typedef struct gd_candidate {
        pid_t pid;
        bool kthread;       /* PF_KTHREAD */
        bool has_mm;        /* false: zombie or kernel thread, find_lock_task_mm() fails */
        int oom_score_adj;
        uint64_t rss_pages;
        uint64_t pte_pages;
        uint64_t swap_pages;
        size_t scan_order;  /* position in the kernel's walk (pre-order cgroups, cgroup.procs order) */
        /* Filled by gd_rank(). */
        bool killable;
        int64_t points;
} gd_candidate;

/* oom_badness(): returns true and sets *ret_points for a killable task;
 * false (and leaves *ret_points alone) for pid 1, kernel threads, tasks
 * without an mm and oom_score_adj == -1000. */
bool gd_badness(const gd_candidate *c, uint64_t totalpages, int64_t *ret_points);

/* Score every candidate and sort them so that cands[0] is the task the
 * kernel would kill: killable before unkillable, points descending, and
 * on equal points the one later in the scan (oom_evaluate_task() replaces
 * the chosen task when points are equal). Returns the number of killable
 * candidates (0: the kernel would find nothing to kill). */
size_t gd_rank(gd_candidate *cands, size_t n, uint64_t totalpages);
