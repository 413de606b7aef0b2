/* From a sample to an outcome: what the daemon does when a watched cgroup
 * or the host may be in trouble. Sample, decide (decide/), route the
 * decision by the workload's action (decide/'s gd_decide_route), then act
 * through the kill path (act/kill.c), whose outcome killer.c says. */
#include "daemon/state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/cgroup.h"
#include "proc/proc.h"
#include "util/log.h"

/* Host memory use from which the tick goes fast. */
#define HOST_HOT_RATIO 0.80
/* The host is squeezed when MemAvailable is under this share of memory
 * (earlyoom's default, which it acts on alone)... */
#define HOST_EXHAUSTION_FREE 0.10
/* ...and at its trend runs out within this long: a host that sits steady
 * as full is not squeezed, one losing 20 MiB/s at 100 MiB free is. */
#define HOST_EXHAUSTION_HORIZON_MS 5000

void gd_thresholds_for(const gd_daemon *d, const pol_workload *w, gd_thresholds *ret) {
        pol_triggers t;

        gd_thresholds_default(ret);
        if (!d->policy)
                return;
        pol_effective_triggers(d->policy, w, &t);
        ret->limit_ratio = t.limit;
        ret->near_limit_ratio = t.near_limit;
        ret->high_sustain_ms = t.high_sustain_ms;
        ret->pressure_some = t.pressure_some;
        ret->pressure_full = t.pressure_full;
        ret->pressure_sustain_ms = t.pressure_sustain_ms;
        ret->cooldown_ms = pol_effective_cooldown_ms(d->policy, w);
}

/* Decide learns how its decision went, once per outcome: done starts the
 * cooldown, a failure the back-off. A kill in flight is learnt at its end
 * (gd_finish_pending), and waiting teaches nothing: the next sample
 * decides afresh. */
static void learn(const gd_thresholds *t, gd_cgroup_state *st, gd_kill_result k, uint64_t now) {
        if (k == GD_KILL_DONE || k == GD_KILL_FAILED)
                gd_decide_record(t, st, k == GD_KILL_DONE, now);
}

void gd_evaluate(gd_daemon *d, gd_watched *c, uint64_t now) {
        gd_sample s;
        int r = gd_watch_sample(&d->watch, c, now, &s);
        if (r < 0) {
                if (cg_is_gone(r))
                        gd_watch_remove(&d->watch, (size_t)(c - d->watch.slots));
                return;
        }
        if (gd_log_enabled(GD_LOG_DEBUG)) {
                /* Which of memory.events, memory.max/high, memory.stat, PSI were read. */
                char ok[5] = {s.events_ok ? '1' : '0', s.memory_ok ? '1' : '0',
                              s.stat_ok ? '1' : '0', s.psi_ok ? '1' : '0', '\0'};
                gd_log(GD_LOG_DEBUG, "sample", GD_STR("cgroup", c->rel), GD_STR("ok", ok),
                       GD_UINT("current", s.current), GD_UINT("max", s.max),
                       GD_UINT("high", s.high), GD_UINT("file", s.file),
                       GD_UINT("events.max", s.events.max), GD_UINT("events.high", s.events.high),
                       GD_UINT("psi.some.total", s.psi.some.total_us),
                       GD_UINT("psi.full.total", s.psi.full.total_us));
        }
        const pol_workload *w = gd_watch_workload(&d->watch, c, d->policy);
        gd_thresholds t;
        gd_thresholds_for(d, w, &t);
        gd_decision dec = gd_decide(&t, &c->state, &s, now);
        bool trouble = c->state.high_rising_since_ms || c->state.pressure_since_ms ||
                       dec.action != POL_ACTION_NONE;
        if (trouble) {
                c->hot_until_ms = now + 10000;
                if (!c->trouble_since_ms)
                        c->trouble_since_ms = now;
        } else if (!c->kill_pending && now >= c->hot_until_ms) {
                c->trouble_since_ms = 0;
        }
        if (dec.action == POL_ACTION_NONE || c->kill_pending)
                return;
        gd_log(GD_LOG_INFO, "decision", GD_STR("cgroup", c->rel),
               GD_STR("action", pol_action_name(dec.action)),
               GD_STR("trigger", gd_trigger_name(dec.trigger)), GD_DBL("value", dec.value),
               GD_DBL("threshold", dec.threshold), GD_UINT("sustained_ms", dec.sustained_ms),
               GD_STR("reason", dec.reason));
        uint64_t trigger_ms = c->trouble_since_ms ? c->trouble_since_ms : now;
        pol_action action = gd_decide_route(dec.action, d->policy ? pol_effective_action(d->policy, w)
                                                                  : POL_ACTION_NONE);
        gd_stats_decision(&d->stats, action);
        gd_kill_result k;
        if (action == POL_ACTION_NOTIFY)
                k = gd_notify(d, c, w, &dec, s.current, now);
        else
                k = gd_daemon_kill(d, c, c->rel, w, action, &dec, trigger_ms, s.current, now);
        learn(&t, &c->state, k, now);
}

void gd_evaluate_host(gd_daemon *d, uint64_t now) {
        char buf[512];
        gd_sample s;

        memset(&s, 0, sizeof(s));
        s.at_ms = now;
        s.max = s.high = CG_UNLIMITED;
        if (d->host_psi_fd >= 0) {
                ssize_t n = cg_pread_file(d->host_psi_fd, buf, sizeof(buf));
                s.psi_ok = n >= 0 && cg_parse_psi(buf, (size_t)n, &s.psi) == 0;
        }
        /* The host as a cgroup whose memory.max is RAM + swap: without swap
         * a squeeze stalls little before the kernel's global OOM, so PSI
         * alone is late; the near-limit test on MemAvailable is not. All of
         * the used memory counts as unreclaimable: MemAvailable already
         * counts what reclaim can free. */
        uint64_t used, total;
        if (proc_read_meminfo_usage(d->host.procfd, d->host.page_size, &used, &total) == 0) {
                s.memory_ok = s.stat_ok = true;
                s.current = used * d->host.page_size;
                s.max = total * d->host.page_size;
                d->host_hot = (double)s.current >= HOST_HOT_RATIO * (double)s.max;
                /* The root's PSI also counts the stalls of cgroups held at
                 * their own memory.high or memory.max: those are theirs to
                 * answer for, not the host's, while the host has memory. */
                if (!d->host_hot)
                        s.psi_ok = false;
        }
        gd_thresholds t;
        gd_thresholds_for(d, NULL, &t);
        t.exhaustion_free_ratio = HOST_EXHAUSTION_FREE;
        t.exhaustion_horizon_ms = HOST_EXHAUSTION_HORIZON_MS;
        gd_decision dec = gd_decide(&t, &d->host_state, &s, now);
        if (dec.action == POL_ACTION_NONE)
                return;
        /* Keep the host's own reading in the reason; say it is the host. */
        char reason[sizeof(dec.reason) + 8];
        snprintf(reason, sizeof(reason), "host: %s", dec.reason);
        snprintf(dec.reason, sizeof(dec.reason), "%.*s", (int)sizeof(dec.reason) - 1, reason);
        dec.trigger = GD_TRIGGER_HOST_PRESSURE;
        if (gd_kills_any(&d->kills))
                return; /* let the kill in flight land first */

        const char *rel = "";
        uint64_t memory_before = 0;
        gd_watched *picked = NULL;
        if (d->host.root.has_memory) {
                gd_kill_env env;
                gd_daemon_kill_env(d, &env);
                gd_blame_candidate *cands = calloc(d->watch.n_slots, sizeof(*cands));
                if (!cands)
                        return;
                for (size_t i = 0; i < d->watch.n_slots; i++) {
                        gd_watched *c = &d->watch.slots[i];
                        if (!c->in_use || !*c->rel || c->current_fd < 0)
                                continue;
                        /* Its usage and growth as of now: a cgroup without a
                         * limit is looked at only every 30 s until the host
                         * is hot, and a fast hog gets from 80% to a decision
                         * within a second (decide/look.h). */
                        gd_watch_light_check(&d->watch, c, now);
                        uint64_t min = 0, low = 0;
                        cg_read_u64_or_max(c->dirfd, "memory.min", &min);
                        cg_read_u64_or_max(c->dirfd, "memory.low", &low);
                        pid_t *pids = NULL;
                        size_t npids = 0;
                        if (cg_read_pids(c->dirfd, &pids, &npids) == 0)
                                free(pids);
                        gd_blame_candidate *b = &cands[i];
                        b->current = c->last_current;
                        b->protection = min > low ? min : low;
                        b->growth = c->growth;
                        /* Cgroups below that are not watched on their own
                         * (depth cap, fd budget) answer to this one: their
                         * processes may be the ones to blame. */
                        b->n_killable = npids + (c->unwatched_below ? 1 : 0);
                        const pol_workload *cw = gd_watch_workload(&d->watch, c, d->policy);
                        b->protected_cgroup = gd_kill_protected_cgroup(&env, c->rel) ||
                                              (cw && cw->protect.mode == POL_PROTECT_NEVER);
                }
                long pick = gd_blame_pick(cands, d->watch.n_slots);
                free(cands);
                if (pick < 0) {
                        /* Only protected cgroups (guardian's own, init.scope,
                         * never-kill workloads) or empty ones are left. The
                         * processes of the root cgroup itself are system
                         * daemons on a host without systemd: killing them
                         * would be the outage. The kernel has the last word. */
                        gd_log(GD_LOG_WARNING, "host under memory pressure ({reason}), but no "
                                               "cgroup guardian may kill is to blame: leaving "
                                               "it to the kernel",
                               GD_STR("reason", dec.reason));
                        learn(&t, &d->host_state, GD_KILL_FAILED, now);
                        return;
                }
                picked = &d->watch.slots[pick];
                rel = picked->rel;
                memory_before = picked->last_current;
        }
        gd_log(GD_LOG_INFO, "decision", GD_STR("cgroup", *rel ? rel : "/"),
               GD_STR("action", "kill-process"), GD_STR("trigger", "host-pressure"),
               GD_DBL("value", dec.value), GD_DBL("threshold", dec.threshold),
               GD_STR("reason", dec.reason));
        /* The blamed cgroup's workload says what to do with it. */
        const pol_workload *pw = picked ? gd_watch_workload(&d->watch, picked, d->policy) : NULL;
        pol_action action = gd_decide_route(dec.action, picked && d->policy
                                                                ? pol_effective_action(d->policy, pw)
                                                                : POL_ACTION_NONE);
        gd_stats_decision(&d->stats, action);
        if (picked && (action == POL_ACTION_NOTIFY || action == POL_ACTION_KILL_CGROUP)) {
                gd_thresholds pt;
                gd_thresholds_for(d, pw, &pt);
                uint64_t since = picked->trouble_since_ms ? picked->trouble_since_ms : now;
                gd_kill_result k = action == POL_ACTION_NOTIFY
                                           ? gd_notify(d, picked, pw, &dec, memory_before, now)
                                           : gd_daemon_kill(d, picked, picked->rel, pw, action,
                                                            &dec, since, memory_before, now);
                /* The cgroup learns its own outcome (a kill in flight at its
                 * end); the host's episode is answered by what was done. */
                learn(&pt, &picked->state, k, now);
                learn(&t, &d->host_state, k == GD_KILL_STARTED ? GD_KILL_DONE : k, now);
                return;
        }
        gd_kill_result k = gd_daemon_kill(d, NULL, rel, NULL, POL_ACTION_KILL_PROCESS, &dec,
                                          now - dec.sustained_ms, memory_before, now);
        learn(&t, &d->host_state, k, now);
}
