/* What the daemon does on each wake-up of its event loop: a handler per
 * source (loop.h), the tick (light checks, samples of hot cgroups, kills
 * in flight, reloads, protections), and policy reloads. Start-up and
 * shutdown are daemon.c's. */
#include "daemon/state.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "act/enforce.h"
#include "daemon/notices.h"
#include "util/log.h"

/* While any cgroup is hot, sample it this often: a hog at TCG speed
 * fills 100 MiB in about a second, so 100 ms leaves room to act. */
#define FAST_TICK_MS 100
/* Otherwise: light checks of memory.current (and polled PSI) as often as
 * the policy's poll_interval says, within these bounds: faster would be
 * busy polling, slower would miss a hog's growth between two looks. */
#define SLOW_TICK_MIN_MS 200
#define SLOW_TICK_MAX_MS 10000
/* Policy files settle: editors and ConfigMap swaps write in steps. */
#define RELOAD_DEBOUNCE_MS 200
/* Protections are re-applied this often, for processes that appeared. */
#define ENFORCE_MS 5000
/* Container state files read per tick at most: a burst of new containers
 * (a node's pods rescheduled at once) is spread over ticks, the loop never
 * spends long on files. */
#define IDENT_READS_PER_TICK 16

void gd_set_tick(gd_daemon *d, bool fast) {
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

/* The policy's settings: dry_run adds to --dry-run, poll_interval sets the
 * slow tick. */
void gd_apply_settings(gd_daemon *d) {
        uint64_t ms = d->policy->settings.poll_interval_ms;

        d->dry_run = d->cli_dry_run || d->policy->settings.dry_run;
        /* The operator's pace for the cgroups that could be in trouble
         * soon; the rest are looked at less often (decide/look.h). */
        d->watch.look_min_ms = ms < SLOW_TICK_MIN_MS ? SLOW_TICK_MIN_MS
                               : ms > SLOW_TICK_MAX_MS ? SLOW_TICK_MAX_MS : ms;
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
void gd_daemon_ready(gd_daemon *d) {
        char status[256];

        snprintf(status, sizeof(status), "watching %zu cgroups; policy %s (%zu workloads)%s",
                 d->watch.n_watched, pol_source_name(&d->policy_src.where),
                 d->policy ? d->policy->n_workloads : 0, d->dry_run ? "; DRY RUN" : "");
        gd_sdnotify_ready(&d->sdnotify, status);
}

/* A new policy replaces the old one only whole and only when valid; the
 * cgroups' sustain timers and cooldowns carry over. */
static void reload_policy(gd_daemon *d) {
        pol_policy *p = NULL;

        d->reload_pending = false;
        gd_sdnotify_reloading(&d->sdnotify);
        if (gd_policy_load(&d->policy_src.where, &p) < 0) {
                d->stats.reloads_error++;
                gd_log(GD_LOG_ERR, "the new policy from {source} is not valid: keeping the "
                                   "policy in force ({workloads} workloads)",
                       GD_STR("source", pol_source_name(&d->policy_src.where)),
                       GD_UINT("workloads", d->policy ? d->policy->n_workloads : 0));
                gd_daemon_ready(d);
                return;
        }
        pol_free(d->policy);
        d->policy = p;
        gd_watch_policy_changed(&d->watch);
        gd_hooks_policy_changed(d->hooks);
        d->stats.reloads_ok++;
        gd_apply_settings(d);
        d->fast = !d->fast; /* re-arm the timer with the new interval */
        gd_set_tick(d, !d->fast);
        gd_log(GD_LOG_NOTICE,
               d->dry_run ? "policy reloaded from {source}: {workloads} workloads (dry run)"
                          : "policy reloaded from {source}: {workloads} workloads",
               GD_STR("source", pol_source_name(&d->policy_src.where)),
               GD_UINT("workloads", p->n_workloads));
        d->last_enforce_ms = 0; /* apply the new protections on the next tick */
        gd_daemon_ready(d);
}

/* Read the state of containers whose cgroups appeared (or are retried).
 * An identity read changes which workload a cgroup matches: the watch
 * set's cached matches are dropped, protections re-applied at once.
 * Returns true while reads are due before the next slow tick. */
static bool ident_tick(gd_daemon *d, uint64_t now) {
        if (!d->ids)
                return false;
        if (gd_idcache_next_ms(d->ids) <= now &&
            gd_idcache_tick(d->ids, now, IDENT_READS_PER_TICK) > 0) {
                /* The watch set's cursor keeps its last container's state:
                 * forget it, as the matches. */
                gd_ident_cursor_reset(d->watch_ids);
                gd_watch_policy_changed(&d->watch);
                d->last_enforce_ms = 0;
                gd_notice_idents(d->ids, d->kill_ids);
        }
        uint64_t next = gd_idcache_next_ms(d->ids);
        return next != UINT64_MAX && next < now + d->slow_tick_ms;
}

static void on_tick(gd_daemon *d, uint64_t now) {
        bool any_hot = false;
        /* Light checks once a second, whatever the tick (with slack: a
         * 1 s tick may be measured as 999 ms), of the cgroups due. */
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
                /* Each cgroup when its look is due (decide/look.h); every
                 * one while the host is hot: host-pressure blame wants the
                 * growth of all. The slack as for light_due. */
                if (light_due && (d->host_hot || now + FAST_TICK_MS / 2 >= c->next_look_ms))
                        hot = gd_watch_light_check(&d->watch, c, now) || hot;
                if (hot) {
                        gd_evaluate(d, c, now);
                        any_hot = any_hot || (c->in_use && now < c->hot_until_ms);
                }
        }
        bool ids_due = ident_tick(d, now);
        gd_evaluate_host(d, now);
        any_hot = gd_pending_tick(d, now) || any_hot;
        if (d->reload_pending && now >= d->reload_at_ms)
                reload_policy(d);
        gd_control_tick(&d->control, now);
        if (now - d->last_enforce_ms >= ENFORCE_MS) {
                d->last_enforce_ms = now;
                gd_enforce_pass(&d->host, d->policy, &d->watch, d->knobs, d->dry_run,
                                gd_notice_enforce, NULL);
        }
        gd_set_tick(d, any_hot || d->host_state.pressure_since_ms || d->host_hot ||
                            d->reload_pending || ids_due);
}

/* The event loop's handlers (loop.h), one per source; userdata is the
 * gd_daemon. */

static bool on_signal(void *userdata, uint64_t tag, uint32_t events, uint64_t now) {
        gd_daemon *d = userdata;
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
        gd_daemon *d = userdata;
        uint64_t expirations;

        if (read(d->timerfd, &expirations, sizeof(expirations)) < 0) {
                /* EAGAIN: already drained */
        }
        on_tick(d, now);
        return false;
}

static bool on_inotify(void *userdata, uint64_t tag, uint32_t events, uint64_t now) {
        gd_daemon *d = userdata;

        gd_watch_handle_inotify(&d->watch);
        return false;
}

/* memory.events changed or a PSI trigger fired, for one watched cgroup. */
static bool on_cgroup(void *userdata, uint64_t tag, uint32_t events, uint64_t now) {
        gd_daemon *d = userdata;

        d->stats.trigger_events[gd_tag_kind_of(tag) == GD_TAG_EVENTS ? GD_SOURCE_MEMORY_EVENTS
                                                                     : GD_SOURCE_PSI]++;
        gd_watched *c = gd_watch_lookup(&d->watch, tag);
        if (!c)
                return false;
        /* kernfs reports every change as PRI|ERR; a removed cgroup shows
         * as ENODEV when sampled. */
        c->hot_until_ms = now + 10000;
        gd_evaluate(d, c, now);
        gd_set_tick(d, true);
        return false;
}

static bool on_host_psi(void *userdata, uint64_t tag, uint32_t events, uint64_t now) {
        gd_daemon *d = userdata;

        d->stats.trigger_events[GD_SOURCE_HOST_PSI]++;
        gd_evaluate_host(d, now);
        gd_set_tick(d, true);
        return false;
}

static bool on_pidfd(void *userdata, uint64_t tag, uint32_t events, uint64_t now) {
        gd_daemon *d = userdata;

        /* Stale (NULL): that kill is over, and the slot may hold another
         * victim that is still alive. */
        gd_inflight *p = gd_kills_for_tag(&d->kills, tag);
        if (p && gd_act_exited(p->pidfd) == 1)
                gd_finish_pending(d, p, GD_END_EXITED, now);
        return false;
}

static bool on_policy(void *userdata, uint64_t tag, uint32_t events, uint64_t now) {
        gd_daemon *d = userdata;

        if (gd_policy_changed(&d->policy_src)) {
                d->reload_pending = true;
                d->reload_at_ms = now + RELOAD_DEBOUNCE_MS;
                gd_set_tick(d, true);
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
        gd_daemon *d = userdata;

        gd_notice_watch(&d->watch);
        gd_stats_loop(&d->stats, cost_ns);
}

/* Every source's handler on the loop. Clients are answered last: what the
 * kernel reported in the same wake-up goes first, and a wake-up renders at
 * most one document (control.h). */
void gd_loop_register(gd_daemon *d, gd_loop *l) {
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

