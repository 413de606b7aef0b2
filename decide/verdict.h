/* A policy's verdict on a ranking: the kernel's badness, adjusted by what
 * the operator said about each workload. Pure: a snapshot and a policy in,
 * an ordered list of verdicts out.
 *
 *   protect: never  the process is never chosen, unless its cgroup's
 *                   memory.current is above the workload's budget: then the
 *                   protection is forfeited (and the verdict says so);
 *   protect: avoid  positive points are divided by GD_AVOID_DIVISOR (same
 *                   forfeit rule);
 *   score_adj       added like oom_score_adj: score_adj * (totalpages / 1000);
 *   trust_oom_score_adj: false   a positive oom_score_adj the workload
 *                   carries counts as 0 in guardian's ranking; a negative
 *                   one still counts (a job cannot lower its own without
 *                   CAP_SYS_RESOURCE).
 *   oom_score_adj -1000, pid 1, kernel threads and processes without an mm
 *                   are never choosable, whatever the policy: guardian never
 *                   kills what the kernel itself never would. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decide/badness.h"
#include "proc/snapshot.h"
#include "policy/ident.h"
#include "policy/policy.h"

/* "avoid" ranks a process as if it were ten times smaller: it still goes
 * first when everything else is tiny, but loses every close call. */
#define GD_AVOID_DIVISOR 10

/* Where a ranking finds the container identity of a snapshot's cgroup
 * (the identity match keys need it): of(ctx, cgroup) returns it, or NULL
 * when none is known; the answer is used before the next call. The
 * caller's (a cache lookup); tests give literals. NULL ids: none known. */
typedef struct gd_verdict_ids {
        const gd_container_ident *(*of)(void *ctx, const char *cgroup);
        void *ctx;
} gd_verdict_ids;

typedef struct gd_verdict {
        size_t proc;                   /* index into the snapshot's procs */
        const pol_workload *workload;  /* NULL: no workload matched */
        bool killable;                 /* the kernel would consider it */
        bool protected_never;          /* excluded by "never" */
        bool forfeited;                /* over budget: protection dropped */
        int64_t kernel_points;         /* oom_badness() as the kernel computes it */
        int64_t points;                /* after the policy */
        char why[320];                 /* which workload and why, or "" */
} gd_verdict;

/* Score every process of snap under policy (NULL: no workloads) and sort:
 * choosable first (killable and not excluded), by points descending, ties
 * to the later in the kernel's scan. Budgets compare with the snapshot's
 * cgroup_currents (UINT64_MAX, or no array: unknown, never exceeded).
 * Identity comes from ids, asked only when the policy has identity keys.
 * Returns a malloc'd array of snap->n_procs verdicts and the
 * number of choosable ones in *ret_choosable; NULL on allocation failure
 * or an empty snapshot. */
gd_verdict *gd_verdict_rank(const gd_snapshot *snap, const pol_policy *policy,
                            const gd_verdict_ids *ids, size_t *ret_choosable);

/* The first process of snap that is already on its way out with its
 * memory (proc_is_dying: exiting, or SIGKILL pending, and an mm still),
 * as the kernel's OOM killer checks before it picks anyone: it waits for
 * that memory rather than take a second victim. Returns true and its index
 * into snap->procs in *ret_proc, false when there is none. Pure. */
bool gd_verdict_dying(const gd_snapshot *snap, size_t *ret_proc);

/* The first process of the ranked snap (verdicts from gd_verdict_rank, n of
 * them) that a whole-cgroup kill must not take: a "never" workload's
 * process under its budget, or one with oom_score_adj -1000 (the kernel's
 * own memory.oom.group kill spares those too). Returns true and its index
 * into verdicts in *ret_verdict, false when the whole cgroup may go. Pure. */
bool gd_verdict_shelters(const gd_snapshot *snap, const gd_verdict *verdicts, size_t n,
                         size_t *ret_verdict);
