/* Shared helpers for the decision unit tests (tests/unit/test_decide_*.c):
 * a fixed memory.max with ratio edges that land on whole bytes, a calm
 * fully-read sample to start from, a feed() that decides with now == the
 * sample's time, the two assertions every trigger test makes, and a
 * throttled-at-memory.high sample.
 *
 * Header-only (static inline) so each test file gets its own copy and an
 * unused helper does not trip -Wunused-function. */
#pragma once

#include <criterion/criterion.h>
#include <stdint.h>

#include "decide/decide.h"

/* Sizes: MAX = 1000 MiB so that 0.90 and 0.95 of it are whole bytes and the
 * edges can be hit exactly. */
#define MIB (1024ULL * 1024)
#define MAX (1000 * MIB)
#define AT_LIMIT (900 * MIB) /* limit_ratio 0.90 of MAX */
#define AT_NEAR (950 * MIB)  /* near_limit_ratio 0.95 of MAX */

static inline gd_thresholds defaults(void) {
        gd_thresholds t;
        gd_thresholds_default(&t);
        return t;
}

/* A calm cgroup, everything read: half full, no cache, no events, no stall. */
static inline gd_sample calm(uint64_t at) {
        return (gd_sample){
                .at_ms = at,
                .events_ok = true,
                .memory_ok = true,
                .current = 500 * MIB,
                .max = MAX,
                .high = CG_UNLIMITED,
                .stat_ok = true,
                .psi_ok = true,
                .psi = { .has_full = true },
        };
}

/* Feed with now == the sample's time, as the daemon does. */
static inline gd_decision feed(const gd_thresholds *t, gd_cgroup_state *st, const gd_sample *s) {
        return gd_decide(t, st, s, s->at_ms);
}

static inline void assert_none(gd_decision d) {
        cr_assert_eq(d.action, POL_ACTION_NONE, "action %s (%s): %s", pol_action_name(d.action),
                     gd_trigger_name(d.trigger), d.reason);
        cr_assert_eq(d.trigger, GD_TRIGGER_NONE, "trigger %s: %s", gd_trigger_name(d.trigger),
                     d.reason);
}

static inline void assert_fires(gd_decision d, gd_trigger trigger) {
        cr_assert_eq(d.trigger, trigger, "trigger %s, want %s: %s", gd_trigger_name(d.trigger),
                     gd_trigger_name(trigger), d.reason);
        cr_assert_eq(d.action, POL_ACTION_KILL_PROCESS, "action %s", pol_action_name(d.action));
        cr_assert_geq(d.value, d.threshold, "value %g below threshold %g", d.value, d.threshold);
        cr_assert_neq(d.reason[0], '\0', "a firing decision explains itself");
}

/* memory.high at 1000 MiB (no memory.max, so LIMIT/NEAR_LIMIT stay out),
 * usage at 90% of it, all unreclaimable; "high" +rise per sample. */
static inline gd_sample throttled(uint64_t at, uint64_t high_events) {
        gd_sample s = calm(at);
        s.max = CG_UNLIMITED;
        s.high = MAX;
        s.current = AT_LIMIT;
        s.events.high = high_events;
        return s;
}
