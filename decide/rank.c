#include "decide/rank.h"

#include <stdlib.h>

#include "proc/proc.h"

gd_candidate gd_candidate_of(const proc_info *p, size_t scan_order) {
        return (gd_candidate){
                .pid = p->stat.pid,
                .kthread = proc_is_kthread(&p->stat),
                .has_mm = p->mem.has_mm,
                .oom_score_adj = p->oom_score_adj,
                .rss_pages = p->mem.rss_pages,
                .pte_pages = p->mem.pte_pages,
                .swap_pages = p->mem.swap_pages,
                .scan_order = scan_order,
        };
}

gd_candidate *gd_rank_snapshot(const gd_snapshot *snap, size_t *ret_killable) {
        *ret_killable = 0;
        if (snap->n_procs == 0)
                return NULL;
        gd_candidate *cands = calloc(snap->n_procs, sizeof(*cands));
        if (!cands)
                return NULL;
        for (size_t i = 0; i < snap->n_procs; i++) {
                /* Index into snap->procs; procs are stored in scan order. */
                cands[i] = gd_candidate_of(&snap->procs[i].info, i);
        }
        *ret_killable = gd_rank(cands, snap->n_procs, snap->totalpages);
        return cands;
}
