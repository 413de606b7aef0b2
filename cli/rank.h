/* `guardian rank CGROUP`: the processes of one cgroup, ranked the way the
 * kernel's memcg OOM killer would rank them. */
#pragma once

#include "watch/ident.h"

#include <stdio.h>

#include "decide/badness.h"
#include "proc/snapshot.h"

/* Print a ranking as a table or as JSON. */
void gd_rank_print_table(FILE *out, const gd_snapshot *snap, const gd_candidate *cands,
                         gd_ident_cursor *ids);
void gd_rank_print_json(FILE *out, const gd_snapshot *snap, const gd_candidate *cands,
                        gd_ident_cursor *ids);

/* The command: parses its own options. Returns the process exit status. */
int gd_cmd_rank(int argc, char **argv);
