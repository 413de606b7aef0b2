#include "decide/verdict.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decide/rank.h"
#include "policy/match.h"

static int compare_verdicts(const void *a, const void *b) {
        const gd_verdict *x = a, *y = b;
        bool cx = x->killable && !x->protected_never, cy = y->killable && !y->protected_never;

        if (cx != cy)
                return cx ? -1 : 1;
        if (cx && x->points != y->points)
                return x->points > y->points ? -1 : 1;
        /* Later in the scan first, as the kernel breaks ties. */
        return x->proc < y->proc ? 1 : x->proc > y->proc ? -1 : 0;
}

static void verdict_for(gd_verdict *v, const gd_snapshot *snap, const pol_policy *policy,
                        const gd_verdict_ids *ids) {
        const gd_proc_entry *e = &snap->procs[v->proc];
        const proc_info *p = &e->info;
        gd_candidate c = gd_candidate_of(p, v->proc);
        int64_t points = 0;

        v->killable = gd_badness(&c, snap->totalpages, &points);
        v->kernel_points = v->killable ? points : 0;
        v->points = v->kernel_points;
        /* What the kernel would never kill (pid 1, a kernel thread, no mm,
         * oom_score_adj -1000, whoever wrote it) guardian never kills
         * either: no policy makes it choosable. */
        if (!policy || !v->killable)
                return;

        pol_subject subject = {
                .cgroup = snap->cgroups[e->cgroup_index],
                .comm = p->stat.comm,
                .exe = p->exe[0] ? p->exe : NULL,
                .cmdline = p->cmdline,
                .ident = ids && ids->of ? ids->of(ids->ctx, snap->cgroups[e->cgroup_index]) : NULL,
        };
        char why[192] = "";
        const pol_workload *w = pol_find_workload(policy, &subject, why, sizeof(why));
        v->workload = w;
        if (!w)
                return;

        /* guardian's own view of the process: an oom_score_adj the policy
         * wrote is the kernel's protection, expressed to guardian by the
         * protect mode instead; one the workload set itself (to push itself
         * up, or to hide with -999 or -1000) is ignored when it is not
         * trusted. */
        if (w->protect.has_oom_score_adj && c.oom_score_adj == w->protect.oom_score_adj)
                c.oom_score_adj = 0;
        /* Only the push upwards is untrusted: a job cannot lower its own
         * oom_score_adj below what it was given without CAP_SYS_RESOURCE,
         * so a negative value came from whoever started it. */
        if (!w->trust_oom_score_adj && c.oom_score_adj > 0)
                c.oom_score_adj = 0;
        v->killable = gd_badness(&c, snap->totalpages, &points);
        v->points = v->killable ? points : 0;
        if (w->has_score_adj)
                v->points += (int64_t)w->score_adj * (int64_t)(snap->totalpages / 1000);

        uint64_t current = snap->cgroup_currents ? snap->cgroup_currents[e->cgroup_index]
                                                 : UINT64_MAX;
        bool over_budget = w->protect.budget != POL_UNSET && current != UINT64_MAX &&
                           current > w->protect.budget;
        if (w->protect.mode != POL_PROTECT_NONE && over_budget) {
                v->forfeited = true;
        } else if (w->protect.mode == POL_PROTECT_NEVER) {
                v->protected_never = true;
        } else if (w->protect.mode == POL_PROTECT_AVOID && v->points > 0) {
                v->points /= GD_AVOID_DIVISOR;
        }
        snprintf(v->why, sizeof(v->why), "workload %s: %s%s", w->name, why,
                 v->forfeited ? "; protection forfeited: over its budget" : "");
}

gd_verdict *gd_verdict_rank(const gd_snapshot *snap, const pol_policy *policy,
                            const gd_verdict_ids *ids, size_t *ret_choosable) {
        size_t choosable = 0;

        if (snap->n_procs == 0)
                return NULL;
        gd_verdict *v = calloc(snap->n_procs, sizeof(*v));
        if (!v)
                return NULL;
        /* A policy without identity keys costs no lookup. */
        if (!policy || !pol_uses_ident(policy))
                ids = NULL;
        for (size_t i = 0; i < snap->n_procs; i++) {
                v[i].proc = i;
                verdict_for(&v[i], snap, policy, ids);
                choosable += v[i].killable && !v[i].protected_never;
        }
        qsort(v, snap->n_procs, sizeof(*v), compare_verdicts);
        *ret_choosable = choosable;
        return v;
}

bool gd_verdict_dying(const gd_snapshot *snap, size_t *ret_proc) {
        for (size_t i = 0; i < snap->n_procs; i++)
                if (proc_is_dying(&snap->procs[i].info)) {
                        *ret_proc = i;
                        return true;
                }
        return false;
}

bool gd_verdict_shelters(const gd_snapshot *snap, const gd_verdict *verdicts, size_t n,
                         size_t *ret_verdict) {
        for (size_t i = 0; i < n; i++) {
                const proc_info *p = &snap->procs[verdicts[i].proc].info;
                /* protected_never is never set on a forfeited one. */
                if (verdicts[i].protected_never || p->oom_score_adj == GD_OOM_SCORE_ADJ_MIN) {
                        *ret_verdict = i;
                        return true;
                }
        }
        return false;
}
