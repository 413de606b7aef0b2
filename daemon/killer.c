/* The kill path's outcomes, said once each: act/kill.c chooses, kills and
 * follows the victim and returns what it did; here the daemon logs it,
 * writes its audit record, counts it, sends its hooks, and at a kill's end
 * teaches decide how it went. Also the notify action, which acts on
 * nothing. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cgroup/cgroup.h"
#include "daemon/state.h"
#include "util/log.h"

void gd_daemon_kill_env(const gd_daemon *d, gd_kill_env *ret) {
        *ret = (gd_kill_env){
                .rootfd = d->host.rootfd,
                .procfd = d->host.procfd,
                .epfd = d->epfd,
                .has_memory = d->host.root.has_memory,
                .page_size = d->host.page_size,
                .ns_root = d->cgns.root,
                .ns_unknown = d->cgns.unknown,
                .self_cgroup = d->self_cgroup,
                .policy = d->policy,
                .dry_run = d->dry_run,
                .reaper = d->reaper,
                .ids = d->kill_ids,
        };
}

static const char *slash(const char *rel) {
        return *rel ? rel : "/";
}

/* Send the policy's pre-kill hook (done NULL) or post-kill hook (done:
 * the audit record of how it ended) for p (pid 0: a cgroup kill) to the
 * hook runner. Never blocks. */
static void kill_hook(gd_daemon *d, const gd_inflight *p, gd_hook_event event,
                      const gd_audit_record *done, uint64_t now) {
        const pol_workload *w = NULL;
        bool killed = done && done->result == GD_RESULT_KILLED;

        if (!d->hooks || !d->policy)
                return;
        for (size_t i = 0; p->workload[0] && i < d->policy->n_workloads; i++)
                if (strcmp(d->policy->workloads[i].name, p->workload) == 0)
                        w = &d->policy->workloads[i];
        gd_hook_info info = {
                .event = event,
                .pid = p->cand.pid,
                .comm = p->comm,
                .cgroup = p->cgroup,
                .workload = p->workload,
                .trigger = gd_trigger_name(p->decision.trigger),
                .reason = p->decision.reason,
                .outcome = done ? gd_audit_result_name(done->result, done->error) : NULL,
                .has_process = p->cand.pid > 0,
                .score = p->cand.points,
                .rss_bytes = p->cand.rss_pages * d->host.page_size,
                .uid = p->uid,
                .dry_run = d->dry_run,
                .kill_latency_ms = p->cand.pid > 0 && killed ? (int64_t)(now - p->kill_ms) : -1,
                .container = &p->container,
        };
        gd_hooks_run(d->hooks, d->policy, w, &info);
}

static void audit_write(gd_daemon *d, const gd_audit_record *rec) {
        gd_stats_record(&d->stats, rec);
        if (!d->audit)
                return;
        int r = gd_audit_write(d->audit, rec);
        if (r < 0)
                gd_log(GD_LOG_ERR, "cannot write the audit record for pid {pid}: {error}, ignoring",
                       GD_INT("pid", rec->pid), GD_ERRNO(-r));
}

/* The audit record of p, which ended as result (error: the negative errno
 * behind a failure, 0 for none). */
static void fill_record(gd_audit_record *rec, const gd_inflight *p, gd_audit_event event,
                        gd_audit_result result, int error, uint64_t page_size) {
        memset(rec, 0, sizeof(*rec));
        rec->time_unix_ms = gd_wall_ms();
        rec->event = event;
        rec->cgroup = p->cgroup;
        rec->container = &p->container;
        rec->workload = p->workload[0] ? p->workload : NULL;
        rec->trigger = gd_trigger_name(p->decision.trigger);
        rec->trigger_value = p->decision.value;
        rec->trigger_threshold = p->decision.threshold;
        rec->sustained_ms = p->decision.sustained_ms;
        rec->reason = p->decision.reason;
        rec->pid = p->cand.pid;
        rec->comm = p->comm;
        rec->cmdline = p->cmdline;
        rec->uid = p->uid;
        rec->start_time = p->start_time;
        rec->score = p->cand.points;
        rec->rss_pages = p->cand.rss_pages;
        rec->pte_pages = p->cand.pte_pages;
        rec->swap_pages = p->cand.swap_pages;
        rec->oom_score_adj = p->cand.oom_score_adj;
        rec->totalpages = p->totalpages;
        rec->page_size = page_size;
        rec->memory_before = p->memory_before;
        rec->trigger_to_kill_ms = (int64_t)(p->kill_ms - p->trigger_ms);
        rec->trigger_to_death_ms = -1;
        rec->result = result;
        rec->error = error;
}

/* The container's image as a log line names it, "-" when unknown. */
static const char *container_image(const gd_container_names *c) {
        return c->runtime != POL_RUNTIME_ANY && c->image[0] ? c->image : "-";
}

static void log_kill(const char *what, const gd_inflight *p, const char *result) {
        gd_log(GD_LOG_WARNING, what, GD_STR("cgroup", slash(p->cgroup)),
               GD_STR("workload", p->workload[0] ? p->workload : "-"), GD_INT("pid", p->cand.pid),
               GD_STR("comm", p->comm), GD_INT("score", p->cand.points),
               GD_UINT("rss_pages", p->cand.rss_pages),
               GD_INT("oom_score_adj", p->cand.oom_score_adj),
               GD_STR("trigger", gd_trigger_name(p->decision.trigger)),
               GD_DBL("value", p->decision.value), GD_DBL("threshold", p->decision.threshold),
               GD_STR("result", result), GD_STR("reason", p->decision.reason),
               GD_STR("container", gd_ident_word(&p->container)),
               GD_STR("image", container_image(&p->container)));
}

/* Why a victim could not be opened or signalled (r, a negative errno),
 * as its audit record says it. */
static gd_audit_result victim_failure(int r) {
        switch (r) {
        case -ESRCH: return GD_RESULT_GONE;
        case -ESTALE: return GD_RESULT_PID_REUSED;
        case -EXDEV: return GD_RESULT_MOVED;
        case -EREMOTE: return GD_RESULT_CGROUPNS_UNKNOWN;
        default: return GD_RESULT_ERRNO;
        }
}

/* What stopped the kill path short of a victim (o->target NONE). */
static void say_no_kill(const gd_kill_outcome *o, const char *rel, const gd_decision *dec) {
        switch (o->why) {
        case GD_WHY_SNAPSHOT:
                if (!cg_is_gone(o->err))
                        gd_log(GD_LOG_ERR, "cannot read cgroup={cgroup} to pick a victim: "
                                           "{error}, ignoring",
                               GD_STR("cgroup", slash(rel)), GD_ERRNO(-o->err));
                break;
        case GD_WHY_UNREADABLE:
                gd_log(GD_LOG_WARNING, "not killing in cgroup={cgroup}: {unreadable} candidates "
                                       "could not be read ({error}); a kill is made on a "
                                       "complete set only, leaving it to the kernel",
                       GD_STR("cgroup", slash(rel)), GD_UINT("unreadable", o->value),
                       GD_ERRNO(-o->err));
                break;
        case GD_WHY_DYING:
                if (o->dying.first)
                        gd_log(GD_LOG_NOTICE, "cgroup={cgroup}: pid={pid} comm={comm} is "
                                              "already exiting with {rss_pages} pages; waiting "
                                              "for its memory, no second kill",
                               GD_STR("cgroup", slash(rel)), GD_INT("pid", o->dying.pid),
                               GD_STR("comm", o->dying.comm),
                               GD_UINT("rss_pages", o->dying.rss_pages));
                break;
        case GD_WHY_FELL:
                gd_log(GD_LOG_INFO, "cgroup={cgroup}: memory.current fell to {current} since "
                                    "the decision; no kill",
                       GD_STR("cgroup", slash(rel)), GD_UINT("current", o->value));
                break;
        case GD_WHY_KERNEL_KILLED:
                gd_log(GD_LOG_NOTICE, "cgroup={cgroup}: the kernel's OOM killer took a process "
                                      "since the decision; waiting for its memory, no second "
                                      "kill",
                       GD_STR("cgroup", slash(rel)));
                break;
        case GD_WHY_NOTHING:
                gd_log(GD_LOG_WARNING, "cgroup={cgroup} is in trouble ({reason}) but has "
                                       "nothing guardian may kill",
                       GD_STR("cgroup", slash(rel)), GD_STR("reason", dec->reason));
                break;
        case GD_WHY_IDENT_PENDING:
                gd_log(GD_LOG_WARNING, "not killing in cgroup={cgroup}: the worst process, pid "
                                       "{pid}, is in a container whose identity is still being "
                                       "read, and the policy names containers; leaving it to "
                                       "the kernel",
                       GD_STR("cgroup", slash(rel)), GD_UINT("pid", o->value));
                break;
        case GD_WHY_TABLE_FULL:
                gd_log(GD_LOG_WARNING, "{in_flight} kills already in flight, ignoring "
                                       "cgroup={cgroup} for now",
                       GD_INT("in_flight", GD_MAX_PENDING), GD_STR("cgroup", slash(rel)));
                break;
        default:
                break;
        }
}

/* Why a cgroup was not killed whole (its worst other process instead),
 * by gd_kill_shelter: names {cgroup}, and {pid} and {comm} where the
 * outcome has them. */
static const char *const shelter_msg[] = {
        [GD_SHELTER_PROTECTED] = "not killing cgroup={cgroup} whole: guardian or init.scope is "
                                 "in it; its worst other process instead",
        [GD_SHELTER_UNREADABLE] = "not killing cgroup={cgroup} whole: its processes could not "
                                  "all be read; its worst other process instead",
        [GD_SHELTER_NO_MEMORY] = "not killing cgroup={cgroup} whole: out of memory ranking it; "
                                 "its worst other process instead",
        [GD_SHELTER_NEVER] = "not killing cgroup={cgroup} whole: pid {pid} comm={comm} is "
                             "protected (never); its worst other process instead",
        [GD_SHELTER_ADJ_MIN] = "not killing cgroup={cgroup} whole: pid {pid} comm={comm} is "
                               "oom_score_adj -1000; its worst other process instead",
        [GD_SHELTER_IDENT_PENDING] = "not killing cgroup={cgroup} whole: a container's identity "
                                     "in it is still being read; its worst other process "
                                     "instead",
        [GD_SHELTER_NEVER_VICTIM] = "not killing cgroup={cgroup} whole: pid {pid} is guardian, "
                                    "pid 1 or in the root cgroup; its worst other process "
                                    "instead",
};

static void say_shelter(const gd_kill_outcome *o, const char *rel) {
        size_t n = sizeof(shelter_msg) / sizeof(shelter_msg[0]);
        const char *msg = o->shelter == GD_SHELTER_NONE || (size_t)o->shelter >= n
                                  ? NULL
                                  : shelter_msg[o->shelter];
        if (!msg)
                return;
        if (o->shelter_comm[0])
                gd_log(GD_LOG_WARNING, msg, GD_STR("cgroup", rel), GD_INT("pid", o->shelter_pid),
                       GD_STR("comm", o->shelter_comm));
        else if (o->shelter_pid)
                gd_log(GD_LOG_WARNING, msg, GD_STR("cgroup", rel), GD_INT("pid", o->shelter_pid));
        else
                gd_log(GD_LOG_WARNING, msg, GD_STR("cgroup", rel));
}

/* A process acted on: dry run, signalled (in flight) or failed. */
static void say_process(gd_daemon *d, const gd_kill_outcome *o, uint64_t now) {
        const gd_inflight *p = &o->victim;
        gd_audit_record rec;

        /* Told, not waited for: the kill went on at once. */
        kill_hook(d, p, GD_HOOK_PRE_KILL, NULL, now);
        if (o->dry_run) {
                fill_record(&rec, p, GD_EVENT_WOULD_KILL, GD_RESULT_DRY_RUN, 0, d->host.page_size);
                audit_write(d, &rec);
                log_kill("would kill", p, gd_audit_result_name(rec.result, rec.error));
        } else if (o->result == GD_KILL_FAILED) {
                fill_record(&rec, p, GD_EVENT_KILL_FAILED, victim_failure(o->err), o->err,
                            d->host.page_size);
                audit_write(d, &rec);
                log_kill("kill failed", p, gd_audit_result_name(rec.result, rec.error));
                kill_hook(d, p, GD_HOOK_POST_KILL, &rec, now);
        } else if (o->in_flight && o->in_flight->news.reaper_full) {
                o->in_flight->news.reaper_full = false;
                gd_log(GD_LOG_DEBUG, "reaper queue full: pid {pid} exits without early release",
                       GD_INT("pid", p->cand.pid));
        }
}

/* A cgroup killed whole (or not, or in a dry run). */
static void say_cgroup(gd_daemon *d, const gd_kill_outcome *o, uint64_t now) {
        const gd_inflight *p = &o->victim;
        gd_audit_record rec;

        kill_hook(d, p, GD_HOOK_PRE_KILL, NULL, now);
        fill_record(&rec, p, o->dry_run ? GD_EVENT_WOULD_KILL_CGROUP : GD_EVENT_KILL_CGROUP,
                    o->dry_run ? GD_RESULT_DRY_RUN
                               : o->err == 0 ? GD_RESULT_KILLED : GD_RESULT_ERRNO,
                    o->err, d->host.page_size);
        if (!o->dry_run)
                kill_hook(d, p, GD_HOOK_POST_KILL, &rec, now);
        audit_write(d, &rec);
        gd_log(GD_LOG_WARNING, o->dry_run ? "would kill cgroup"
                               : o->err ? "cgroup kill failed" : "killed cgroup",
               GD_STR("cgroup", p->cgroup), GD_STR("workload", p->workload[0] ? p->workload : "-"),
               GD_STR("trigger", gd_trigger_name(p->decision.trigger)),
               GD_STR("result", gd_audit_result_name(rec.result, rec.error)),
               GD_STR("reason", p->decision.reason),
               GD_STR("container", gd_ident_word(&p->container)),
               GD_STR("image", container_image(&p->container)));
}

/* Say what the kill path did (o, for dec in rel's subtree; c the watched
 * cgroup or NULL): the log lines, and for a victim acted on its audit
 * record, statistics and hooks; marks c while its kill is in flight. */
static void say(gd_daemon *d, gd_watched *c, const char *rel, const gd_decision *dec,
                const gd_kill_outcome *o, uint64_t now) {
        say_shelter(o, c ? c->rel : rel);
        if (o->dying.gave_up)
                gd_log(GD_LOG_WARNING, "cgroup={cgroup}: pid={pid} comm={comm} still exiting "
                                       "after {wait_s} s; no longer waiting for it",
                       GD_STR("cgroup", slash(rel)), GD_INT("pid", o->dying.pid),
                       GD_STR("comm", o->dying.comm), GD_INT("wait_s", GD_KILL_DYING_WAIT_MS / 1000));
        size_t said = o->n_forfeited < GD_KILL_FORFEITS_MAX ? o->n_forfeited
                                                            : GD_KILL_FORFEITS_MAX;
        for (size_t i = 0; i < said; i++)
                gd_log(GD_LOG_WARNING, "pid {pid}: {why}", GD_INT("pid", o->forfeited[i].pid),
                       GD_STR("why", o->forfeited[i].why));
        if (o->n_forfeited > said)
                gd_log(GD_LOG_WARNING, "{more} more processes forfeited their protection",
                       GD_UINT("more", o->n_forfeited - said));
        if (o->target == GD_TARGET_PROCESS)
                say_process(d, o, now);
        else if (o->target == GD_TARGET_CGROUP)
                say_cgroup(d, o, now);
        else
                say_no_kill(o, rel, dec);
        if (c && o->result == GD_KILL_STARTED)
                c->kill_pending = true;
        if (c && o->target == GD_TARGET_CGROUP)
                c->trouble_since_ms = 0;
}

gd_kill_result gd_daemon_kill(gd_daemon *d, gd_watched *c, const char *rel,
                              const pol_workload *w, pol_action action, const gd_decision *dec,
                              uint64_t trigger_ms, uint64_t memory_before, uint64_t now) {
        gd_kill_env env;
        gd_kill_outcome o;
        gd_kill_request req = {
                .c = c,
                .rel = rel,
                .dec = dec,
                .workload = w,
                .trigger_ms = trigger_ms,
                .memory_before = memory_before,
                .owner = c ? gd_tag(GD_TAG_EVENTS, (uint32_t)(c - d->watch.slots), c->generation)
                           : GD_KILL_OWNER_HOST,
        };

        gd_daemon_kill_env(d, &env);
        if (c && action == POL_ACTION_KILL_CGROUP)
                gd_kill_cgroup(&d->kills, &env, &req, now, &o);
        else
                gd_kill_worst(&d->kills, &env, &req, now, &o);
        say(d, c, rel, dec, &o, now);
        return o.result;
}

gd_kill_result gd_notify(gd_daemon *d, gd_watched *c, const pol_workload *w,
                         const gd_decision *dec, uint64_t memory_before, uint64_t now) {
        gd_inflight p;
        gd_audit_record rec;

        memset(&p, 0, sizeof(p));
        snprintf(p.cgroup, sizeof(p.cgroup), "%s", c->rel);
        if (w)
                snprintf(p.workload, sizeof(p.workload), "%s", w->name);
        p.decision = *dec;
        p.trigger_ms = c->trouble_since_ms ? c->trouble_since_ms : now;
        p.kill_ms = now;
        p.memory_before = memory_before;
        fill_record(&rec, &p, GD_EVENT_NOTIFY, GD_RESULT_NOTIFIED, 0, d->host.page_size);
        audit_write(d, &rec);
        gd_log(GD_LOG_WARNING, "notify", GD_STR("cgroup", c->rel),
               GD_STR("workload", w ? w->name : "-"),
               GD_STR("trigger", gd_trigger_name(dec->trigger)), GD_STR("reason", dec->reason));
        c->trouble_since_ms = 0;
        return GD_KILL_DONE;
}

/* The kill's end teaches decide: the cgroup it answers for (if still
 * watched), or the host. */
static void learn_end(gd_daemon *d, const gd_inflight *p, gd_watched *c, bool success,
                      uint64_t now) {
        gd_thresholds t;

        if (c) {
                gd_thresholds_for(d, gd_watch_workload(&d->watch, c, d->policy), &t);
                gd_decide_record(&t, &c->state, success, now);
                c->kill_pending = false;
                c->trouble_since_ms = 0;
        } else if (p->owner == GD_KILL_OWNER_HOST) {
                gd_thresholds_for(d, NULL, &t);
                gd_decide_record(&t, &d->host_state, success, now);
        }
}

static gd_audit_result end_result(gd_kill_end how) {
        switch (how) {
        case GD_END_EXITED: return GD_RESULT_KILLED;
        case GD_END_TIMEOUT: return GD_RESULT_TIMEOUT;
        default: return GD_RESULT_UNFINISHED;
        }
}

void gd_finish_pending(gd_daemon *d, gd_inflight *p, gd_kill_end how, uint64_t now) {
        gd_audit_record rec;
        gd_kill_env env;
        gd_watched *c = p->owner == GD_KILL_OWNER_HOST ? NULL : gd_watch_lookup(&d->watch, p->owner);
        bool killed = how == GD_END_EXITED;
        uint64_t at = p->end != GD_END_NONE ? p->end_ms : now;

        fill_record(&rec, p, GD_EVENT_KILL, end_result(how), 0, d->host.page_size);
        if (killed)
                rec.trigger_to_death_ms = (int64_t)(at - p->trigger_ms);
        if (c && c->current_fd >= 0) {
                char buf[64];
                ssize_t n = cg_pread_file(c->current_fd, buf, sizeof(buf));
                uint64_t after;
                if (n >= 0 && cg_parse_u64_or_max(buf, (size_t)n, &after) == 0)
                        rec.memory_after = after;
        }
        audit_write(d, &rec);
        /* "killed" only for an exit seen: a timeout or a kill left at
         * shutdown says so. */
        log_kill(killed ? "killed" : "kill unconfirmed", p, gd_audit_result_name(rec.result, 0));
        kill_hook(d, p, GD_HOOK_POST_KILL, &rec, at);
        learn_end(d, p, c, killed, now);
        gd_daemon_kill_env(d, &env);
        gd_kills_release(&env, p);
}

/* Say what a look at the kills in flight found. */
static void say_news(gd_inflight *p) {
        const char *cg = slash(p->cgroup);
        if (p->news.cut_short)
                gd_log(GD_LOG_WARNING, "stopping: pid={pid} cgroup={cgroup} is still in its "
                                       "SIGTERM grace, SIGKILL now",
                       GD_INT("pid", p->cand.pid), GD_STR("cgroup", cg));
        if (p->news.sigkill_error)
                gd_log(GD_LOG_WARNING, "SIGKILL to pid {pid}: {error}", GD_INT("pid", p->cand.pid),
                       GD_ERRNO(-p->news.sigkill_error));
        if (p->news.reaper_full)
                gd_log(GD_LOG_DEBUG, "reaper queue full: pid {pid} exits without early release",
                       GD_INT("pid", p->cand.pid));
        if (p->news.slow)
                gd_log(GD_LOG_WARNING, "pid={pid} cgroup={cgroup} still exiting {slow_s}s "
                                       "after SIGKILL, waiting",
                       GD_INT("pid", p->cand.pid), GD_STR("cgroup", cg),
                       GD_INT("slow_s", GD_KILL_SLOW_MS / 1000));
        memset(&p->news, 0, sizeof(p->news));
}

/* Say every kill's news, and close out the ones that ended. */
static void close_out(gd_daemon *d, uint64_t now) {
        for (size_t i = 0; i < GD_MAX_PENDING; i++) {
                gd_inflight *p = &d->kills.slot[i];
                if (!p->used)
                        continue;
                say_news(p);
                if (p->end != GD_END_NONE)
                        gd_finish_pending(d, p, p->end, now);
        }
}

bool gd_pending_tick(gd_daemon *d, uint64_t now) {
        gd_kill_env env;

        gd_daemon_kill_env(d, &env);
        gd_kills_tick(&d->kills, &env, now);
        close_out(d, now);
        return gd_kills_any(&d->kills);
}

void gd_pending_shutdown(gd_daemon *d, uint64_t wait_ms) {
        gd_kill_env env;

        gd_daemon_kill_env(d, &env);
        gd_kills_cut_graces(&d->kills, &env, gd_now_ms());
        for (size_t i = 0; i < GD_MAX_PENDING; i++)
                if (d->kills.slot[i].used)
                        say_news(&d->kills.slot[i]);
        gd_kills_wait(&d->kills, wait_ms);
        close_out(d, gd_now_ms());
}
