/* Decide: see decide.h for the contract and the triggers. Everything here is
 * arithmetic on samples the caller passes in (no I/O, no clock, no globals),
 * so the tests drive it with literal numbers and a fake clock.
 *
 * Conventions that hold throughout:
 *  - a comparison between two samples needs the field group ok in both;
 *    a group that was not read compares as "no change", which never fires;
 *  - sustained times are measured on the samples' own clock (at_ms), i.e.
 *    over what was actually observed; now_ms only gates the cooldown;
 *  - ratios are computed once and compared as value >= threshold, so the
 *    number in the log is exactly the one that crossed. */
#include "decide/decide.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>

#include "util/format.h"

void gd_thresholds_default(gd_thresholds *ret) {
        *ret = (gd_thresholds){
                /* 90% of the limit unreclaimable: reclaim has no room left to absorb a burst. */
                .limit_ratio = 0.90,
                /* 95% and growing: the next allocation burst meets memory.max. */
                .near_limit_ratio = 0.95,
                /* Reclaim spikes settle well under a second; 2 s of throttling is a livelock. */
                .high_sustain_ms = 2000,
                /* Some task stalled 40% of the time: the workload is visibly slowed. */
                .pressure_some = 0.40,
                /* Every task stalled is worse than some, so a lower share is enough. */
                .pressure_full = 0.20,
                /* Longer than a start-up refault storm, shorter than an OOM livelock. */
                .pressure_sustain_ms = 5000,
                /* Time for a victim's memory to come back and the counters to settle. */
                .cooldown_ms = 15000,
                /* A failed kill is mostly a race with exit: worth a quick retry. */
                .backoff_ms = 1000,
                /* A kill that keeps failing must not spin, nor be given up on. */
                .backoff_max_ms = 60000,
        };
}

static uint64_t add_sat(uint64_t a, uint64_t b) {
        return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* 0 in the state means "not running", so a timer started at time 0 (never
 * seen on CLOCK_MONOTONIC of a booted machine) starts at 1 ms instead. */
static uint64_t timer_start(uint64_t at_ms) {
        return at_ms ? at_ms : 1;
}

/* What the kernel cannot give back without swap: anon, kernel memory and
 * shmem/tmpfs (which memory.stat counts inside "file"). Assumes no swap, as
 * on most container hosts; with swap this overstates, i.e. acts earlier.
 * Clamped: memory.stat and memory.current are read at different instants. */
static uint64_t unreclaimable(const gd_sample *s) {
        uint64_t reclaimable = s->file > s->shmem ? s->file - s->shmem : 0;
        return s->current - (reclaimable < s->current ? reclaimable : s->current);
}

/* A limit of 0 bytes (memory.max = 0) counts as full whatever is in use. */
static double ratio(uint64_t part, uint64_t whole) {
        return whole ? (double)part / (double)whole : 1.0;
}

double gd_psi_share(uint64_t prev_total_us, uint64_t total_us, uint64_t elapsed_ms) {
        /* A total that went down is a new cgroup under the old name (or a
         * bad read): the delta means nothing. */
        if (elapsed_ms == 0 || total_us < prev_total_us)
                return -1.0;
        double share = (double)(total_us - prev_total_us) / ((double)elapsed_ms * 1000.0);
        /* Stall time is accounted when a stall ends, so one interval can be
         * credited with more than its length. */
        return share > 1.0 ? 1.0 : share;
}

/* The PSI shares of the interval prev..s; negative when unknown. */
typedef struct psi_interval {
        double some, full;
        bool some_above, full_above;
} psi_interval;

static psi_interval psi_measure(const gd_thresholds *t, const gd_sample *p, const gd_sample *s) {
        psi_interval pi = { .some = -1.0, .full = -1.0 };
        uint64_t elapsed = s->at_ms - p->at_ms;

        if (!p->psi_ok || !s->psi_ok)
                return pi;
        pi.some = gd_psi_share(p->psi.some.total_us, s->psi.some.total_us, elapsed);
        if (p->psi.has_full && s->psi.has_full)
                pi.full = gd_psi_share(p->psi.full.total_us, s->psi.full.total_us, elapsed);
        pi.some_above = pi.some >= 0 && pi.some >= t->pressure_some;
        pi.full_above = pi.full >= 0 && pi.full >= t->pressure_full;
        return pi;
}

/* A task over memory.high sleeps in mem_cgroup_handle_over_high() for up
 * to 2 s (MEMCG_MAX_HIGH_DELAY_JIFFIES) between allocations, so samples
 * taken meanwhile see no new "high" event: a quiet gap up to this long is
 * still the same episode of throttling. */
#define HIGH_QUIET_GAP_MS 2500

/* Over 100 ms intervals the stall share is noisy: one short interval
 * below the threshold inside a long stall is not its end. A dip longer
 * than this is. */
#define PRESSURE_QUIET_GAP_MS 500

/* "high" rising over a real memory.high in this interval. memory.events is
 * hierarchical, so without our own memory.high the rise is a child's. */
static bool high_rising(const gd_sample *p, const gd_sample *s) {
        return p->events_ok && s->events_ok && s->events.high > p->events.high &&
               s->memory_ok && s->high != CG_UNLIMITED;
}

static bool check_limit(const gd_thresholds *t, const gd_sample *p, const gd_sample *s,
                        gd_decision *d) {
        char rises[96] = "", un[16], mx[16];
        int n = 0;

        if (!p->events_ok || !s->events_ok || !s->memory_ok || !s->stat_ok ||
            s->max == CG_UNLIMITED)
                return false;
        /* The kernel's own oom/oom_kill rising means it already hit the wall. */
        const struct {
                const char *name;
                uint64_t before, now;
        } counters[] = {
                { "max", p->events.max, s->events.max },
                { "oom", p->events.oom, s->events.oom },
                { "oom_kill", p->events.oom_kill, s->events.oom_kill },
        };
        for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
                if (counters[i].now > counters[i].before && n >= 0 && (size_t)n < sizeof(rises))
                        n += snprintf(rises + n, sizeof(rises) - (size_t)n, "%s%s +%" PRIu64,
                                      n ? " " : "", counters[i].name,
                                      counters[i].now - counters[i].before);
        if (n == 0)
                return false;

        uint64_t unrecl = unreclaimable(s);
        double v = ratio(unrecl, s->max);
        if (v < t->limit_ratio)
                return false;
        d->trigger = GD_TRIGGER_LIMIT;
        d->value = v;
        d->threshold = t->limit_ratio;
        d->sustained_ms = 0;
        snprintf(d->reason, sizeof(d->reason),
                 "memory.events %s, unreclaimable %s of memory.max %s (%.0f%%)", rises,
                 gd_format_bytes(unrecl, un, sizeof(un)), gd_format_bytes(s->max, mx, sizeof(mx)), v * 100);
        return true;
}

static bool check_near_limit(const gd_thresholds *t, const gd_sample *p, const gd_sample *s,
                             gd_decision *d) {
        char cur[16], mx[16], grow[16], un[16];

        if (!p->memory_ok || !s->memory_ok || !s->stat_ok || s->max == CG_UNLIMITED ||
            s->current <= p->current)
                return false;
        double v = ratio(s->current, s->max);
        uint64_t unrecl = unreclaimable(s);
        double uv = ratio(unrecl, s->max);
        if (v < t->near_limit_ratio || uv < t->limit_ratio)
                return false;
        d->trigger = GD_TRIGGER_NEAR_LIMIT;
        d->value = v;
        d->threshold = t->near_limit_ratio;
        d->sustained_ms = 0;
        snprintf(d->reason, sizeof(d->reason),
                 "memory.current %s of memory.max %s (%.0f%%), +%s in %.1fs, "
                 "unreclaimable %s (%.0f%%)",
                 gd_format_bytes(s->current, cur, sizeof(cur)), gd_format_bytes(s->max, mx, sizeof(mx)), v * 100,
                 gd_format_bytes(s->current - p->current, grow, sizeof(grow)),
                 (double)(s->at_ms - p->at_ms) / 1000.0, gd_format_bytes(unrecl, un, sizeof(un)),
                 uv * 100);
        return true;
}

/* Free memory running out at its trend: a squeeze caught as it crosses
 * exhaustion_free_ratio, while a host that sits steady as full (trend
 * near 0) is left alone. */
static bool check_exhaustion(const gd_thresholds *t, const gd_cgroup_state *st,
                             const gd_sample *s, gd_decision *d) {
        char fr[16], mx[16], rate[16];

        if (t->exhaustion_free_ratio <= 0 || !s->memory_ok || s->max == CG_UNLIMITED ||
            s->max == 0 || st->rate_bps <= 0)
                return false;
        uint64_t free = s->current < s->max ? s->max - s->current : 0;
        double share = ratio(free, s->max);
        double left_ms = (double)free / st->rate_bps * 1000.0;
        if (share >= t->exhaustion_free_ratio || left_ms >= (double)t->exhaustion_horizon_ms)
                return false;
        d->trigger = GD_TRIGGER_NEAR_LIMIT;
        d->value = 1.0 - share;
        d->threshold = 1.0 - t->exhaustion_free_ratio;
        d->sustained_ms = 0;
        snprintf(d->reason, sizeof(d->reason),
                 "free %s of %s (%.0f%%), falling %s/s: gone in %.1fs",
                 gd_format_bytes(free, fr, sizeof(fr)), gd_format_bytes(s->max, mx, sizeof(mx)),
                 share * 100, gd_format_bytes((uint64_t)st->rate_bps, rate, sizeof(rate)),
                 left_ms / 1000.0);
        return true;
}

/* Move the trend towards the rate between p and s (an exponential average
 * over time, GD_TREND_TAU_MS). */
static void trend(gd_cgroup_state *st, const gd_sample *p, const gd_sample *s) {
        if (!p->memory_ok || !s->memory_ok || s->at_ms <= p->at_ms) {
                if (!s->memory_ok)
                        st->rate_bps = 0; /* unread: vouch for nothing */
                return;
        }
        double dt = (double)(s->at_ms - p->at_ms);
        double inst = ((double)s->current - (double)p->current) * 1000.0 / dt;
        double alpha = dt >= GD_TREND_TAU_MS ? 1.0 : dt / GD_TREND_TAU_MS;
        st->rate_bps += alpha * (inst - st->rate_bps);
}

static bool check_pressure(const gd_thresholds *t, const gd_cgroup_state *st,
                           const psi_interval *pi, const gd_sample *p, const gd_sample *s,
                           gd_decision *d) {
        /* Fire on an interval that is itself above: the episode may have
         * bridged a short dip, the decision does not. */
        if (st->pressure_since_ms == 0 || !(pi->some_above || pi->full_above))
                return false;
        uint64_t held = s->at_ms - st->pressure_since_ms;
        if (held < t->pressure_sustain_ms)
                return false;
        /* Report "full" when it crossed: every task stalled is the stronger
         * evidence of the two. */
        bool full = pi->full_above;
        d->trigger = GD_TRIGGER_PRESSURE;
        d->value = full ? pi->full : pi->some;
        d->threshold = full ? t->pressure_full : t->pressure_some;
        d->sustained_ms = held;
        snprintf(d->reason, sizeof(d->reason),
                 "PSI %s %.0f%% of the last %.1fs, at or above %.0f%% for %.1fs (sustain %.1fs)",
                 full ? "full" : "some", d->value * 100, (double)(s->at_ms - p->at_ms) / 1000.0,
                 d->threshold * 100, (double)held / 1000.0,
                 (double)t->pressure_sustain_ms / 1000.0);
        return true;
}

static bool check_high(const gd_thresholds *t, const gd_cgroup_state *st, const gd_sample *p,
                       const gd_sample *s, gd_decision *d) {
        char un[16], hi[16];

        /* The timer also runs through a quiet gap, so this sample itself
         * must have been read in full, with a real memory.high. */
        if (st->high_rising_since_ms == 0 || !s->stat_ok || !s->events_ok || !s->memory_ok ||
            s->high == CG_UNLIMITED)
                return false;
        uint64_t held = s->at_ms - st->high_rising_since_ms;
        if (held < t->high_sustain_ms)
                return false;
        uint64_t unrecl = unreclaimable(s);
        double v = ratio(unrecl, s->high);
        if (v < t->limit_ratio)
                return false;
        d->trigger = GD_TRIGGER_HIGH;
        d->value = v;
        d->threshold = t->limit_ratio;
        d->sustained_ms = held;
        snprintf(d->reason, sizeof(d->reason),
                 "memory.events high rising for %.1fs (+%" PRIu64 " in the last %.1fs), "
                 "unreclaimable %s of memory.high %s (%.0f%%)",
                 (double)held / 1000.0,
                 p->events_ok && s->events.high > p->events.high ? s->events.high - p->events.high
                                                                 : 0,
                 (double)(s->at_ms - p->at_ms) / 1000.0, gd_format_bytes(unrecl, un, sizeof(un)),
                 gd_format_bytes(s->high, hi, sizeof(hi)), v * 100);
        return true;
}

gd_decision gd_decide(const gd_thresholds *t, gd_cgroup_state *state, const gd_sample *sample,
                      uint64_t now_ms) {
        const gd_decision none = { .action = POL_ACTION_NONE, .trigger = GD_TRIGGER_NONE };
        gd_decision d = none;

        if (!state->have_prev) {
                /* Nothing to compare with yet: every trigger needs two samples. */
                state->prev = *sample;
                state->have_prev = true;
                state->high_rising_since_ms = 0;
                state->pressure_since_ms = 0;
                return none;
        }
        /* A duplicate, or a clock that went backwards: no new information, and
         * a negative interval would corrupt every delta. Leave the state be. */
        if (sample->at_ms <= state->prev.at_ms)
                return none;

        const gd_sample *p = &state->prev;

        /* The sustain timers run whether or not we may act (cooldown), so a
         * trigger that holds through the cooldown fires right after it. A
         * timer starts at the previous sample: the interval that showed the
         * condition began there. */
        if (high_rising(p, sample)) {
                if (state->high_rising_since_ms == 0)
                        state->high_rising_since_ms = timer_start(p->at_ms);
                state->last_high_rise_ms = sample->at_ms;
        } else if (!sample->events_ok ||
                   sample->at_ms - state->last_high_rise_ms > HIGH_QUIET_GAP_MS) {
                /* An unread sample breaks the episode: we cannot vouch for it. */
                state->high_rising_since_ms = 0;
        }
        /* The kernel's OOM killer just killed here: its victim's memory is
         * on its way back (exit_mm() detaches it before freeing it, so the
         * victim may already be out of /proc while memory.current is still
         * at the wall). A kill is a kill: the sustain timers start afresh,
         * as after one of ours, and nothing fires until a sample taken
         * after the memory had time to return. */
        if (p->events_ok && sample->events_ok && sample->events.oom_kill > p->events.oom_kill) {
                state->kernel_kill_ms = sample->at_ms;
                state->high_rising_since_ms = 0;
                state->pressure_since_ms = 0;
        }
        psi_interval pi = psi_measure(t, p, sample);
        if (pi.some_above || pi.full_above) {
                if (state->pressure_since_ms == 0)
                        state->pressure_since_ms = timer_start(p->at_ms);
                state->last_pressure_above_ms = sample->at_ms;
        } else if (!sample->psi_ok ||
                   sample->at_ms - state->last_pressure_above_ms > PRESSURE_QUIET_GAP_MS) {
                state->pressure_since_ms = 0;
        }

        /* Precedence: the nearer the kernel's OOM killer, the more specific the
         * reason; the first that holds is reported. */
        trend(state, p, sample);
        bool fired = check_limit(t, p, sample, &d) || check_near_limit(t, p, sample, &d) ||
                     check_exhaustion(t, state, sample, &d) ||
                     check_pressure(t, state, &pi, p, sample, &d) ||
                     check_high(t, state, p, sample, &d);

        /* Stored as read: a group not ok stays not ok, and the next sample
         * will not compare against it. */
        state->prev = *sample;

        if (!fired || now_ms < state->quiet_until_ms)
                return none;
        if (state->kernel_kill_ms && sample->at_ms - state->kernel_kill_ms < GD_KERNEL_KILL_SETTLE_MS)
                return none;
        d.action = sample->oom_group ? POL_ACTION_KILL_CGROUP : POL_ACTION_KILL_PROCESS;
        return d;
}

/* backoff_ms * 2^(failures-1), capped, without ever shifting past the top. */
static uint64_t backoff(const gd_thresholds *t, unsigned failures) {
        unsigned shift = failures ? failures - 1 : 0;

        if (t->backoff_ms >= t->backoff_max_ms)
                return t->backoff_max_ms;
        if (shift >= 64 || t->backoff_ms > (t->backoff_max_ms >> shift))
                return t->backoff_max_ms;
        return t->backoff_ms << shift;
}

bool gd_decide_still_holds(const gd_decision *d, uint64_t current, uint64_t max) {
        if (d->trigger != GD_TRIGGER_LIMIT && d->trigger != GD_TRIGGER_NEAR_LIMIT)
                return true;
        if (current == UINT64_MAX || max == CG_UNLIMITED || max == 0)
                return true;
        /* memory.current bounds the unreclaimable part the limit trigger
         * measures: below the threshold, neither trigger would fire now. */
        return ratio(current, max) >= d->threshold;
}

void gd_decide_record(const gd_thresholds *t, gd_cgroup_state *state, bool success,
                      uint64_t now_ms) {
        state->last_action_ms = now_ms;
        if (success) {
                state->failed_actions = 0;
                state->quiet_until_ms = add_sat(now_ms, t->cooldown_ms);
                /* The victim is gone: what held before says nothing about the
                 * cgroup now, so a sustained trigger must hold afresh. */
                state->high_rising_since_ms = 0;
                state->pressure_since_ms = 0;
                return;
        }
        /* A failed kill keeps the timers: the trouble is still there, and the
         * retry after the back-off should not wait out a whole sustain. */
        if (state->failed_actions < UINT_MAX)
                state->failed_actions++;
        state->quiet_until_ms = add_sat(now_ms, backoff(t, state->failed_actions));
}

long gd_blame_pick(const gd_blame_candidate *cands, size_t n) {
        long best = -1;
        uint64_t best_blame = 0;

        for (size_t i = 0; i < n; i++) {
                const gd_blame_candidate *c = &cands[i];
                if (c->protected_cgroup || c->n_killable == 0)
                        continue;
                uint64_t over = c->current > c->protection ? c->current - c->protection : 0;
                uint64_t growth = c->growth;
                if (!growth && c->prev_current && c->current > c->prev_current)
                        growth = c->current - c->prev_current;
                /* Growth weighs more than size: under host pressure the
                 * cgroup that is growing is the cause, the large one that
                 * holds steady is not. */
                uint64_t weighted = growth > UINT64_MAX / GD_BLAME_GROWTH_WEIGHT
                                            ? UINT64_MAX
                                            : growth * GD_BLAME_GROWTH_WEIGHT;
                uint64_t blame = add_sat(over, weighted);
                /* Strictly greater: ties go to the lowest index, a stable order. */
                if (blame > best_blame) {
                        best_blame = blame;
                        best = (long)i;
                }
        }
        return best;
}

const char *gd_trigger_name(gd_trigger trigger) {
        switch (trigger) {
        case GD_TRIGGER_NONE:
                return "none";
        case GD_TRIGGER_LIMIT:
                return "limit";
        case GD_TRIGGER_NEAR_LIMIT:
                return "near-limit";
        case GD_TRIGGER_HIGH:
                return "high";
        case GD_TRIGGER_PRESSURE:
                return "pressure";
        case GD_TRIGGER_HOST_PRESSURE:
                return "host-pressure";
        }
        return "unknown";
}

pol_action gd_decide_route(pol_action decided, pol_action workload) {
        if (decided == POL_ACTION_NONE)
                return POL_ACTION_NONE;
        if (workload == POL_ACTION_NOTIFY)
                return POL_ACTION_NOTIFY;
        if (decided == POL_ACTION_KILL_CGROUP || workload == POL_ACTION_KILL_CGROUP)
                return POL_ACTION_KILL_CGROUP;
        return POL_ACTION_KILL_PROCESS;
}
