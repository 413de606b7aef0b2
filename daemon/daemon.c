#include "daemon/daemon.h"
#include "daemon/daemon_ctx.h"
#include "act/enforce.h"

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
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "proc/proc.h"
#include "act/act.h"
#include "record/audit.h"
#include "decide/decide.h"
#include "cgroup/host.h"
#include "util/log.h"
#include "util/oomadj.h"
#include "daemon/sandbox.h"
#include "proc/snapshot.h"
#include "watch/watch.h"
#include "hookrunner/hookrunner.h"
#include "daemon/loop.h"
#include "daemon/notices.h"

/* While any cgroup is hot, sample it this often: a hog at TCG speed
 * fills 100 MiB in about a second, so 100 ms leaves room to act. */
#define FAST_TICK_MS 100
/* Otherwise: light checks of memory.current (and polled PSI) as often as
 * the policy's poll_interval says, within these bounds: faster would be
 * busy polling, slower would miss a hog's growth between two looks. */
#define SLOW_TICK_MIN_MS 200
#define SLOW_TICK_MAX_MS 10000
/* Host memory use from which the tick goes fast. */
#define HOST_HOT_RATIO 0.80
/* Policy files settle: editors and ConfigMap swaps write in steps. */
#define RELOAD_DEBOUNCE_MS 200
/* Protections are re-applied this often, for processes that appeared. */
#define ENFORCE_MS 5000
/* Enough fds for thousands of cgroups with four open files each. */
#define NOFILE_WANTED 65536
#define DEFAULT_AUDIT_DIR "/var/lib/guardian"
/* Pre-faulted heap for the kill path: a snapshot costs ~650 bytes a
 * process, so this covers a cgroup (or a host) of ~6,000 processes; a
 * bigger one still works, with fresh pages from the kernel. */
#define HEAP_RESERVE_BYTES (4u << 20)

static void set_tick(daemon_ctx *d, bool fast) {
        if (d->fast == fast && d->timerfd >= 0)
                return;
        d->fast = fast;
        uint64_t ms = fast ? FAST_TICK_MS : d->slow_tick_ms;
        struct itimerspec its = {
                .it_interval = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L},
                .it_value = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L},
        };
        timerfd_settime(d->timerfd, 0, &its, NULL);
}

static void evaluate(daemon_ctx *d, gd_watched *c, uint64_t now) {
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
        if (action == POL_ACTION_NOTIFY) {
                gd_notify(d, c, w, &dec, s.current, now);
                return;
        }
        if (action == POL_ACTION_KILL_CGROUP) {
                gd_kill_cgroup(d, c, &dec, s.current, now);
                return;
        }
        gd_kill_result k = gd_kill_worst(d, c, c->rel, &dec, trigger_ms, s.current, now);
        /* Waiting records nothing: the next sample decides afresh. */
        if (k == GD_KILL_FAILED || (k == GD_KILL_STARTED && d->dry_run))
                gd_decide_record(&t, &c->state, d->dry_run, now);
}

/* Host-wide trouble (memory nearly gone, or stalls while it is tight):
 * blame a cgroup first, then its worst process. */
static void evaluate_host(daemon_ctx *d, uint64_t now) {
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
        gd_decision dec = gd_decide(&t, &d->host_state, &s, now);
        if (dec.action == POL_ACTION_NONE)
                return;
        /* Keep the host's own reading in the reason; say it is the host. */
        char reason[sizeof(dec.reason) + 8];
        snprintf(reason, sizeof(reason), "host: %s", dec.reason);
        snprintf(dec.reason, sizeof(dec.reason), "%.*s", (int)sizeof(dec.reason) - 1, reason);
        dec.trigger = GD_TRIGGER_HOST_PRESSURE;
        for (size_t i = 0; i < GD_MAX_PENDING; i++)
                if (d->pending[i].used)
                        return; /* let the kill in flight land first */

        const char *rel = "";
        uint64_t memory_before = 0;
        gd_watched *picked = NULL;
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
                        b->growth = c->growth;
                        /* Cgroups below that are not watched on their own
                         * (depth cap, fd budget) answer to this one: their
                         * processes may be the ones to blame. */
                        b->n_killable = npids + (c->unwatched_below ? 1 : 0);
                        const pol_workload *cw = gd_watch_workload(&d->watch, c, d->policy);
                        b->protected_cgroup = gd_cgroup_protected(d, c->rel) ||
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
                        gd_decide_record(&t, &d->host_state, false, now);
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
        if (picked && action == POL_ACTION_NOTIFY) {
                gd_notify(d, picked, pw, &dec, memory_before, now);
                gd_decide_record(&t, &d->host_state, true, now);
                return;
        }
        if (picked && action == POL_ACTION_KILL_CGROUP) {
                gd_kill_cgroup(d, picked, &dec, memory_before, now);
                gd_decide_record(&t, &d->host_state, true, now);
                return;
        }
        gd_kill_result k = gd_kill_worst(d, NULL, rel, &dec, now - dec.sustained_ms,
                                         memory_before, now);
        if (k == GD_KILL_FAILED || (k == GD_KILL_STARTED && d->dry_run))
                gd_decide_record(&t, &d->host_state, k == GD_KILL_STARTED, now);
}

/* The policy's settings: dry_run adds to --dry-run, poll_interval sets the
 * slow tick. */
static void apply_settings(daemon_ctx *d) {
        uint64_t ms = d->policy->settings.poll_interval_ms;

        d->dry_run = d->cli_dry_run || d->policy->settings.dry_run;
        /* The watchdog is fed on the tick: tick at least as often as it
         * wants pings (never below the minimum: a watchdog under 4 x that
         * is fed every SLOW_TICK_MIN_MS, still within half its interval
         * down to 400 ms). */
        uint64_t ping_ms = gd_sdnotify_ping_every(&d->sdnotify) / 1000;
        if (ping_ms && ms > ping_ms)
                ms = ping_ms;
        d->slow_tick_ms = ms < SLOW_TICK_MIN_MS ? SLOW_TICK_MIN_MS
                          : ms > SLOW_TICK_MAX_MS ? SLOW_TICK_MAX_MS : ms;
}

/* The manager's one-line status: what `systemctl status` shows. */
static void notify_ready(daemon_ctx *d) {
        char status[256];

        snprintf(status, sizeof(status), "watching %zu cgroups; policy %s (%zu workloads)%s",
                 d->watch.n_watched, pol_source_name(&d->policy_src.where),
                 d->policy ? d->policy->n_workloads : 0, d->dry_run ? "; DRY RUN" : "");
        gd_sdnotify_ready(&d->sdnotify, status);
}

/* A new policy replaces the old one only whole and only when valid; the
 * cgroups' sustain timers and cooldowns carry over. */
static void reload_policy(daemon_ctx *d) {
        pol_policy *p = NULL;

        d->reload_pending = false;
        gd_sdnotify_reloading(&d->sdnotify);
        if (gd_policy_load(&d->policy_src.where, &p) < 0) {
                d->stats.reloads_error++;
                gd_log(GD_LOG_ERR, "the new policy from {source} is not valid: keeping the "
                                   "policy in force ({workloads} workloads)",
                       GD_STR("source", pol_source_name(&d->policy_src.where)),
                       GD_UINT("workloads", d->policy ? d->policy->n_workloads : 0));
                notify_ready(d);
                return;
        }
        pol_free(d->policy);
        d->policy = p;
        gd_watch_policy_changed(&d->watch);
        gd_hooks_policy_changed(d->hooks);
        d->stats.reloads_ok++;
        apply_settings(d);
        d->fast = !d->fast; /* re-arm the timer with the new interval */
        set_tick(d, !d->fast);
        gd_log(GD_LOG_NOTICE,
               d->dry_run ? "policy reloaded from {source}: {workloads} workloads (dry run)"
                          : "policy reloaded from {source}: {workloads} workloads",
               GD_STR("source", pol_source_name(&d->policy_src.where)),
               GD_UINT("workloads", p->n_workloads));
        d->last_enforce_ms = 0; /* apply the new protections on the next tick */
        notify_ready(d);
}

static void on_tick(daemon_ctx *d, uint64_t now) {
        bool any_hot = false;
        /* Light checks of every cgroup once a second, whatever the tick
         * (with slack: a 1 s tick may be measured as 999 ms). */
        bool light_due = now - d->last_light_ms >= d->slow_tick_ms - FAST_TICK_MS / 2;

        if (light_due) {
                d->last_light_ms = now;
                /* Cgroups whose directory watch was refused: their new
                 * children are found by listing, once a second; past the fd
                 * budget the tree is walked again every 10 s. */
                gd_watch_retry_dir_watches(&d->watch);
                gd_watch_rescan(&d->watch, now);
        }
        gd_sdnotify_watchdog(&d->sdnotify, now * 1000);
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
        any_hot = gd_pending_tick(d, now) || any_hot;
        if (d->reload_pending && now >= d->reload_at_ms)
                reload_policy(d);
        gd_control_tick(&d->control, now);
        if (now - d->last_enforce_ms >= ENFORCE_MS) {
                d->last_enforce_ms = now;
                gd_enforce_pass(&d->host, d->policy, &d->watch, d->knobs, d->dry_run,
                                gd_notice_enforce, NULL);
        }
        set_tick(d, any_hot || d->host_state.pressure_since_ms || d->host_hot ||
                            d->reload_pending);
}

static int setup_host_psi(daemon_ctx *d) {
        int fd = openat(d->host.procfd, "pressure/memory", O_RDWR | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0)
                fd = openat(d->host.procfd, "pressure/memory", O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                gd_log(GD_LOG_NOTICE, "no {proc}/pressure/memory (kernel without PSI, or "
                                      "psi=0): host-wide pressure is not watched",
                       GD_STR("proc", d->host.proc_path));
                return -1;
        }
        if (write(fd, "some 150000 1000000", 20) >= 0) {
                struct epoll_event ev = {.events = EPOLLPRI, .data.u64 = gd_tag(GD_TAG_HOST_PSI, 0, 0)};
                if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) == 0) {
                        d->host_psi_trigger = true;
                        return fd;
                }
        }
        /* Refused: polled on the tick like the cgroups. Keep a plain fd. */
        gd_log(GD_LOG_NOTICE, "the kernel refused a PSI trigger on {proc}/pressure/memory "
                              "({error}): polling host pressure on a timer instead",
               GD_STR("proc", d->host.proc_path), GD_ERRNO(errno));
        close(fd);
        return openat(d->host.procfd, "pressure/memory", O_RDONLY | O_CLOEXEC);
}

/* Guardian must outlive what it guards: the kernel never picks it, and its
 * pages stay in RAM so that it can still run when the host is out of it. */
static void protect_self(void) {
        int r = gd_oomadj_write_self(GD_OOMADJ_MIN);
        if (r < 0)
                gd_log(GD_LOG_WARNING, "cannot set own oom_score_adj to -1000: {error}, ignoring",
                       GD_ERRNO(-r));
#if defined(__SANITIZE_ADDRESS__)
        /* MCL_ONFAULT: ASan reserves terabytes of shadow; lock only what
         * is used. */
        if (mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) < 0)
                gd_log(GD_LOG_WARNING, "mlockall: {error}, ignoring", GD_ERRNO(errno));
#else
        /* The kill path (snapshot, ranking) allocates; under a host OOM a
         * request for new pages could stall in reclaim. So all allocations
         * come from one heap (no mmap, no per-thread arena), the heap is
         * never given back, and a reserve is faulted in (and locked) now:
         * later allocations reuse it without asking the kernel for memory. */
        mallopt(M_ARENA_MAX, 1);
        mallopt(M_MMAP_MAX, 0);
        mallopt(M_TRIM_THRESHOLD, INT_MAX);
        char *reserve = malloc(HEAP_RESERVE_BYTES);
        if (reserve) {
                explicit_bzero(reserve, HEAP_RESERVE_BYTES); /* not optimised away */
                free(reserve);
        }
        /* No MCL_ONFAULT: every page of text and data is read in and locked
         * now, not on first use. Otherwise the kill path's code, never run
         * before the first kill, is read back from disk exactly when the
         * host is out of memory and the page cache is thrashing. */
        if (mlockall(MCL_CURRENT | MCL_FUTURE) < 0)
                gd_log(GD_LOG_WARNING, "mlockall: {error}, ignoring", GD_ERRNO(errno));
#endif
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < NOFILE_WANTED) {
                /* Raising the hard limit needs CAP_SYS_RESOURCE; without it,
                 * take what the hard limit allows. */
                struct rlimit want = {NOFILE_WANTED, rl.rlim_max > NOFILE_WANTED ? rl.rlim_max
                                                                                 : NOFILE_WANTED};
                if (setrlimit(RLIMIT_NOFILE, &want) < 0) {
                        rl.rlim_cur = rl.rlim_max < NOFILE_WANTED ? rl.rlim_max : NOFILE_WANTED;
                        setrlimit(RLIMIT_NOFILE, &rl);
                        gd_log(GD_LOG_WARNING, "open files limited to {nofile}: about {cgroups} "
                                               "cgroups can be watched",
                               GD_UINT("nofile", rl.rlim_cur),
                               GD_UINT("cgroups", gd_watch_budget_for(rl.rlim_cur)));
                }
        }
}

/* What the start-up line says of PSI triggers: only what was armed. */
static const char *psi_state(const daemon_ctx *d) {
        bool cgroups = false;
        for (size_t i = 0; i < d->watch.n_slots && !cgroups; i++)
                cgroups = d->watch.slots[i].in_use && d->watch.slots[i].psi_trigger;
        if (cgroups && d->host_psi_trigger)
                return "armed on cgroups and host";
        if (cgroups)
                return "armed on cgroups, host polled";
        if (d->host_psi_trigger)
                return d->watch.n_watched > 1 ? "armed on host, cgroups polled" : "armed on host";
        return d->host_psi_fd >= 0 ? "refused, polling" : "unavailable";
}

static void run_usage(FILE *out) {
        fputs("usage: guardian run [--dry-run] [--policy FILE | --policy-dir DIR]\n"
              "                    [--audit-log FILE] [--cgroup-root DIR] [--proc-root DIR]\n"
              "                    [--control-socket PATH|none] [--metrics-address ADDR:PORT]\n"
              "                    [--verbose] [--log-level err|warning|notice|info|debug]\n"
              "                    [--log-format text|logfmt|json] [--no-sandbox]\n"
              "\n"
              "Watch every cgroup and kill the worst process of a cgroup about to hit its\n"
              "limit or stalled by memory pressure, before the kernel's OOM killer does.\n"
              "Runs in the foreground and logs to stderr. SIGTERM/SIGINT stop it; SIGHUP\n"
              "re-reads the policy (a policy that does not validate leaves the old one in\n"
              "force). Without --policy or --policy-dir, " POL_DEFAULT_DIR " is read when\n"
              "it exists, else the embedded default policy (guardian default-policy).\n"
              "The control socket (guardian status, /metrics) is root-only, by default\n"
              "$RUNTIME_DIRECTORY/" GD_CONTROL_SOCKET_NAME " or " GD_CONTROL_DEFAULT_DIR "/" GD_CONTROL_SOCKET_NAME "; --metrics-address\n"
              "also serves /metrics on a loopback TCP address (127.0.0.1:PORT, [::1]:PORT);\n"
              "a port taken at start is retried every second, and guardian runs meanwhile.\n"
              "Before the loop it drops all capabilities but a few and installs a seccomp\n"
              "allow-list (see guardian(8), SANDBOX); --no-sandbox is for debugging only.\n",
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

/* The event loop's handlers (loop.h), one per source; userdata is the
 * daemon_ctx. */

static bool on_signal(void *userdata, uint64_t tag, uint32_t events, uint64_t now) {
        daemon_ctx *d = userdata;
        struct signalfd_siginfo si;

        while (read(d->sigfd, &si, sizeof(si)) == sizeof(si)) {
                if (si.ssi_signo != SIGHUP) {
                        gd_log(GD_LOG_INFO, "{signal}: exiting",
                               GD_STR("signal", strsignal((int)si.ssi_signo)));
                        return true;
                }
                gd_log(GD_LOG_INFO, "SIGHUP: reloading the policy");
                reload_policy(d);
        }
        return false;
}

static bool on_timer(void *userdata, uint64_t tag, uint32_t events, uint64_t now) {
        daemon_ctx *d = userdata;
        uint64_t expirations;

        if (read(d->timerfd, &expirations, sizeof(expirations)) < 0) {
                /* EAGAIN: already drained */
        }
        on_tick(d, now);
        return false;
}

static bool on_inotify(void *userdata, uint64_t tag, uint32_t events, uint64_t now) {
        daemon_ctx *d = userdata;

        gd_watch_handle_inotify(&d->watch);
        return false;
}

/* memory.events changed or a PSI trigger fired, for one watched cgroup. */
static bool on_cgroup(void *userdata, uint64_t tag, uint32_t events, uint64_t now) {
        daemon_ctx *d = userdata;

        d->stats.trigger_events[gd_tag_kind_of(tag) == GD_TAG_EVENTS ? GD_SOURCE_MEMORY_EVENTS
                                                                     : GD_SOURCE_PSI]++;
        gd_watched *c = gd_watch_lookup(&d->watch, tag);
        if (!c)
                return false;
        /* kernfs reports every change as PRI|ERR; a removed cgroup shows
         * as ENODEV when sampled. */
        c->hot_until_ms = now + 10000;
        evaluate(d, c, now);
        set_tick(d, true);
        return false;
}

static bool on_host_psi(void *userdata, uint64_t tag, uint32_t events, uint64_t now) {
        daemon_ctx *d = userdata;

        d->stats.trigger_events[GD_SOURCE_HOST_PSI]++;
        evaluate_host(d, now);
        set_tick(d, true);
        return false;
}

static bool on_pidfd(void *userdata, uint64_t tag, uint32_t events, uint64_t now) {
        daemon_ctx *d = userdata;

        /* Stale (NULL): that kill is over, and the slot may hold another
         * victim that is still alive. */
        pending_kill *p = gd_pending_for_tag(d->pending, GD_MAX_PENDING, tag);
        if (p && gd_act_exited(p->pidfd) == 1)
                gd_finish_pending(d, p, GD_RESULT_KILLED, now);
        return false;
}

static bool on_policy(void *userdata, uint64_t tag, uint32_t events, uint64_t now) {
        daemon_ctx *d = userdata;

        if (gd_policy_changed(&d->policy_src)) {
                d->reload_pending = true;
                d->reload_at_ms = now + RELOAD_DEBOUNCE_MS;
                set_tick(d, true);
        }
        return false;
}

static bool on_control(void *userdata, uint64_t tag, uint32_t events, uint64_t now) {
        gd_control_handle(userdata, tag, events, now);
        return false;
}

static void on_control_wakeup(void *userdata) {
        gd_control_wakeup(userdata);
}

static void after_wakeup(void *userdata, uint64_t cost_ns) {
        daemon_ctx *d = userdata;

        gd_notice_watch(&d->watch);
        gd_stats_loop(&d->stats, cost_ns);
}

/* Every source's handler on the loop. Clients are answered last: what the
 * kernel reported in the same wake-up goes first, and a wake-up renders at
 * most one document (control.h). */
static void loop_register(daemon_ctx *d, gd_loop *l) {
        static const struct {
                gd_tag_kind kind;
                gd_loop_handler_fn handle;
        } own[] = {
                {GD_TAG_SIGNAL, on_signal},     {GD_TAG_TIMER, on_timer},
                {GD_TAG_INOTIFY, on_inotify},   {GD_TAG_EVENTS, on_cgroup},
                {GD_TAG_PRESSURE, on_cgroup},   {GD_TAG_HOST_PSI, on_host_psi},
                {GD_TAG_PIDFD, on_pidfd},       {GD_TAG_POLICY, on_policy},
        };
        const gd_loop_source control = {.handle = on_control, .wakeup = on_control_wakeup,
                                         .userdata = &d->control, .last = true};

        gd_loop_init(l, d->epfd);
        for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
                gd_loop_on(l, own[i].kind, &(gd_loop_source){.handle = own[i].handle,
                                                             .userdata = d});
        gd_loop_on(l, GD_TAG_CONTROL_LISTEN, &control);
        gd_loop_on(l, GD_TAG_CONTROL_CONN, &control);
        l->after = after_wakeup;
        l->after_userdata = d;
}

/* The hook runner's child side: its own copy of the policy, and the
 * daemon's source to re-read it from. */
__attribute__((noreturn)) static void hook_runner(int sock, void *ctx) {
        daemon_ctx *d = ctx;

        gd_hooks_runner_main(sock, &d->policy_src.where, d->policy);
}

int gd_cmd_run(int argc, char **argv) {
        static const struct option options[] = {
                {"dry-run", no_argument, NULL, 'n'},
                {"policy", required_argument, NULL, 'P'},
                {"policy-dir", required_argument, NULL, 'D'},
                {"audit-log", required_argument, NULL, 'a'},
                {"cgroup-root", required_argument, NULL, 'c'},
                {"proc-root", required_argument, NULL, 'p'},
                {"verbose", no_argument, NULL, 'v'},
                {"control-socket", required_argument, NULL, 'S'},
                {"metrics-address", required_argument, NULL, 'M'},
                {"log-format", required_argument, NULL, 'F'},
                {"log-level", required_argument, NULL, 'L'},
                {"no-sandbox", no_argument, NULL, 'N'},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        const char *cgroup_root = NULL, *proc_root = NULL, *audit_path = NULL;
        const char *control_socket = NULL, *metrics_address = NULL;
        char audit_buf[PATH_MAX];
        daemon_ctx *d;
        int opt, r, status = 1;
        bool sandbox = true;

        d = calloc(1, sizeof(*d));
        if (!d)
                return 1;
        optind = 1;
        while ((opt = getopt_long(argc, argv, "+nvh", options, NULL)) != -1) {
                switch (opt) {
                case 'n': d->cli_dry_run = true; break;
                case 'P': d->policy_src.where.file = optarg; break;
                case 'D': d->policy_src.where.dir = optarg; break;
                case 'a': audit_path = optarg; break;
                case 'c': cgroup_root = optarg; break;
                case 'p': proc_root = optarg; break;
                case 'v': gd_log_set_level(GD_LOG_DEBUG); break;
                case 'S': control_socket = optarg; break;
                case 'M': metrics_address = optarg; break;
                case 'F':
                case 'L':
                        if (gd_log_apply_option(opt == 'F', optarg) < 0) {
                                free(d);
                                return 2;
                        }
                        break;
                case 'N': sandbox = false; break;
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
        d->policy_src.inotify_fd = -1;
        if (d->policy_src.where.file && d->policy_src.where.dir) {
                gd_log(GD_LOG_ERR, "--policy and --policy-dir exclude each other");
                free(d);
                return 2;
        }
        pol_source_default(&d->policy_src.where);
        if (gd_policy_load(&d->policy_src.where, &d->policy) < 0) {
                gd_log(GD_LOG_ERR, "not starting without a valid policy (guardian check shows "
                                   "the same problems)");
                free(d);
                return 1;
        }
        /* Connected now, before the sandbox: later only send() on it. */
        r = gd_sdnotify_open(&d->sdnotify);
        if (r < 0)
                gd_log(GD_LOG_WARNING, "NOTIFY_SOCKET: {error}, not notifying the service manager",
                       GD_ERRNO(-r));
        apply_settings(d);
        if (!audit_path)
                audit_path = default_audit_path(audit_buf, sizeof(audit_buf));

        /* Forked first: before threads, the sandbox, and the locked heap. */
        r = gd_hooks_start(hook_runner, d, &d->hooks);
        if (r < 0)
                gd_log(GD_LOG_WARNING, "cannot start the hook runner: {error}: hooks are off",
                       GD_ERRNO(-r));
        /* After the fork (the runner closes what it inherits): a stalled
         * journal or log reader must not stall the loop. */
        r = gd_log_open_nonblocking();
        if (r < 0)
                gd_log(GD_LOG_WARNING, "stderr stays blocking ({error}): a stalled log reader can "
                                       "delay guardian",
                       GD_ERRNO(-r));
        char why[PATH_MAX + 128];
        if (gd_host_open(cgroup_root, proc_root, why, sizeof(why), &d->host) < 0) {
                gd_log(GD_LOG_ERR, "{problem}", GD_STR("problem", why));
                goto out_free;
        }
        protect_self();
        gd_cgns_detect(d->host.rootfd, d->host.procfd, d->host.root.path, &d->cgns,
                       d->self_cgroup, sizeof(d->self_cgroup));

        r = gd_audit_open(audit_path, &d->audit);
        if (r < 0) {
                gd_log(GD_LOG_ERR, "cannot open the audit log {path}: {error}",
                       GD_STR("path", audit_path), GD_ERRNO(-r));
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
                gd_log(GD_LOG_ERR, "cannot set up the event loop: {error}", GD_ERRNO(errno));
                goto out;
        }
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = gd_tag(GD_TAG_SIGNAL, 0, 0)};
        epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->sigfd, &ev);
        ev.data.u64 = gd_tag(GD_TAG_TIMER, 0, 0);
        epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->timerfd, &ev);

        r = gd_watch_init(&d->watch, d->epfd, d->host.rootfd, d->host.root.has_memory);
        if (r < 0) {
                gd_log(GD_LOG_ERR, "inotify: {error}", GD_ERRNO(-r));
                goto out;
        }
        struct rlimit nofile;
        if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY)
                gd_watch_set_fd_budget(&d->watch, nofile.rlim_cur);
        r = gd_watch_add_tree(&d->watch, "");
        gd_notice_watch(&d->watch);
        if (r < 0) {
                gd_log(GD_LOG_ERR, "cannot watch {root}: {error}", GD_STR("root", d->host.root.path),
                       GD_ERRNO(-r));
                goto out;
        }
        d->host_psi_fd = setup_host_psi(d);
        d->knobs = d->host.root.mode == CG_MODE_UNIFIED && d->host.root.has_memory &&
                   cg_knobs_init() == 0;
        r = gd_policy_watch(&d->policy_src, d->epfd, gd_tag(GD_TAG_POLICY, 0, 0));
        if (r < 0)
                gd_log(GD_LOG_WARNING, "cannot watch {source} for changes ({error}): reload with "
                                       "SIGHUP",
                       GD_STR("source", pol_source_name(&d->policy_src.where)), GD_ERRNO(-r));
        if (!d->host.root.has_memory)
                gd_log(GD_LOG_NOTICE,
                       d->host.root.mode == CG_MODE_HYBRID
                               ? "no memory controller in the cgroup v2 hierarchy at {root} "
                                 "(hybrid cgroup host): memory.events, memory.current and "
                                 "memory.max are not available, so guardian acts on memory "
                                 "pressure only (per-cgroup and host PSI) and scores processes "
                                 "against host RAM + swap"
                               : "no memory controller in the cgroup v2 hierarchy at {root}: "
                                 "memory.events, memory.current and memory.max are not "
                                 "available, so guardian acts on memory pressure only "
                                 "(per-cgroup and host PSI) and scores processes against host "
                                 "RAM + swap",
                       GD_STR("root", d->host.root.path));
        d->start_ms = gd_now_ms();
        d->start_unix_ms = (int64_t)time(NULL) * 1000;
        r = gd_control_open(&d->control, d->epfd, control_socket, metrics_address,
                            gd_daemon_render, gd_daemon_generation, d);
        if (r < 0 && (control_socket || metrics_address))
                goto out; /* asked for explicitly: not without it */
        if (r < 0)
                gd_log(GD_LOG_WARNING, "no control socket: guardian status and the metrics "
                                       "are not available, continuing");
        else if (*d->control.path && !metrics_address)
                gd_log(GD_LOG_INFO, "control socket {path}", GD_STR("path", d->control.path));
        else if (*d->control.path)
                gd_log(GD_LOG_INFO,
                       d->control.metrics.listening
                               ? "control socket {path}; metrics on {metrics}"
                               : "control socket {path}; metrics on {metrics} (not listening yet)",
                       GD_STR("path", d->control.path), GD_STR("metrics", metrics_address));
        /* Everything is set up: the loop runs sandboxed. Threads start
         * after it, with the reduced capabilities (they are per thread). */
        gd_sandbox_listen retry = {
                .fd = d->control.metrics.listening ? -1 : d->control.tcp_fd,
                .privileged_port = d->control.metrics.privileged_port,
        };
        if (gd_sandbox_start(sandbox, &retry) < 0)
                goto out;
        d->sandboxed = sandbox;
        r = gd_reaper_start(&d->reaper);
        if (r < 0)
                gd_log(GD_LOG_WARNING, "no reaper thread ({error}): killed processes free their "
                                       "memory at their own pace",
                       GD_ERRNO(-r));
        gd_log(GD_LOG_INFO,
               d->dry_run ? "watching {cgroups} cgroups under {root} ({memory}, PSI triggers: "
                            "{psi}); DRY RUN; audit log {audit}; policy: {source} ({workloads} "
                            "workloads)"
                          : "watching {cgroups} cgroups under {root} ({memory}, PSI triggers: "
                            "{psi}); audit log {audit}; policy: {source} ({workloads} workloads)",
               GD_UINT("cgroups", d->watch.n_watched), GD_STR("root", d->host.root.path),
               GD_STR("memory", d->host.root.has_memory ? "memory controller"
                                                        : "no memory controller"),
               GD_STR("psi", psi_state(d)), GD_STR("audit", audit_path),
               GD_STR("source", pol_source_name(&d->policy_src.where)),
               GD_UINT("workloads", d->policy->n_workloads));
        d->fast = true; /* differs from what is asked: arms the timer */
        set_tick(d, false);
        notify_ready(d);
        gd_sdnotify_watchdog(&d->sdnotify, gd_now_ms() * 1000);
        gd_loop loop;
        loop_register(d, &loop);
        r = gd_loop_run(&loop);
        if (r < 0)
                gd_log(GD_LOG_ERR, "epoll_wait: {error}", GD_ERRNO(-r));
        status = r < 0;
        gd_sdnotify_stopping(&d->sdnotify);

        /* Before the reaper and the hook runner stop: the last SIGKILLs
         * still get their early release, and their post-kill hooks go out. */
        gd_pending_shutdown(d, GD_SHUTDOWN_WAIT_MS);
out:
        gd_control_close(&d->control);
        gd_policy_unwatch(&d->policy_src);
        pol_free(d->policy);
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
        gd_sdnotify_close(&d->sdnotify);
        gd_hooks_stop(d->hooks);
        free(d);
        return status;
}
