/* The kill path of the daemon: choose the victim the policy's ranking
 * names, kill it race-free (SIGTERM first when the workload grants a
 * grace), follow it to its death and write the audit record. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "daemon/daemon_ctx.h"
#include "util/log.h"
#include "util/redact.h"
#include "proc/snapshot.h"
#include "decide/verdict.h"
#include "policy/match.h"

/* Send the policy's pre-kill hook (done NULL) or post-kill hook (done:
 * the audit record of how it ended) for p (pid 0: a cgroup kill) to the
 * hook runner. Never blocks. */
static void kill_hook(daemon_ctx *d, const pending_kill *p, gd_hook_event event,
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
        };
        gd_hooks_run(d->hooks, d->policy, w, &info);
}

void gd_thresholds_for(const daemon_ctx *d, const pol_workload *w, gd_thresholds *ret) {
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

bool gd_cgroup_protected(const daemon_ctx *d, const char *rel) {
        return cg_rel_under(rel, "init.scope") ||
               (d->self_cgroup[1] && cg_rel_under(rel, d->self_cgroup + 1));
}

bool gd_kill_never_victim(const daemon_ctx *d, const gd_snapshot *snap,
                          const gd_proc_entry *e) {
        const char *cg = snap->cgroups[e->cgroup_index];
        return e->info.stat.pid == getpid() || e->info.stat.pid == 1 || !*cg ||
               gd_cgroup_protected(d, cg);
}

static void audit_write(daemon_ctx *d, const gd_audit_record *rec) {
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
static void fill_record(gd_audit_record *rec, const pending_kill *p, gd_audit_event event,
                        gd_audit_result result, int error, uint64_t page_size) {
        memset(rec, 0, sizeof(*rec));
        rec->time_unix_ms = gd_wall_ms();
        rec->event = event;
        rec->cgroup = p->cgroup;
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

static void log_kill(const char *what, const pending_kill *p, const char *result) {
        gd_log(GD_LOG_WARNING, what, GD_STR("cgroup", *p->cgroup ? p->cgroup : "/"),
               GD_STR("workload", p->workload[0] ? p->workload : "-"), GD_INT("pid", p->cand.pid),
               GD_STR("comm", p->comm), GD_INT("score", p->cand.points),
               GD_UINT("rss_pages", p->cand.rss_pages),
               GD_INT("oom_score_adj", p->cand.oom_score_adj),
               GD_STR("trigger", gd_trigger_name(p->decision.trigger)),
               GD_DBL("value", p->decision.value), GD_DBL("threshold", p->decision.threshold),
               GD_STR("result", result), GD_STR("reason", p->decision.reason));
}

static pending_kill *pending_slot(daemon_ctx *d) {
        for (size_t i = 0; i < GD_MAX_PENDING; i++)
                if (!d->pending[i].used)
                        return &d->pending[i];
        return NULL;
}

static void record_outcome(daemon_ctx *d, const pending_kill *p, gd_watched *c, bool success,
                           uint64_t now) {
        gd_thresholds t;

        if (c) {
                gd_thresholds_for(d, gd_watch_workload(&d->watch, c, d->policy), &t);
                gd_decide_record(&t, &c->state, success, now);
                c->kill_pending = false;
                c->trouble_since_ms = 0;
        } else if (p->slot == UINT32_MAX) {
                gd_thresholds_for(d, NULL, &t);
                gd_decide_record(&t, &d->host_state, success, now);
        }
}

void gd_finish_pending(daemon_ctx *d, pending_kill *p, gd_audit_result result, uint64_t now) {
        gd_audit_record rec;
        uint64_t tag = gd_tag(GD_TAG_EVENTS, p->slot, p->generation);
        gd_watched *c = gd_watch_lookup(&d->watch, tag);
        bool killed = result == GD_RESULT_KILLED;

        fill_record(&rec, p, GD_EVENT_KILL, result, 0, d->host.page_size);
        if (killed)
                rec.trigger_to_death_ms = (int64_t)(now - p->trigger_ms);
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
        log_kill(killed ? "killed" : "kill unconfirmed", p, gd_audit_result_name(result, 0));
        kill_hook(d, p, GD_HOOK_POST_KILL, &rec, now);
        record_outcome(d, p, c, killed, now);
        if (p->pidfd >= 0) {
                /* The reaper may hold a dup of this pidfd: epoll forgets a
                 * file only when every fd of it is closed, so say it. */
                epoll_ctl(d->epfd, EPOLL_CTL_DEL, p->pidfd, NULL);
                close(p->pidfd);
        }
        p->pidfd = -1;
        p->used = false;
}

pending_kill *gd_pending_for_tag(pending_kill *pending, size_t n, uint64_t tag) {
        if (gd_tag_kind_of(tag) != GD_TAG_PIDFD || gd_tag_slot(tag) >= n)
                return NULL;
        pending_kill *p = &pending[gd_tag_slot(tag)];
        return p->used && p->tag_generation == gd_tag_generation(tag) ? p : NULL;
}

static void send_sigkill(daemon_ctx *d, pending_kill *p, uint64_t now) {
        int r = gd_act_signal(p->pidfd, SIGKILL);
        p->term_only = false;
        p->deadline_ms = now + GD_KILL_DEADLINE_MS;
        if (r < 0 && r != -ESRCH)
                gd_log(GD_LOG_WARNING, "SIGKILL to pid {pid}: {error}", GD_INT("pid", p->cand.pid),
                       GD_ERRNO(-r));
        if (r == 0 && d->reaper && gd_reaper_submit(d->reaper, p->pidfd) < 0)
                gd_log(GD_LOG_DEBUG, "reaper queue full: pid {pid} exits without early release",
                       GD_INT("pid", p->cand.pid));
}

bool gd_pending_tick(daemon_ctx *d, uint64_t now) {
        bool any = false;

        for (size_t i = 0; i < GD_MAX_PENDING; i++) {
                pending_kill *p = &d->pending[i];
                if (!p->used)
                        continue;
                if (gd_act_exited(p->pidfd) == 1)
                        gd_finish_pending(d, p, GD_RESULT_KILLED, now);
                else if (p->term_only && now >= p->sigkill_at_ms)
                        send_sigkill(d, p, now);
                else if (!p->term_only && now >= p->deadline_ms)
                        gd_finish_pending(d, p, GD_RESULT_TIMEOUT, now);
                else if (!p->term_only && !p->slow_logged &&
                         now + GD_KILL_DEADLINE_MS >= p->deadline_ms + GD_KILL_SLOW_MS) {
                        p->slow_logged = true;
                        gd_log(GD_LOG_WARNING, "pid={pid} cgroup={cgroup} still exiting {slow_s}s "
                                               "after SIGKILL, waiting",
                               GD_INT("pid", p->cand.pid),
                               GD_STR("cgroup", *p->cgroup ? p->cgroup : "/"),
                               GD_INT("slow_s", GD_KILL_SLOW_MS / 1000));
                }
                any = any || p->used;
        }
        return any;
}

void gd_pending_shutdown(daemon_ctx *d, uint64_t wait_ms) {
        struct pollfd fds[GD_MAX_PENDING];
        uint64_t now = gd_now_ms(), until = now + wait_ms;

        for (size_t i = 0; i < GD_MAX_PENDING; i++) {
                pending_kill *p = &d->pending[i];
                if (!p->used || !p->term_only || gd_act_exited(p->pidfd) == 1)
                        continue;
                /* Its grace is cut short: nobody would send the SIGKILL
                 * later, and guardian decided this process must go. */
                gd_log(GD_LOG_WARNING, "stopping: pid={pid} cgroup={cgroup} is still in its "
                                       "SIGTERM grace, SIGKILL now",
                       GD_INT("pid", p->cand.pid), GD_STR("cgroup", *p->cgroup ? p->cgroup : "/"));
                send_sigkill(d, p, now);
        }
        for (;;) {
                nfds_t n = 0;
                now = gd_now_ms();
                for (size_t i = 0; i < GD_MAX_PENDING; i++) {
                        pending_kill *p = &d->pending[i];
                        if (!p->used)
                                continue;
                        int exited = gd_act_exited(p->pidfd);
                        if (exited == 1)
                                gd_finish_pending(d, p, GD_RESULT_KILLED, now);
                        else if (exited < 0) /* cannot be watched: poll would not wait */
                                gd_finish_pending(d, p, GD_RESULT_UNFINISHED, now);
                        else
                                fds[n++] = (struct pollfd){.fd = p->pidfd, .events = POLLIN};
                }
                if (n == 0 || now >= until)
                        break;
                /* Any exit wakes it; EINTR just goes round again. */
                poll(fds, n, (int)(until - now));
        }
        /* Signalled, exit not seen: what happened next is not known. */
        for (size_t i = 0; i < GD_MAX_PENDING; i++)
                if (d->pending[i].used)
                        gd_finish_pending(d, &d->pending[i], GD_RESULT_UNFINISHED, now);
}

/* The process guardian is waiting for (dying with its memory): logged
 * once, and waited for at most DYING_WAIT_MAX_MS, as the kernel's OOM
 * reaper gives up on a victim that does not let go (MMF_OOM_SKIP): a
 * process stuck in its exit must not disarm guardian. */
#define DYING_WAIT_MAX_MS 5000
static struct {
        pid_t pid;
        uint64_t start_time, since_ms;
} waiting;

gd_kill_result gd_kill_preconditions(const gd_watched *c, const char *rel,
                                     const gd_decision *dec, const gd_snapshot *snap,
                                     uint64_t now) {
        size_t dying;

        if (snap->n_unreadable) {
                gd_log(GD_LOG_WARNING, "not killing in cgroup={cgroup}: {unreadable} candidates "
                                       "could not be read ({error}); a kill is made on a "
                                       "complete set only, leaving it to the kernel",
                       GD_STR("cgroup", *rel ? rel : "/"), GD_UINT("unreadable", snap->n_unreadable),
                       GD_ERRNO(-snap->first_unreadable_error));
                return GD_KILL_FAILED;
        }
        if (gd_verdict_dying(snap, &dying)) {
                const proc_info *p = &snap->procs[dying].info;
                if (p->stat.pid != waiting.pid || p->stat.start_time != waiting.start_time) {
                        waiting.pid = p->stat.pid;
                        waiting.start_time = p->stat.start_time;
                        waiting.since_ms = now;
                        gd_log(GD_LOG_NOTICE, "cgroup={cgroup}: pid={pid} comm={comm} is already "
                                              "exiting with {rss_pages} pages; waiting for its "
                                              "memory, no second kill",
                               GD_STR("cgroup", *rel ? rel : "/"), GD_INT("pid", p->stat.pid), GD_STR("comm", p->stat.comm),
                               GD_UINT("rss_pages", p->mem.rss_pages));
                }
                if (now - waiting.since_ms < DYING_WAIT_MAX_MS)
                        return GD_KILL_WAITING;
                if (now - waiting.since_ms - DYING_WAIT_MAX_MS < 1000)
                        gd_log(GD_LOG_WARNING, "cgroup={cgroup}: pid={pid} comm={comm} still "
                                               "exiting after {wait_s} s; no longer waiting for it",
                               GD_STR("cgroup", *rel ? rel : "/"), GD_INT("pid", p->stat.pid), GD_STR("comm", p->stat.comm),
                               GD_INT("wait_s", DYING_WAIT_MAX_MS / 1000));
        }
        uint64_t current = snap->n_cgroups ? snap->cgroup_currents[0] : UINT64_MAX;
        if (c && !gd_decide_still_holds(dec, current, c->max)) {
                gd_log(GD_LOG_INFO, "cgroup={cgroup}: memory.current fell to {current} since the "
                                    "decision; no kill",
                       GD_STR("cgroup", *rel ? rel : "/"), GD_UINT("current", current));
                return GD_KILL_WAITING;
        }
        return GD_KILL_STARTED;
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

/* Has the kernel's OOM killer taken a process in c since the sample the
 * decision was made on? Its victim leaves cgroup.procs as soon as all its
 * threads are exiting, while its memory is still being freed: a snapshot
 * cannot see it dying, memory.current still holds, and the next worst
 * would be a bystander. memory.events counts the kill (oom_kill) at once,
 * so it is read after the snapshot. */
static bool kernel_killed_since(const gd_watched *c, uint64_t now) {
        gd_sample s;

        if (!c || !c->state.have_prev || !c->state.prev.events_ok)
                return false;
        if (gd_watch_read(c, GD_READ_EVENTS, now, &s) < 0 || !s.events_ok)
                return false;
        return s.events.oom_kill > c->state.prev.events.oom_kill;
}

gd_kill_result gd_kill_worst(daemon_ctx *d, gd_watched *c, const char *rel,
                             const gd_decision *dec, uint64_t trigger_ms,
                             uint64_t memory_before, uint64_t now) {
        gd_snapshot snap;
        size_t choosable = 0;
        gd_kill_result done = GD_KILL_FAILED;
        gd_verdict *verdicts = NULL;

        int r = gd_snapshot_take(d->host.rootfd, d->host.procfd, rel, d->host.root.has_memory,
                                 d->host.page_size, &snap);
        if (r < 0) {
                if (!cg_is_gone(r))
                        gd_log(GD_LOG_ERR, "cannot read cgroup={cgroup} to pick a victim: {error}, "
                                           "ignoring",
                               GD_STR("cgroup", *rel ? rel : "/"), GD_ERRNO(-r));
                return GD_KILL_FAILED;
        }
        done = gd_kill_preconditions(c, rel, dec, &snap, now);
        if (done != GD_KILL_STARTED)
                goto out;
        if (kernel_killed_since(c, now)) {
                gd_log(GD_LOG_NOTICE, "cgroup={cgroup}: the kernel's OOM killer took a process "
                                      "since the decision; waiting for its memory, no second "
                                      "kill",
                       GD_STR("cgroup", *rel ? rel : "/"));
                done = GD_KILL_WAITING;
                goto out;
        }
        done = GD_KILL_FAILED;
        verdicts = gd_verdict_rank(&snap, d->policy, &choosable);
        const gd_verdict *victim = NULL;
        for (size_t i = 0; verdicts && i < choosable; i++) {
                if (verdicts[i].forfeited)
                        gd_log(GD_LOG_WARNING, "pid {pid}: {why}",
                               GD_INT("pid", snap.procs[verdicts[i].proc].info.stat.pid),
                               GD_STR("why", verdicts[i].why));
                if (!gd_kill_never_victim(d, &snap, &snap.procs[verdicts[i].proc])) {
                        victim = &verdicts[i];
                        break;
                }
        }
        if (!victim) {
                gd_log(GD_LOG_WARNING, "cgroup={cgroup} is in trouble ({reason}) but has nothing "
                                       "guardian may kill",
                       GD_STR("cgroup", *rel ? rel : "/"), GD_STR("reason", dec->reason));
                goto out;
        }

        pending_kill *p = pending_slot(d);
        if (!p) {
                gd_log(GD_LOG_WARNING, "{in_flight} kills already in flight, ignoring "
                                       "cgroup={cgroup} for now",
                       GD_INT("in_flight", GD_MAX_PENDING), GD_STR("cgroup", *rel ? rel : "/"));
                goto out;
        }
        const gd_proc_entry *e = &snap.procs[victim->proc];
        memset(p, 0, sizeof(*p));
        p->pidfd = -1;
        p->slot = c ? (uint32_t)(c - d->watch.slots) : UINT32_MAX;
        p->generation = c ? c->generation : 0;
        p->trigger_ms = trigger_ms;
        p->kill_ms = now;
        p->deadline_ms = now + GD_KILL_DEADLINE_MS;
        p->decision = *dec;
        snprintf(p->cgroup, sizeof(p->cgroup), "%s", snap.cgroups[e->cgroup_index]);
        if (victim->workload)
                snprintf(p->workload, sizeof(p->workload), "%s", victim->workload->name);
        snprintf(p->comm, sizeof(p->comm), "%s", e->info.stat.comm);
        gd_redact_cmdline(e->info.cmdline, p->cmdline, sizeof(p->cmdline)); /* cut is fine */
        p->cand = (gd_candidate){
                .pid = e->info.stat.pid,
                .oom_score_adj = e->info.oom_score_adj,
                .rss_pages = e->info.mem.rss_pages,
                .pte_pages = e->info.mem.pte_pages,
                .swap_pages = e->info.mem.swap_pages,
                .killable = true,
                .points = victim->points,
        };
        p->uid = e->info.mem.uid;
        p->start_time = e->info.stat.start_time;
        p->totalpages = snap.totalpages;
        p->memory_before = memory_before;
        /* Told, not waited for: the kill goes on at once. */
        kill_hook(d, p, GD_HOOK_PRE_KILL, NULL, now);

        if (d->dry_run) {
                gd_audit_record rec;
                fill_record(&rec, p, GD_EVENT_WOULD_KILL, GD_RESULT_DRY_RUN, 0, d->host.page_size);
                audit_write(d, &rec);
                log_kill("would kill", p, gd_audit_result_name(rec.result, rec.error));
                done = GD_KILL_DONE;
                goto out;
        }

        uint64_t grace = d->policy ? pol_effective_grace_ms(d->policy, victim->workload) : 0;
        gd_victim v = {.pid = e->info.stat.pid, .start_time = e->info.stat.start_time};
        snprintf(v.cgroup, sizeof(v.cgroup), "/%s", snap.cgroups[e->cgroup_index]);
        v.ns_root = d->cgns.root;
        /* Unknown namespace root: which cgroup the pid is in cannot be
         * checked, and an unchecked kill may hit the wrong process. */
        r = d->cgns.unknown ? -EREMOTE : gd_act_open_victim(d->host.procfd, &v, &p->pidfd);
        if (r == 0)
                r = gd_act_signal(p->pidfd, grace ? SIGTERM : SIGKILL);
        if (r < 0) {
                gd_audit_record rec;
                fill_record(&rec, p, GD_EVENT_KILL_FAILED, victim_failure(r), r, d->host.page_size);
                audit_write(d, &rec);
                log_kill("kill failed", p, gd_audit_result_name(rec.result, rec.error));
                kill_hook(d, p, GD_HOOK_POST_KILL, &rec, now);
                if (p->pidfd >= 0)
                        close(p->pidfd);
                goto out;
        }
        if (grace) {
                p->term_only = true;
                p->sigkill_at_ms = now + grace;
        } else if (d->reaper && gd_reaper_submit(d->reaper, p->pidfd) < 0) {
                gd_log(GD_LOG_DEBUG, "reaper queue full: pid {pid} exits without early release",
                       GD_INT("pid", p->cand.pid));
        }
        p->tag_generation = ++d->pending_generation;
        struct epoll_event ev = {
                .events = EPOLLIN,
                .data.u64 = gd_tag(GD_TAG_PIDFD, (uint32_t)(p - d->pending), p->tag_generation),
        };
        epoll_ctl(d->epfd, EPOLL_CTL_ADD, p->pidfd, &ev);
        p->used = true;
        if (c)
                c->kill_pending = true;
        done = GD_KILL_STARTED;
out:
        free(verdicts);
        gd_snapshot_free(&snap);
        return done;
}

static pending_kill cgroup_record_base(gd_watched *c, const pol_workload *w,
                                       const gd_decision *dec, uint64_t memory_before,
                                       uint64_t now) {
        pending_kill p;

        memset(&p, 0, sizeof(p));
        snprintf(p.cgroup, sizeof(p.cgroup), "%s", c->rel);
        if (w)
                snprintf(p.workload, sizeof(p.workload), "%s", w->name);
        p.decision = *dec;
        p.trigger_ms = c->trouble_since_ms ? c->trouble_since_ms : now;
        p.kill_ms = now;
        p.memory_before = memory_before;
        return p;
}

/* Would killing rel whole kill guardian (rel is its cgroup or holds it;
 * Kubernetes sets memory.oom.group on every container), something in its
 * cgroup (the hook runner), or the init system's? */
static bool shelters_protected(const daemon_ctx *d, const char *rel) {
        /* Guardian in the root cgroup is in no cgroup.kill's reach. */
        return gd_cgroup_protected(d, rel) ||
               (d->self_cgroup[1] && cg_rel_under(d->self_cgroup + 1, rel));
}

/* Why a cgroup is not killed whole: the log line's words and the process
 * they name (pid 0: none), kept apart so that the log quotes the comm. */
typedef struct shelter {
        const char *msg; /* names {cgroup}, and {pid} and {comm} when there is one */
        pid_t pid;
        char comm[PROC_COMM_MAX];
} shelter;

/* Does a process of rel's subtree forbid killing it whole (a "never"
 * workload under budget, oom_score_adj -1000, pid 1, guardian)? Says which
 * in why. A subtree that cannot be read fully counts as sheltering: the
 * one-process path then refuses too, on the same incomplete set. */
static bool subtree_shelters(const daemon_ctx *d, const char *rel, shelter *why) {
        gd_snapshot snap;
        size_t choosable = 0, i;
        bool found = false;

        int r = gd_snapshot_take(d->host.rootfd, d->host.procfd, rel, d->host.root.has_memory,
                                 d->host.page_size, &snap);
        if (r < 0 || snap.n_unreadable) {
                why->msg = "not killing cgroup={cgroup} whole: its processes could not all be "
                           "read; its worst other process instead";
                gd_snapshot_free(&snap);
                return !(r < 0 && cg_is_gone(r));
        }
        gd_verdict *v = gd_verdict_rank(&snap, d->policy, &choosable);
        if (!v && snap.n_procs) {
                why->msg = "not killing cgroup={cgroup} whole: out of memory ranking it; its "
                           "worst other process instead";
                found = true;
        } else if (v && gd_verdict_shelters(&snap, v, snap.n_procs, &i)) {
                const proc_info *p = &snap.procs[v[i].proc].info;
                why->msg = v[i].protected_never
                                   ? "not killing cgroup={cgroup} whole: pid {pid} comm={comm} is "
                                     "protected (never); its worst other process instead"
                                   : "not killing cgroup={cgroup} whole: pid {pid} comm={comm} is "
                                     "oom_score_adj -1000; its worst other process instead";
                why->pid = p->stat.pid;
                snprintf(why->comm, sizeof(why->comm), "%s", p->stat.comm);
                found = true;
        }
        for (i = 0; !found && i < snap.n_procs; i++)
                if (gd_kill_never_victim(d, &snap, &snap.procs[i])) {
                        why->msg = "not killing cgroup={cgroup} whole: pid {pid} is guardian, "
                                   "pid 1 or in the root cgroup; its worst other process instead";
                        why->pid = snap.procs[i].info.stat.pid;
                        found = true;
                }
        free(v);
        gd_snapshot_free(&snap);
        return found;
}

gd_kill_result gd_kill_cgroup(daemon_ctx *d, gd_watched *c, const gd_decision *dec,
                              uint64_t memory_before, uint64_t now) {
        const pol_workload *w = gd_watch_workload(&d->watch, c, d->policy);
        pending_kill p = cgroup_record_base(c, w, dec, memory_before, now);
        gd_audit_record rec;
        shelter why = {.msg = "not killing cgroup={cgroup} whole: guardian or init.scope is "
                              "in it; its worst other process instead"};
        int r = 0;

        if (shelters_protected(d, c->rel) || subtree_shelters(d, c->rel, &why)) {
                if (why.comm[0])
                        gd_log(GD_LOG_WARNING, why.msg, GD_STR("cgroup", c->rel),
                               GD_INT("pid", why.pid), GD_STR("comm", why.comm));
                else if (why.pid)
                        gd_log(GD_LOG_WARNING, why.msg, GD_STR("cgroup", c->rel),
                               GD_INT("pid", why.pid));
                else
                        gd_log(GD_LOG_WARNING, why.msg, GD_STR("cgroup", c->rel));
                return gd_kill_worst(d, c, c->rel, dec, now, memory_before, now);
        }

        kill_hook(d, &p, GD_HOOK_PRE_KILL, NULL, now);
        if (!d->dry_run)
                r = cg_kill(c->dirfd);
        fill_record(&rec, &p, d->dry_run ? GD_EVENT_WOULD_KILL_CGROUP : GD_EVENT_KILL_CGROUP,
                    d->dry_run ? GD_RESULT_DRY_RUN : r == 0 ? GD_RESULT_KILLED : GD_RESULT_ERRNO, r,
                    d->host.page_size);
        if (!d->dry_run)
                kill_hook(d, &p, GD_HOOK_POST_KILL, &rec, now);
        audit_write(d, &rec);
        const char *result = gd_audit_result_name(rec.result, rec.error);
        gd_log(GD_LOG_WARNING, d->dry_run ? "would kill cgroup" : "killed cgroup",
               GD_STR("cgroup", c->rel), GD_STR("workload", w ? w->name : "-"),
               GD_STR("trigger", gd_trigger_name(dec->trigger)), GD_STR("result", result),
               GD_STR("reason", dec->reason));
        c->trouble_since_ms = 0;
        return r == 0 ? GD_KILL_DONE : GD_KILL_FAILED;
}

gd_kill_result gd_notify(daemon_ctx *d, gd_watched *c, const pol_workload *w,
                         const gd_decision *dec, uint64_t memory_before, uint64_t now) {
        pending_kill p = cgroup_record_base(c, w, dec, memory_before, now);
        gd_audit_record rec;

        fill_record(&rec, &p, GD_EVENT_NOTIFY, GD_RESULT_NOTIFIED, 0, d->host.page_size);
        audit_write(d, &rec);
        gd_log(GD_LOG_WARNING, "notify", GD_STR("cgroup", c->rel),
               GD_STR("workload", w ? w->name : "-"),
               GD_STR("trigger", gd_trigger_name(dec->trigger)), GD_STR("reason", dec->reason));
        c->trouble_since_ms = 0;
        return GD_KILL_DONE;
}
