#include "decide/badness.h"

#include <stdlib.h>

bool gd_badness(const gd_candidate *c, uint64_t totalpages, int64_t *ret_points) {
        /* oom_unkillable_task(): is_global_init() or PF_KTHREAD. */
        if (c->pid == 1 || c->kthread)
                return false;
        /* find_lock_task_mm() found no thread with an mm. */
        if (!c->has_mm)
                return false;
        if (c->oom_score_adj <= GD_OOM_SCORE_ADJ_MIN)
                return false;

        /* The kernel sums unsigned longs into a long; sizes here are pages
         * of one address space, far below INT64_MAX. */
        int64_t points = (int64_t)(c->rss_pages + c->swap_pages + c->pte_pages);
        /* "adj *= totalpages / 1000": the division comes first, so a limit
         * under 1000 pages makes oom_score_adj count for nothing. */
        int64_t adj = (int64_t)c->oom_score_adj * (int64_t)(totalpages / 1000);
        *ret_points = points + adj;
        return true;
}

static int compare_candidates(const void *a, const void *b) {
        const gd_candidate *x = a, *y = b;

        if (x->killable != y->killable)
                return x->killable ? -1 : 1;
        if (x->killable && x->points != y->points)
                return x->points > y->points ? -1 : 1;
        /* Equal points (or both unkillable): later in the scan first. */
        if (x->scan_order != y->scan_order)
                return x->scan_order > y->scan_order ? -1 : 1;
        return 0;
}

size_t gd_rank(gd_candidate *cands, size_t n, uint64_t totalpages) {
        size_t killable = 0;

        for (size_t i = 0; i < n; i++) {
                int64_t points = 0;
                cands[i].killable = gd_badness(&cands[i], totalpages, &points);
                cands[i].points = cands[i].killable ? points : 0;
                killable += cands[i].killable;
        }
        if (n > 1)
                qsort(cands, n, sizeof(*cands), compare_candidates);
        return killable;
}
