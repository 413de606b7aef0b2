/* A ranking of one snapshot the way the kernel's memcg OOM killer ranks it:
 * the candidates built from what /proc showed, then gd_rank. Pure. */
#pragma once

#include "decide/badness.h"
#include "proc/snapshot.h"

/* One process as the badness functions want it. Pure. */
gd_candidate gd_candidate_of(const proc_info *p, size_t scan_order);

/* Build candidates from a snapshot and rank them (pure). Returns a malloc'd
 * array of snap->n_procs candidates, cands[i].scan_order indexing back into
 * snap->procs; NULL on allocation failure (or when there are no processes,
 * with *ret_killable = 0). */
gd_candidate *gd_rank_snapshot(const gd_snapshot *snap, size_t *ret_killable);
