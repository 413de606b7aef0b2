/* The kill path (kill.h): the victim the policy's ranking names, killed
 * race-free, followed to its death; outcomes typed, said by the caller. */
#include "act/kill.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "util/clock.h"
#include "util/evtag.h"
#include "util/redact.h"

/* After the wait, "no longer waiting" is said during this window only. */
#define DYING_GAVE_UP_SAY_MS 1000

bool gd_kill_protected_cgroup(const gd_kill_env *env, const char *rel) {
        const char *self = env->self_cgroup;
        return cg_rel_under(rel, "init.scope") || (self && self[0] && self[1] &&
                                                   cg_rel_under(rel, self + 1));
}

bool gd_kill_never_victim(const gd_kill_env *env, const gd_snapshot *snap,
                          const gd_proc_entry *e) {
        const char *cg = snap->cgroups[e->cgroup_index];
        return e->info.stat.pid == getpid() || e->info.stat.pid == 1 || !*cg ||
               gd_kill_protected_cgroup(env, cg);
}

static void outcome_init(gd_kill_outcome *ret) {
        memset(ret, 0, sizeof(*ret));
        ret->victim.pidfd = -1;
        ret->result = GD_KILL_FAILED;
}

gd_kill_result gd_kill_preconditions(gd_kills *k, const gd_watched *c, const gd_decision *dec,
                                     const gd_snapshot *snap, uint64_t now,
                                     gd_kill_outcome *ret) {
        size_t dying;

        if (snap->n_unreadable) {
                ret->why = GD_WHY_UNREADABLE;
                ret->value = snap->n_unreadable;
                ret->err = snap->first_unreadable_error;
                return GD_KILL_FAILED;
        }
        if (gd_verdict_dying(snap, &dying)) {
                const proc_info *p = &snap->procs[dying].info;
                ret->dying.first = p->stat.pid != k->waiting.pid ||
                                   p->stat.start_time != k->waiting.start_time;
                if (ret->dying.first) {
                        k->waiting.pid = p->stat.pid;
                        k->waiting.start_time = p->stat.start_time;
                        k->waiting.since_ms = now;
                }
                ret->dying.pid = p->stat.pid;
                ret->dying.rss_pages = p->mem.rss_pages;
                snprintf(ret->dying.comm, sizeof(ret->dying.comm), "%s", p->stat.comm);
                if (now - k->waiting.since_ms < GD_KILL_DYING_WAIT_MS) {
                        ret->why = GD_WHY_DYING;
                        return GD_KILL_WAITING;
                }
                ret->dying.gave_up = now - k->waiting.since_ms - GD_KILL_DYING_WAIT_MS <
                                     DYING_GAVE_UP_SAY_MS;
        }
        uint64_t current = snap->n_cgroups ? snap->cgroup_currents[0] : UINT64_MAX;
        if (c && !gd_decide_still_holds(dec, current, c->max)) {
                ret->why = GD_WHY_FELL;
                ret->value = current;
                return GD_KILL_WAITING;
        }
        return GD_KILL_STARTED;
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

static gd_inflight *free_slot(gd_kills *k) {
        for (size_t i = 0; i < GD_MAX_PENDING; i++)
                if (!k->slot[i].used)
                        return &k->slot[i];
        return NULL;
}

/* The verdicts' view of identity: the env's cursor, reset for this pass. */
static gd_verdict_ids ids_for(const gd_kill_env *env) {
        if (env->ids)
                gd_ident_cursor_reset(env->ids);
        return (gd_verdict_ids){.of = env->ids ? gd_ident_cursor_lookup : NULL, .ctx = env->ids};
}

/* Is the chosen process in a container whose identity is still being
 * read, under a policy that names containers? Only the victim matters:
 * the others are not killed, whatever they turn out to be. */
static bool victim_pending(const gd_kill_env *env, const gd_snapshot *snap,
                           const gd_proc_entry *e) {
        gd_ident_state st;

        if (!env->ids || !env->policy || !pol_uses_ident(env->policy))
                return false;
        (void)gd_ident_cursor_of(env->ids, snap->cgroups[e->cgroup_index], &st);
        return st == GD_IDENT_PENDING;
}

/* The victim's record from the snapshot's entry e, ranked as vd. */
static void victim_from(gd_inflight *v, const gd_kill_request *req, const gd_snapshot *snap,
                        const gd_proc_entry *e, const gd_verdict *vd, uint64_t now) {
        memset(v, 0, sizeof(*v));
        v->pidfd = -1;
        v->owner = req->owner;
        v->trigger_ms = req->trigger_ms;
        v->kill_ms = now;
        v->deadline_ms = now + GD_KILL_DEADLINE_MS;
        v->decision = *req->dec;
        snprintf(v->cgroup, sizeof(v->cgroup), "%s", snap->cgroups[e->cgroup_index]);
        if (vd->workload)
                snprintf(v->workload, sizeof(v->workload), "%s", vd->workload->name);
        snprintf(v->comm, sizeof(v->comm), "%s", e->info.stat.comm);
        gd_redact_cmdline(e->info.cmdline, v->cmdline, sizeof(v->cmdline)); /* cut is fine */
        v->cand = (gd_candidate){
                .pid = e->info.stat.pid,
                .oom_score_adj = e->info.oom_score_adj,
                .rss_pages = e->info.mem.rss_pages,
                .pte_pages = e->info.mem.pte_pages,
                .swap_pages = e->info.mem.swap_pages,
                .killable = true,
                .points = vd->points,
        };
        v->uid = e->info.mem.uid;
        v->start_time = e->info.stat.start_time;
        v->totalpages = snap->totalpages;
        v->memory_before = req->memory_before;
}

/* Open, check and signal the victim; on success it takes slot p, in the
 * epoll set. Returns 0 or a negative errno (ret->why says it). */
static int signal_victim(gd_kills *k, const gd_kill_env *env, const gd_verdict *vd,
                         const gd_snapshot *snap, const gd_proc_entry *e, gd_inflight *p,
                         uint64_t now, gd_kill_outcome *ret) {
        uint64_t grace = env->policy ? pol_effective_grace_ms(env->policy, vd->workload) : 0;
        gd_victim v = {.pid = e->info.stat.pid, .start_time = e->info.stat.start_time};
        snprintf(v.cgroup, sizeof(v.cgroup), "/%s", snap->cgroups[e->cgroup_index]);
        v.ns_root = env->ns_root;
        /* Unknown namespace root: which cgroup the pid is in cannot be
         * checked, and an unchecked kill may hit the wrong process. */
        int pidfd = -1;
        int r = env->ns_unknown ? -EREMOTE : gd_act_open_victim(env->procfd, &v, &pidfd);
        if (r == 0)
                r = gd_act_signal(pidfd, grace ? SIGTERM : SIGKILL);
        if (r < 0) {
                if (pidfd >= 0)
                        close(pidfd);
                ret->why = GD_WHY_SIGNAL;
                ret->err = r;
                return r;
        }
        *p = ret->victim;
        p->pidfd = pidfd;
        if (grace) {
                p->term_only = true;
                p->sigkill_at_ms = now + grace;
        } else if (env->reaper && gd_reaper_submit(env->reaper, pidfd) < 0) {
                p->news.reaper_full = true;
        }
        p->tag_generation = ++k->generation;
        struct epoll_event ev = {
                .events = EPOLLIN,
                .data.u64 = gd_tag(GD_TAG_PIDFD, (uint32_t)(p - k->slot), p->tag_generation),
        };
        epoll_ctl(env->epfd, EPOLL_CTL_ADD, pidfd, &ev);
        p->used = true;
        ret->in_flight = p;
        return 0;
}

gd_kill_result gd_kill_worst(gd_kills *k, const gd_kill_env *env, const gd_kill_request *req,
                             uint64_t now, gd_kill_outcome *ret) {
        gd_snapshot snap;
        size_t choosable = 0;
        gd_verdict *verdicts = NULL;

        outcome_init(ret);
        int r = gd_snapshot_take(env->rootfd, env->procfd, req->rel, env->has_memory,
                                 env->page_size, &snap);
        if (r < 0) {
                ret->why = GD_WHY_SNAPSHOT;
                ret->err = r;
                return ret->result;
        }
        ret->result = gd_kill_preconditions(k, req->c, req->dec, &snap, now, ret);
        if (ret->result != GD_KILL_STARTED)
                goto out;
        if (kernel_killed_since(req->c, now)) {
                ret->why = GD_WHY_KERNEL_KILLED;
                ret->result = GD_KILL_WAITING;
                goto out;
        }
        ret->result = GD_KILL_FAILED;
        gd_verdict_ids ids = ids_for(env);
        verdicts = gd_verdict_rank(&snap, env->policy, &ids, &choosable);
        const gd_verdict *vd = NULL;
        for (size_t i = 0; verdicts && i < choosable; i++) {
                if (verdicts[i].forfeited) {
                        if (ret->n_forfeited < GD_KILL_FORFEITS_MAX) {
                                ret->forfeited[ret->n_forfeited].pid =
                                        snap.procs[verdicts[i].proc].info.stat.pid;
                                snprintf(ret->forfeited[ret->n_forfeited].why,
                                         sizeof(ret->forfeited[0].why), "%s", verdicts[i].why);
                        }
                        ret->n_forfeited++;
                }
                if (!gd_kill_never_victim(env, &snap, &snap.procs[verdicts[i].proc])) {
                        vd = &verdicts[i];
                        break;
                }
        }
        if (!vd) {
                ret->why = GD_WHY_NOTHING;
                goto out;
        }
        const gd_proc_entry *e = &snap.procs[vd->proc];
        if (victim_pending(env, &snap, e)) {
                /* It could be a "never" container not yet known as one:
                 * the kernel decides rather than guardian guess. */
                ret->why = GD_WHY_IDENT_PENDING;
                ret->value = (uint64_t)e->info.stat.pid;
                goto out;
        }
        gd_inflight *p = free_slot(k);
        if (!p) {
                ret->why = GD_WHY_TABLE_FULL;
                goto out;
        }
        victim_from(&ret->victim, req, &snap, e, vd, now);
        gd_ident_cursor_names(env->ids, ret->victim.cgroup, &ret->victim.container);
        ret->target = GD_TARGET_PROCESS;
        if (env->dry_run) {
                ret->dry_run = true;
                ret->result = GD_KILL_DONE;
                goto out;
        }
        if (signal_victim(k, env, vd, &snap, e, p, now, ret) == 0)
                ret->result = GD_KILL_STARTED;
out:
        free(verdicts);
        gd_snapshot_free(&snap);
        return ret->result;
}

/* Would killing rel whole kill guardian (rel is its cgroup or holds it;
 * Kubernetes sets memory.oom.group on every container), something in its
 * cgroup (the hook runner), or the init system's? */
static bool shelters_protected(const gd_kill_env *env, const char *rel) {
        const char *self = env->self_cgroup;
        /* Guardian in the root cgroup is in no cgroup.kill's reach. */
        return gd_kill_protected_cgroup(env, rel) ||
               (self && self[0] && self[1] && cg_rel_under(self + 1, rel));
}

/* Does a process of rel's subtree forbid killing it whole (a "never"
 * workload under budget, oom_score_adj -1000, pid 1, guardian)? Says which
 * in ret. A subtree that cannot be read fully counts as sheltering: the
 * one-process path then refuses too, on the same incomplete set. */
static bool subtree_shelters(const gd_kill_env *env, const char *rel, gd_kill_outcome *ret) {
        gd_snapshot snap;
        size_t choosable = 0, i;
        bool found = false;

        int r = gd_snapshot_take(env->rootfd, env->procfd, rel, env->has_memory,
                                 env->page_size, &snap);
        if (r < 0 || snap.n_unreadable) {
                ret->shelter = GD_SHELTER_UNREADABLE;
                gd_snapshot_free(&snap);
                return !(r < 0 && cg_is_gone(r));
        }
        gd_verdict_ids ids = ids_for(env);
        gd_verdict *v = gd_verdict_rank(&snap, env->policy, &ids, &choosable);
        if (env->ids && env->ids->pending) {
                ret->shelter = GD_SHELTER_IDENT_PENDING;
                found = true;
        } else if (!v && snap.n_procs) {
                ret->shelter = GD_SHELTER_NO_MEMORY;
                found = true;
        } else if (v && gd_verdict_shelters(&snap, v, snap.n_procs, &i)) {
                const proc_info *p = &snap.procs[v[i].proc].info;
                ret->shelter = v[i].protected_never ? GD_SHELTER_NEVER : GD_SHELTER_ADJ_MIN;
                ret->shelter_pid = p->stat.pid;
                snprintf(ret->shelter_comm, sizeof(ret->shelter_comm), "%s", p->stat.comm);
                found = true;
        }
        for (i = 0; !found && i < snap.n_procs; i++)
                if (gd_kill_never_victim(env, &snap, &snap.procs[i])) {
                        ret->shelter = GD_SHELTER_NEVER_VICTIM;
                        ret->shelter_pid = snap.procs[i].info.stat.pid;
                        found = true;
                }
        free(v);
        gd_snapshot_free(&snap);
        return found;
}

gd_kill_result gd_kill_cgroup(gd_kills *k, const gd_kill_env *env, const gd_kill_request *req,
                              uint64_t now, gd_kill_outcome *ret) {
        gd_kill_outcome sheltered;

        outcome_init(&sheltered);
        sheltered.shelter = GD_SHELTER_PROTECTED;
        if (shelters_protected(env, req->c->rel) ||
            subtree_shelters(env, req->c->rel, &sheltered)) {
                gd_kill_worst(k, env, req, now, ret);
                ret->shelter = sheltered.shelter;
                ret->shelter_pid = sheltered.shelter_pid;
                memcpy(ret->shelter_comm, sheltered.shelter_comm, sizeof(ret->shelter_comm));
                return ret->result;
        }
        outcome_init(ret);
        gd_inflight *v = &ret->victim;
        snprintf(v->cgroup, sizeof(v->cgroup), "%s", req->c->rel);
        gd_ident_cursor_names(env->ids, v->cgroup, &v->container);
        if (req->workload)
                snprintf(v->workload, sizeof(v->workload), "%s", req->workload->name);
        v->owner = req->owner;
        v->decision = *req->dec;
        v->trigger_ms = req->trigger_ms;
        v->kill_ms = now;
        v->memory_before = req->memory_before;
        ret->target = GD_TARGET_CGROUP;
        ret->dry_run = env->dry_run;
        int r = env->dry_run ? 0 : cg_kill(req->c->dirfd);
        if (r < 0) {
                ret->why = GD_WHY_CGROUP_KILL;
                ret->err = r;
                return ret->result = GD_KILL_FAILED;
        }
        return ret->result = GD_KILL_DONE;
}

gd_inflight *gd_kills_for_tag(gd_kills *k, uint64_t tag) {
        if (gd_tag_kind_of(tag) != GD_TAG_PIDFD || gd_tag_slot(tag) >= GD_MAX_PENDING)
                return NULL;
        gd_inflight *p = &k->slot[gd_tag_slot(tag)];
        return p->used && p->tag_generation == gd_tag_generation(tag) ? p : NULL;
}

static void end(gd_inflight *p, gd_kill_end how, uint64_t now) {
        p->end = how;
        p->end_ms = now;
}

static void send_sigkill(const gd_kill_env *env, gd_inflight *p, uint64_t now) {
        int r = gd_act_signal(p->pidfd, SIGKILL);
        p->term_only = false;
        p->deadline_ms = now + GD_KILL_DEADLINE_MS;
        if (r < 0 && r != -ESRCH)
                p->news.sigkill_error = r;
        if (r == 0 && env->reaper && gd_reaper_submit(env->reaper, p->pidfd) < 0)
                p->news.reaper_full = true;
}

bool gd_kills_tick(gd_kills *k, const gd_kill_env *env, uint64_t now) {
        bool any = false;

        for (size_t i = 0; i < GD_MAX_PENDING; i++) {
                gd_inflight *p = &k->slot[i];
                if (!p->used)
                        continue;
                any = true;
                if (p->end != GD_END_NONE)
                        continue;
                if (gd_act_exited(p->pidfd) == 1)
                        end(p, GD_END_EXITED, now);
                else if (p->term_only && now >= p->sigkill_at_ms)
                        send_sigkill(env, p, now);
                else if (!p->term_only && now >= p->deadline_ms)
                        end(p, GD_END_TIMEOUT, now);
                else if (!p->term_only && !p->slow_said &&
                         now + GD_KILL_DEADLINE_MS >= p->deadline_ms + GD_KILL_SLOW_MS)
                        p->news.slow = p->slow_said = true;
        }
        return any;
}

bool gd_kills_any(const gd_kills *k) {
        for (size_t i = 0; i < GD_MAX_PENDING; i++)
                if (k->slot[i].used && k->slot[i].end == GD_END_NONE)
                        return true;
        return false;
}

void gd_kills_cut_graces(gd_kills *k, const gd_kill_env *env, uint64_t now) {
        for (size_t i = 0; i < GD_MAX_PENDING; i++) {
                gd_inflight *p = &k->slot[i];
                if (!p->used || p->end != GD_END_NONE || !p->term_only ||
                    gd_act_exited(p->pidfd) == 1)
                        continue;
                /* Its grace is cut short: nobody would send the SIGKILL
                 * later, and guardian decided this process must go. */
                p->news.cut_short = true;
                send_sigkill(env, p, now);
        }
}

void gd_kills_wait(gd_kills *k, uint64_t wait_ms) {
        struct pollfd fds[GD_MAX_PENDING];
        uint64_t now = gd_now_ms(), until = now + wait_ms;

        for (;;) {
                nfds_t n = 0;
                now = gd_now_ms();
                for (size_t i = 0; i < GD_MAX_PENDING; i++) {
                        gd_inflight *p = &k->slot[i];
                        if (!p->used || p->end != GD_END_NONE)
                                continue;
                        int exited = gd_act_exited(p->pidfd);
                        if (exited == 1)
                                end(p, GD_END_EXITED, now);
                        else if (exited < 0) /* cannot be watched: poll would not wait */
                                end(p, GD_END_UNFINISHED, now);
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
                if (k->slot[i].used && k->slot[i].end == GD_END_NONE)
                        end(&k->slot[i], GD_END_UNFINISHED, now);
}

void gd_kills_release(const gd_kill_env *env, gd_inflight *p) {
        if (p->pidfd >= 0) {
                /* The reaper may hold a dup of this pidfd: epoll forgets a
                 * file only when every fd of it is closed, so say it. */
                epoll_ctl(env->epfd, EPOLL_CTL_DEL, p->pidfd, NULL);
                close(p->pidfd);
        }
        p->pidfd = -1;
        p->used = false;
        p->end = GD_END_NONE;
}
