#include "act/enforce.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "proc/proc.h"
#include "policy/match.h"

static bool has_knobs(const pol_workload *w) {
        return w->protect.memory_min != POL_UNSET || w->protect.memory_low != POL_UNSET ||
               w->protect.memory_high != POL_UNSET;
}

bool gd_enforce_needed(const pol_policy *policy) {
        for (size_t i = 0; policy && i < policy->n_workloads; i++)
                if (has_knobs(&policy->workloads[i]) ||
                    policy->workloads[i].protect.has_oom_score_adj)
                        return true;
        return false;
}

/* Where a pass's writes go. */
typedef struct reporter {
        gd_enforce_report_fn fn;
        void *ctx;
} reporter;

static void say(const reporter *to, const gd_enforce_write *write) {
        if (to->fn)
                to->fn(to->ctx, write);
}

/* Say how a write went and count it: r < 0 is a failure, unless the
 * target vanished since the scan (nothing of ours to set; the next pass
 * looks anew). Returns the writes made (or that would be): 1 or 0. */
static int settle(const reporter *to, gd_enforce_write *out, int r, bool vanished) {
        if (r < 0) {
                if (!vanished) {
                        out->result = GD_ENFORCE_FAILED;
                        out->err = -r;
                        say(to, out);
                }
                return 0;
        }
        say(to, out);
        return 1;
}

static int apply_knob(gd_watched *c, const pol_workload *w, const char *name, uint64_t want,
                      bool dry_run, const reporter *to) {
        uint64_t have;

        if (want == POL_UNSET)
                return 0;
        if (cg_read_u64_or_max(c->dirfd, name, &have) == 0 && have == want)
                return 0;
        gd_enforce_write out = {
                .result = GD_ENFORCE_WOULD_SET, .workload = w->name, .knob = name,
                .cgroup = c->rel, .bytes = want,
        };
        if (dry_run)
                return settle(to, &out, 0, false);
        int r = cg_knob_write(c->rel, name, want);
        if (r == 0)
                out.result = GD_ENFORCE_SET;
        return settle(to, &out, r, cg_is_gone(r));
}

static int apply_knobs(gd_watched *c, const pol_workload *w, bool dry_run, const reporter *to) {
        return apply_knob(c, w, "memory.min", w->protect.memory_min, dry_run, to) +
               apply_knob(c, w, "memory.low", w->protect.memory_low, dry_run, to) +
               apply_knob(c, w, "memory.high", w->protect.memory_high, dry_run, to);
}

int gd_enforce_set_adj(int procfd, pid_t pid, uint64_t start_time, int want) {
        int piddir, have, r;

        r = proc_open_pid(procfd, pid, start_time, &piddir);
        if (r < 0)
                return r;
        /* Read again through the same directory: it is this process's
         * value, and the write below goes to this process too. */
        r = proc_read_oom_score_adj_at(piddir, &have);
        if (r == 0 && have != want) {
                r = proc_write_oom_score_adj_at(piddir, want);
                if (r == 0)
                        r = 1;
        }
        close(piddir);
        return r;
}

static int apply_adj(const gd_host *host, const proc_info *p, const pol_workload *w,
                     bool dry_run, const reporter *to) {
        if (!w->protect.has_oom_score_adj || p->oom_score_adj == w->protect.oom_score_adj)
                return 0;
        gd_enforce_write out = {
                .result = GD_ENFORCE_WOULD_SET, .workload = w->name, .pid = p->stat.pid,
                .adj = w->protect.oom_score_adj,
        };
        if (dry_run)
                return settle(to, &out, 0, false);
        int r = gd_enforce_set_adj(host->procfd, p->stat.pid, p->stat.start_time,
                                   w->protect.oom_score_adj);
        if (r == 0)
                return 0; /* already so */
        if (r > 0)
                out.result = GD_ENFORCE_SET;
        /* -ESRCH, -ESTALE: gone, or its pid taken by another process since the scan. */
        return settle(to, &out, r, r == -ESRCH || r == -ESTALE);
}

int gd_enforce_pass(const gd_host *host, const pol_policy *policy, gd_watch *watch, bool knobs,
                    bool dry_run, gd_enforce_report_fn report, void *ctx) {
        const reporter to = {report, ctx};
        int writes = 0;

        if (!gd_enforce_needed(policy))
                return 0;
        bool uses_ident = pol_uses_ident(policy);
        for (size_t i = 0; i < watch->n_slots; i++) {
                gd_watched *c = &watch->slots[i];
                if (!c->in_use || !*c->rel)
                        continue;
                const pol_workload *cw = gd_watch_workload(watch, c, policy);
                if (cw && knobs && has_knobs(cw))
                        writes += apply_knobs(c, cw, dry_run, &to);

                pid_t *pids = NULL;
                size_t n = 0;
                if (cg_read_pids(c->dirfd, &pids, &n) < 0)
                        continue;
                bool knobs_done = cw && has_knobs(cw);
                /* The cgroup's container, looked up once for its processes. */
                const gd_container_ident *ident =
                        watch->ident_cursor && uses_ident
                                ? gd_ident_cursor_of(watch->ident_cursor, c->rel, NULL)
                                : NULL;
                for (size_t k = 0; k < n; k++) {
                        proc_info p;
                        if (proc_read_info(host->procfd, pids[k], host->page_size, &p) < 0)
                                continue; /* gone, or a kernel thread's oddity */
                        if (proc_is_kthread(&p.stat) || p.stat.pid == 1)
                                continue;
                        pol_subject s = {
                                .cgroup = c->rel,
                                .comm = p.stat.comm,
                                .exe = p.exe[0] ? p.exe : NULL,
                                .cmdline = p.cmdline,
                                .ident = ident,
                        };
                        const pol_workload *w = pol_find_workload(policy, &s, NULL, 0);
                        if (!w)
                                continue;
                        writes += apply_adj(host, &p, w, dry_run, &to);
                        if (knobs && !knobs_done && has_knobs(w)) {
                                writes += apply_knobs(c, w, dry_run, &to);
                                knobs_done = true;
                        }
                }
                free(pids);
        }
        return writes;
}
