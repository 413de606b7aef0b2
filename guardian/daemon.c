#include "guardian/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "cgroup/proc.h"
#include "guardian/act.h"
#include "guardian/audit.h"
#include "guardian/decide.h"
#include "guardian/host.h"
#include "guardian/log.h"
#include "guardian/rank.h"
#include "guardian/snapshot.h"
#include "guardian/watch.h"

/* While any cgroup is hot, sample it this often: a hog at TCG speed
 * fills 100 MiB in about a second, so 100 ms leaves room to act. */
#define FAST_TICK_MS 100
/* Otherwise: light checks of memory.current (and polled PSI) this often. */
#define SLOW_TICK_MS 1000
/* A victim that has not exited this long after SIGKILL counts as a
 * failed kill (D state, stuck in the kernel): back off, try the next. */
#define KILL_DEADLINE_MS 5000
/* Kills in flight at once; more would mean guardian is not the answer. */
#define MAX_PENDING 16
/* Enough fds for thousands of cgroups with four open files each. */
#define NOFILE_WANTED 65536
#define DEFAULT_AUDIT_DIR "/var/lib/guardian"
/* Pre-faulted heap for the kill path: a snapshot costs ~650 bytes a
 * process, so this covers a cgroup (or a host) of ~6,000 processes; a
 * bigger one still works, with fresh pages from the kernel. */
#define HEAP_RESERVE_BYTES (4u << 20)

typedef struct pending_kill {
        bool used;
        int pidfd;
        uint32_t slot, generation;
        uint64_t trigger_ms, kill_ms, deadline_ms;
        gd_decision decision;
        char cgroup[PATH_MAX];
        char comm[PROC_COMM_MAX];
        char cmdline[PROC_CMDLINE_MAX];
        gd_candidate cand;
        uid_t uid;
        uint64_t start_time, totalpages, memory_before;
} pending_kill;

typedef struct daemon_ctx {
        gd_host host;
        gd_watch watch;
        gd_thresholds thresholds;
        gd_reaper *reaper;
        gd_audit *audit;
        int epfd, sigfd, timerfd, host_psi_fd;
        bool dry_run;
        bool fast;
        char self_cgroup[PATH_MAX]; /* "/a/b" as /proc/self/cgroup shows it */
        gd_cgroup_state host_state;
        gd_sample host_prev;
        pending_kill pending[MAX_PENDING];
        uint64_t decisions, kills;
        uint64_t last_light_ms;
} daemon_ctx;

static uint64_t now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int64_t wall_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_tick(daemon_ctx *d, bool fast) {
        if (d->fast == fast && d->timerfd >= 0)
                return;
        d->fast = fast;
        uint64_t ms = fast ? FAST_TICK_MS : SLOW_TICK_MS;
        struct itimerspec its = {
                .it_interval = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L},
                .it_value = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L},
        };
        timerfd_settime(d->timerfd, 0, &its, NULL);
}

/* The default policy's protection: guardian itself, pid 1 and the init
 * system's cgroup are never victims. */
static bool protected_process(const daemon_ctx *d, const gd_snapshot *snap,
                              const gd_proc_entry *e) {
        const char *cg = snap->cgroups[e->cgroup_index];
        size_t self_len = strlen(d->self_cgroup + 1);

        if (e->info.stat.pid == getpid() || e->info.stat.pid == 1)
                return true;
        if (strncmp(cg, "init.scope", 10) == 0 && (cg[10] == '\0' || cg[10] == '/'))
                return true;
        if (self_len && strncmp(cg, d->self_cgroup + 1, self_len) == 0 &&
            (cg[self_len] == '\0' || cg[self_len] == '/'))
                return true;
        return false;
}

static void audit_write(daemon_ctx *d, const gd_audit_record *rec) {
        if (!d->audit)
                return;
        int r = gd_audit_write(d->audit, rec);
        if (r < 0)
                gd_log(GD_LOG_ERR, "cannot write the audit record for pid %d: %s, ignoring",
                       (int)rec->pid, strerror(-r));
}

static void fill_record(gd_audit_record *rec, const pending_kill *p, const char *event,
                        const char *result, uint64_t page_size) {
        memset(rec, 0, sizeof(*rec));
        rec->time_unix_ms = wall_ms();
        rec->event = event;
        rec->cgroup = p->cgroup;
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
}

static void log_kill(const char *what, const pending_kill *p, const char *result) {
        char comm[PROC_COMM_MAX];
        size_t i = 0;
        for (; p->comm[i]; i++)
                comm[i] = (unsigned char)p->comm[i] < 0x20 || p->comm[i] == '"' ? '?' : p->comm[i];
        comm[i] = '\0';
        gd_log(GD_LOG_WARNING,
               "%s cgroup=%s pid=%d comm=\"%s\" score=%" PRId64 " rss_pages=%" PRIu64
               " oom_score_adj=%d trigger=%s value=%.3f threshold=%.3f result=%s reason=\"%s\"",
               what, *p->cgroup ? p->cgroup : "/", (int)p->cand.pid, comm, p->cand.points,
               p->cand.rss_pages, p->cand.oom_score_adj, gd_trigger_name(p->decision.trigger),
               p->decision.value, p->decision.threshold, result, p->decision.reason);
}

static pending_kill *pending_slot(daemon_ctx *d) {
        for (size_t i = 0; i < MAX_PENDING; i++)
                if (!d->pending[i].used)
                        return &d->pending[i];
        return NULL;
}

static void finish_pending(daemon_ctx *d, pending_kill *p, const char *result, uint64_t now) {
        gd_audit_record rec;
        gd_watched *c = NULL;
        uint64_t tag = gd_tag(GD_TAG_EVENTS, p->slot, p->generation);

        fill_record(&rec, p, "kill", result, d->host.page_size);
        if (strcmp(result, "killed") == 0)
                rec.trigger_to_death_ms = (int64_t)(now - p->trigger_ms);
        c = gd_watch_lookup(&d->watch, tag);
        if (c && c->current_fd >= 0) {
                char buf[64];
                ssize_t n = cg_pread_file(c->current_fd, buf, sizeof(buf));
                uint64_t after;
                if (n >= 0 && cg_parse_u64_or_max(buf, (size_t)n, &after) == 0)
                        rec.memory_after = after;
        }
        audit_write(d, &rec);
        log_kill("killed", p, result);
        if (c) {
                gd_decide_record(&d->thresholds, &c->state, strcmp(result, "killed") == 0, now);
                c->kill_pending = false;
                c->trouble_since_ms = 0;
        } else if (p->slot == UINT32_MAX) {
                gd_decide_record(&d->thresholds, &d->host_state, strcmp(result, "killed") == 0,
                                 now);
        }
        if (p->pidfd >= 0) {
                /* The reaper may hold a dup of this pidfd: epoll forgets a
                 * file only when every fd of it is closed, so say it. */
                epoll_ctl(d->epfd, EPOLL_CTL_DEL, p->pidfd, NULL);
                close(p->pidfd);
        }
        p->pidfd = -1;
        p->used = false;
}

/* Kill the worst process of rel's subtree. c is the watched cgroup that
 * triggered (NULL for host-wide pressure). Returns true if a kill (or a
 * dry-run "would kill") happened. */
static bool kill_worst(daemon_ctx *d, gd_watched *c, const char *rel, const gd_decision *dec,
                       uint64_t trigger_ms, uint64_t memory_before, uint64_t now) {
        gd_snapshot snap;
        size_t killable = 0;
        bool done = false;

        int r = gd_snapshot_take(d->host.rootfd, d->host.procfd, rel, d->host.root.has_memory,
                                 d->host.page_size, &snap);
        if (r < 0) {
                if (!cg_is_gone(r))
                        gd_log(GD_LOG_ERR, "cannot read cgroup %s to pick a victim: %s, ignoring",
                               *rel ? rel : "/", strerror(-r));
                return false;
        }
        gd_candidate *cands = gd_rank_snapshot(&snap, &killable);
        const gd_candidate *victim = NULL;
        for (size_t i = 0; cands && i < killable; i++) {
                if (!protected_process(d, &snap, &snap.procs[cands[i].scan_order])) {
                        victim = &cands[i];
                        break;
                }
        }
        if (!victim) {
                gd_log(GD_LOG_WARNING, "cgroup %s is in trouble (%s) but has nothing killable",
                       *rel ? rel : "/", dec->reason);
                goto out;
        }

        pending_kill *p = pending_slot(d);
        if (!p) {
                gd_log(GD_LOG_WARNING, "%d kills already in flight, ignoring %s for now",
                       MAX_PENDING, *rel ? rel : "/");
                goto out;
        }
        const gd_proc_entry *e = &snap.procs[victim->scan_order];
        memset(p, 0, sizeof(*p));
        p->pidfd = -1;
        p->slot = c ? (uint32_t)(c - d->watch.slots) : UINT32_MAX;
        p->generation = c ? c->generation : 0;
        p->trigger_ms = trigger_ms;
        p->kill_ms = now;
        p->deadline_ms = now + KILL_DEADLINE_MS;
        p->decision = *dec;
        snprintf(p->cgroup, sizeof(p->cgroup), "%s", snap.cgroups[e->cgroup_index]);
        snprintf(p->comm, sizeof(p->comm), "%s", e->info.stat.comm);
        snprintf(p->cmdline, sizeof(p->cmdline), "%s", e->info.cmdline);
        p->cand = *victim;
        p->uid = e->info.mem.uid;
        p->start_time = e->info.stat.start_time;
        p->totalpages = snap.totalpages;
        p->memory_before = memory_before;

        if (d->dry_run) {
                gd_audit_record rec;
                fill_record(&rec, p, "would-kill", "dry-run", d->host.page_size);
                audit_write(d, &rec);
                log_kill("would kill", p, "dry-run");
                done = true;
                goto out;
        }

        gd_victim v = {.pid = victim->pid, .start_time = e->info.stat.start_time};
        snprintf(v.cgroup, sizeof(v.cgroup), "/%s", snap.cgroups[e->cgroup_index]);
        r = gd_act_open_victim(d->host.procfd, &v, &p->pidfd);
        if (r == 0)
                r = gd_act_signal(p->pidfd, SIGKILL);
        if (r < 0) {
                const char *result = r == -ESRCH ? "gone" : r == -ESTALE ? "pid-reused"
                                   : r == -EXDEV ? "moved" : strerrorname_np(-r);
                gd_audit_record rec;
                fill_record(&rec, p, "kill-failed", result ? result : "error", d->host.page_size);
                audit_write(d, &rec);
                log_kill("kill failed", p, result ? result : "error");
                if (p->pidfd >= 0)
                        close(p->pidfd);
                goto out;
        }
        d->kills++;
        if (d->reaper && gd_reaper_submit(d->reaper, p->pidfd) < 0)
                gd_log(GD_LOG_DEBUG, "reaper queue full: pid %d exits without early release",
                       (int)victim->pid);
        struct epoll_event ev = {
                .events = EPOLLIN,
                .data.u64 = gd_tag(GD_TAG_PIDFD, (uint32_t)(p - d->pending), 0),
        };
        epoll_ctl(d->epfd, EPOLL_CTL_ADD, p->pidfd, &ev);
        p->used = true;
        if (c)
                c->kill_pending = true;
        done = true;
out:
        free(cands);
        gd_snapshot_free(&snap);
        return done;
}

static void kill_cgroup(daemon_ctx *d, gd_watched *c, const gd_decision *dec,
                        uint64_t memory_before, uint64_t now) {
        pending_kill p;
        gd_audit_record rec;
        int r = 0;

        memset(&p, 0, sizeof(p));
        snprintf(p.cgroup, sizeof(p.cgroup), "%s", c->rel);
        p.decision = *dec;
        p.trigger_ms = c->trouble_since_ms ? c->trouble_since_ms : now;
        p.kill_ms = now;
        p.memory_before = memory_before;
        if (!d->dry_run)
                r = cg_kill(c->dirfd);
        const char *result = d->dry_run ? "dry-run" : r == 0 ? "killed" : strerrorname_np(-r);
        fill_record(&rec, &p, d->dry_run ? "would-kill-cgroup" : "kill-cgroup",
                    result ? result : "error", d->host.page_size);
        audit_write(d, &rec);
        gd_log(GD_LOG_WARNING, "%s cgroup=%s trigger=%s result=%s reason=\"%s\"",
               d->dry_run ? "would kill cgroup" : "killed cgroup", c->rel,
               gd_trigger_name(dec->trigger), rec.result, dec->reason);
        gd_decide_record(&d->thresholds, &c->state, r == 0, now);
        c->trouble_since_ms = 0;
        if (r == 0 && !d->dry_run)
                d->kills++;
}

static void evaluate(daemon_ctx *d, gd_watched *c, uint64_t now) {
        gd_sample s;
        int r = gd_watch_sample(&d->watch, c, now, &s);
        if (r < 0) {
                if (cg_is_gone(r))
                        gd_watch_remove(&d->watch, (size_t)(c - d->watch.slots));
                return;
        }
        gd_log(GD_LOG_DEBUG,
               "sample cgroup=%s ok=%d%d%d%d current=%" PRIu64 " max=%" PRIu64 " high=%" PRIu64
               " file=%" PRIu64 " events.max=%" PRIu64 " events.high=%" PRIu64
               " psi.some.total=%" PRIu64 " psi.full.total=%" PRIu64,
               c->rel, s.events_ok, s.memory_ok, s.stat_ok, s.psi_ok, s.current, s.max, s.high,
               s.file, s.events.max, s.events.high, s.psi.some.total_us, s.psi.full.total_us);
        gd_decision dec = gd_decide(&d->thresholds, &c->state, &s, now);
        bool trouble = c->state.high_rising_since_ms || c->state.pressure_since_ms ||
                       dec.action != GD_ACTION_NONE;
        if (trouble) {
                c->hot_until_ms = now + 10000;
                if (!c->trouble_since_ms)
                        c->trouble_since_ms = now;
        } else if (!c->kill_pending && now >= c->hot_until_ms) {
                c->trouble_since_ms = 0;
        }
        if (dec.action == GD_ACTION_NONE || c->kill_pending)
                return;
        d->decisions++;
        gd_log(GD_LOG_INFO, "decision cgroup=%s action=%s trigger=%s value=%.3f threshold=%.3f "
                            "sustained_ms=%" PRIu64 " reason=\"%s\"",
               c->rel, gd_action_name(dec.action), gd_trigger_name(dec.trigger), dec.value,
               dec.threshold, dec.sustained_ms, dec.reason);
        uint64_t trigger_ms = c->trouble_since_ms ? c->trouble_since_ms : now;
        if (dec.action == GD_ACTION_KILL_CGROUP) {
                kill_cgroup(d, c, &dec, s.current, now);
                return;
        }
        if (!kill_worst(d, c, c->rel, &dec, trigger_ms, s.current, now) || d->dry_run)
                gd_decide_record(&d->thresholds, &c->state, d->dry_run, now);
}

/* Host-wide memory pressure: blame a cgroup first, then its worst process. */
static void evaluate_host(daemon_ctx *d, uint64_t now) {
        char buf[512];
        gd_sample s;

        if (d->host_psi_fd < 0)
                return;
        memset(&s, 0, sizeof(s));
        s.at_ms = now;
        s.max = s.high = CG_UNLIMITED;
        ssize_t n = cg_pread_file(d->host_psi_fd, buf, sizeof(buf));
        s.psi_ok = n >= 0 && cg_parse_psi(buf, (size_t)n, &s.psi) == 0;
        gd_decision dec = gd_decide(&d->thresholds, &d->host_state, &s, now);
        if (dec.action == GD_ACTION_NONE)
                return;
        dec.trigger = GD_TRIGGER_HOST_PRESSURE;
        for (size_t i = 0; i < MAX_PENDING; i++)
                if (d->pending[i].used)
                        return; /* let the kill in flight land first */

        const char *rel = "";
        uint64_t memory_before = 0;
        if (d->host.root.has_memory) {
                gd_blame_candidate *cands = calloc(d->watch.n_slots, sizeof(*cands));
                if (!cands)
                        return;
                for (size_t i = 0; i < d->watch.n_slots; i++) {
                        gd_watched *c = &d->watch.slots[i];
                        if (!c->in_use || !*c->rel || c->current_fd < 0)
                                continue;
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
                        /* Growth: the last full window, or the one in progress
                         * if it already shows more. */
                        uint64_t cur = c->last_current;
                        uint64_t partial = cur > c->baseline_current ? cur - c->baseline_current : 0;
                        uint64_t growth = c->growth > partial ? c->growth : partial;
                        b->prev_current = growth && growth < cur ? cur - growth : 0;
                        b->n_killable = npids;
                        size_t self_len = strlen(d->self_cgroup + 1);
                        b->protected_cgroup =
                                strncmp(c->rel, "init.scope", 10) == 0 ||
                                (self_len && strncmp(c->rel, d->self_cgroup + 1, self_len) == 0);
                }
                long pick = gd_blame_pick(cands, d->watch.n_slots);
                free(cands);
                if (pick >= 0) {
                        rel = d->watch.slots[pick].rel;
                        memory_before = d->watch.slots[pick].last_current;
                }
        }
        d->decisions++;
        gd_log(GD_LOG_INFO, "decision cgroup=%s action=kill-process trigger=host-pressure "
                            "value=%.3f threshold=%.3f reason=\"%s\"",
               *rel ? rel : "/", dec.value, dec.threshold, dec.reason);
        bool ok = kill_worst(d, NULL, rel, &dec, now - dec.sustained_ms, memory_before, now);
        if (!ok || d->dry_run)
                gd_decide_record(&d->thresholds, &d->host_state, ok, now);
}

static void on_tick(daemon_ctx *d, uint64_t now) {
        bool any_hot = false;
        /* Light checks of every cgroup once a second, whatever the tick
         * (with slack: a 1 s tick may be measured as 999 ms). */
        bool light_due = now - d->last_light_ms >= SLOW_TICK_MS - FAST_TICK_MS / 2;

        if (light_due)
                d->last_light_ms = now;
        for (size_t i = 0; i < d->watch.n_slots; i++) {
                gd_watched *c = &d->watch.slots[i];
                if (!c->in_use || !*c->rel)
                        continue;
                bool hot = now < c->hot_until_ms;
                if (light_due)
                        hot = gd_watch_light_check(&d->watch, c, now) || hot;
                if (hot) {
                        evaluate(d, c, now);
                        any_hot = any_hot || (c->in_use && now < c->hot_until_ms);
                }
        }
        evaluate_host(d, now);
        for (size_t i = 0; i < MAX_PENDING; i++) {
                pending_kill *p = &d->pending[i];
                if (p->used && gd_act_exited(p->pidfd) == 1)
                        finish_pending(d, p, "killed", now);
                else if (p->used && now >= p->deadline_ms)
                        finish_pending(d, p, "timeout", now);
                any_hot = any_hot || p->used;
        }
        set_tick(d, any_hot || d->host_state.pressure_since_ms);
}

static int setup_host_psi(daemon_ctx *d) {
        int fd = openat(d->host.procfd, "pressure/memory", O_RDWR | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0)
                fd = openat(d->host.procfd, "pressure/memory", O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                gd_log(GD_LOG_NOTICE, "no %s/pressure/memory (kernel without PSI, or psi=0): "
                                      "host-wide pressure is not watched",
                       d->host.proc_path);
                return -1;
        }
        if (write(fd, "some 150000 1000000", 20) >= 0) {
                struct epoll_event ev = {.events = EPOLLPRI, .data.u64 = gd_tag(GD_TAG_HOST_PSI, 0, 0)};
                if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) == 0)
                        return fd;
        }
        /* Refused: polled on the tick like the cgroups. Keep a plain fd. */
        close(fd);
        return openat(d->host.procfd, "pressure/memory", O_RDONLY | O_CLOEXEC);
}

/* Guardian must outlive what it guards: the kernel never picks it, and its
 * pages stay in RAM so that it can still run when the host is out of it. */
static void protect_self(void) {
        int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, "-1000", 5) < 0)
                gd_log(GD_LOG_WARNING, "cannot set own oom_score_adj to -1000: %s, ignoring",
                       strerror(errno));
        if (fd >= 0)
                close(fd);
#if !defined(__SANITIZE_ADDRESS__)
        /* MCL_ONFAULT: lock what is used, not every reserved mapping. */
        if (mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) < 0)
                gd_log(GD_LOG_WARNING, "mlockall: %s, ignoring", strerror(errno));
        /* The kill path (snapshot, ranking) allocates; under a host OOM a
         * request for new pages could stall in reclaim. So all allocations
         * come from the heap (no mmap), the heap is never given back, and
         * a reserve is faulted in (and locked) now: later allocations reuse
         * it without asking the kernel for memory. */
        mallopt(M_MMAP_MAX, 0);
        mallopt(M_TRIM_THRESHOLD, INT_MAX);
        char *reserve = malloc(HEAP_RESERVE_BYTES);
        if (reserve) {
                explicit_bzero(reserve, HEAP_RESERVE_BYTES); /* not optimised away */
                free(reserve);
        }
#endif
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < NOFILE_WANTED) {
                rl.rlim_cur = rl.rlim_max < NOFILE_WANTED ? rl.rlim_max : NOFILE_WANTED;
                setrlimit(RLIMIT_NOFILE, &rl);
        }
}

static void run_usage(FILE *out) {
        fputs("usage: guardian run [--dry-run] [--audit-log FILE] [--cgroup-root DIR]\n"
              "                    [--proc-root DIR] [--verbose]\n"
              "\n"
              "Watch every cgroup and kill the worst process of a cgroup about to hit its\n"
              "limit or stalled by memory pressure, before the kernel's OOM killer does.\n"
              "Runs in the foreground and logs to stderr. SIGTERM/SIGINT stop it; SIGHUP\n"
              "re-reads the policy (the embedded default policy is the only one so far).\n",
              out);
}

static const char *default_audit_path(char *buf, size_t size) {
        const char *state = getenv("STATE_DIRECTORY"); /* systemd's StateDirectory= */
        if (state && *state) {
                const char *colon = strchr(state, ':');
                int len = colon ? (int)(colon - state) : (int)strlen(state);
                snprintf(buf, size, "%.*s/audit.jsonl", len, state);
        } else {
                snprintf(buf, size, "%s/audit.jsonl", DEFAULT_AUDIT_DIR);
        }
        return buf;
}

static int loop(daemon_ctx *d) {
        struct epoll_event events[64];

        for (;;) {
                int n = epoll_wait(d->epfd, events, 64, -1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        gd_log(GD_LOG_ERR, "epoll_wait: %s", strerror(errno));
                        return 1;
                }
                uint64_t now = now_ms();
                for (int i = 0; i < n; i++) {
                        uint64_t tag = events[i].data.u64;
                        switch (gd_tag_kind_of(tag)) {
                        case GD_TAG_SIGNAL: {
                                struct signalfd_siginfo si;
                                while (read(d->sigfd, &si, sizeof(si)) == sizeof(si)) {
                                        if (si.ssi_signo == SIGHUP) {
                                                gd_log(GD_LOG_INFO, "SIGHUP: no policy file in use; "
                                                                    "the embedded default policy stays in force");
                                        } else {
                                                gd_log(GD_LOG_INFO, "%s: exiting",
                                                       strsignal((int)si.ssi_signo));
                                                return 0;
                                        }
                                }
                                break;
                        }
                        case GD_TAG_TIMER: {
                                uint64_t expirations;
                                if (read(d->timerfd, &expirations, sizeof(expirations)) < 0) {
                                        /* EAGAIN: already drained */
                                }
                                on_tick(d, now);
                                break;
                        }
                        case GD_TAG_INOTIFY:
                                gd_watch_handle_inotify(&d->watch);
                                break;
                        case GD_TAG_EVENTS:
                        case GD_TAG_PRESSURE: {
                                gd_watched *c = gd_watch_lookup(&d->watch, tag);
                                if (!c)
                                        break;
                                /* kernfs reports every change as PRI|ERR; a removed
                                 * cgroup shows as ENODEV when sampled. */
                                c->hot_until_ms = now + 10000;
                                evaluate(d, c, now);
                                set_tick(d, true);
                                break;
                        }
                        case GD_TAG_HOST_PSI:
                                evaluate_host(d, now);
                                set_tick(d, true);
                                break;
                        case GD_TAG_PIDFD: {
                                pending_kill *p = &d->pending[gd_tag_slot(tag) % MAX_PENDING];
                                if (p->used)
                                        finish_pending(d, p, "killed", now);
                                break;
                        }
                        default:
                                break;
                        }
                }
        }
}

int gd_cmd_run(int argc, char **argv) {
        static const struct option options[] = {
                {"dry-run", no_argument, NULL, 'n'},
                {"audit-log", required_argument, NULL, 'a'},
                {"cgroup-root", required_argument, NULL, 'c'},
                {"proc-root", required_argument, NULL, 'p'},
                {"verbose", no_argument, NULL, 'v'},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        const char *cgroup_root = NULL, *proc_root = NULL, *audit_path = NULL;
        char audit_buf[PATH_MAX];
        daemon_ctx *d;
        int opt, status = 1;

        d = calloc(1, sizeof(*d));
        if (!d)
                return 1;
        optind = 1;
        while ((opt = getopt_long(argc, argv, "+nvh", options, NULL)) != -1) {
                switch (opt) {
                case 'n': d->dry_run = true; break;
                case 'a': audit_path = optarg; break;
                case 'c': cgroup_root = optarg; break;
                case 'p': proc_root = optarg; break;
                case 'v': gd_log_set_level(GD_LOG_DEBUG); break;
                case 'h': run_usage(stdout); free(d); return 0;
                default: run_usage(stderr); free(d); return 2;
                }
        }
        if (optind != argc) {
                run_usage(stderr);
                free(d);
                return 2;
        }
        d->epfd = d->sigfd = d->timerfd = d->host_psi_fd = -1;
        gd_thresholds_default(&d->thresholds);
        if (!audit_path)
                audit_path = default_audit_path(audit_buf, sizeof(audit_buf));

        if (gd_host_open(cgroup_root, proc_root, &d->host) < 0)
                goto out_free;
        protect_self();
        if (proc_read_cgroup(d->host.procfd, getpid(), d->self_cgroup, sizeof(d->self_cgroup)) < 0)
                snprintf(d->self_cgroup, sizeof(d->self_cgroup), "/");
        if (strcmp(d->self_cgroup, "/") == 0)
                d->self_cgroup[1] = '\0';

        int r = gd_audit_open(audit_path, &d->audit);
        if (r < 0) {
                gd_log(GD_LOG_ERR, "cannot open the audit log %s: %s", audit_path, strerror(-r));
                goto out;
        }

        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        signal(SIGPIPE, SIG_IGN);
        d->epfd = epoll_create1(EPOLL_CLOEXEC);
        d->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
        d->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        if (d->epfd < 0 || d->sigfd < 0 || d->timerfd < 0) {
                gd_log(GD_LOG_ERR, "cannot set up the event loop: %s", strerror(errno));
                goto out;
        }
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = gd_tag(GD_TAG_SIGNAL, 0, 0)};
        epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->sigfd, &ev);
        ev.data.u64 = gd_tag(GD_TAG_TIMER, 0, 0);
        epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->timerfd, &ev);

        r = gd_reaper_start(&d->reaper);
        if (r < 0)
                gd_log(GD_LOG_WARNING, "no reaper thread (%s): killed processes free their "
                                       "memory at their own pace", strerror(-r));

        r = gd_watch_init(&d->watch, d->epfd, d->host.rootfd, d->host.root.has_memory);
        if (r < 0) {
                gd_log(GD_LOG_ERR, "inotify: %s", strerror(-r));
                goto out;
        }
        r = gd_watch_add_tree(&d->watch, "");
        if (r < 0) {
                gd_log(GD_LOG_ERR, "cannot watch %s: %s", d->host.root.path, strerror(-r));
                goto out;
        }
        d->host_psi_fd = setup_host_psi(d);
        if (!d->host.root.has_memory)
                gd_log(GD_LOG_NOTICE,
                       "no memory controller in the cgroup v2 hierarchy at %s%s: memory.events, "
                       "memory.current and memory.max are not available, so guardian acts on "
                       "memory pressure only (per-cgroup and host PSI) and scores processes "
                       "against host RAM + swap",
                       d->host.root.path,
                       d->host.root.mode == CG_MODE_HYBRID ? " (hybrid cgroup host)" : "");
        gd_log(GD_LOG_INFO,
               "watching %zu cgroups under %s (%s, PSI triggers %s)%s; audit log %s; policy: "
               "embedded default",
               d->watch.n_watched, d->host.root.path,
               d->host.root.has_memory ? "memory controller" : "no memory controller",
               d->watch.psi_triggers ? "armed" : "refused, polling", d->dry_run ? "; DRY RUN" : "",
               audit_path);
        set_tick(d, false);
        status = loop(d);

        /* A kill whose victim has not been seen dying yet still gets its
         * record: the signal was sent. */
        for (size_t i = 0; i < MAX_PENDING; i++)
                if (d->pending[i].used)
                        finish_pending(d, &d->pending[i], "killed", now_ms());
out:
        gd_watch_free(&d->watch);
        gd_reaper_stop(d->reaper);
        gd_audit_close(d->audit);
        if (d->host_psi_fd >= 0)
                close(d->host_psi_fd);
        if (d->timerfd >= 0)
                close(d->timerfd);
        if (d->sigfd >= 0)
                close(d->sigfd);
        if (d->epfd >= 0)
                close(d->epfd);
        gd_host_close(&d->host);
out_free:
        free(d);
        return status;
}
