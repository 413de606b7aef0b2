/* `guardian rank CGROUP`: the processes of one cgroup, ranked the way the
 * kernel's memcg OOM killer would rank them. */
#pragma once

#include <stdio.h>

#include "guardian/badness.h"
#include "guardian/snapshot.h"

/* One process as the badness functions want it. Pure. */
gd_candidate gd_candidate_of(const proc_info *p, size_t scan_order);

/* Build candidates from a snapshot and rank them (pure). Returns a malloc'd
 * array of snap->n_procs candidates, cands[i].scan_order indexing back into
 * snap->procs; NULL on allocation failure (or when there are no processes,
 * with *ret_killable = 0). */
gd_candidate *gd_rank_snapshot(const gd_snapshot *snap, size_t *ret_killable);

/* Print a ranking as a table or as JSON. */
void gd_rank_print_table(FILE *out, const gd_snapshot *snap, const gd_candidate *cands);
void gd_rank_print_json(FILE *out, const gd_snapshot *snap, const gd_candidate *cands);

/* The command: parses its own options. Returns the process exit status. */
int gd_cmd_rank(int argc, char **argv);
